//! Wrapper for `keyproof::record`: `KeyRecord`, `Owner`, `Rotation`. Dicts and JSON
//! go through the core's serde schema; timestamps are aware UTC datetimes.

use chrono::TimeDelta;
use keyproof::{ErrorKind, KeyRecord as CoreRecord};
use pyo3::prelude::*;

use crate::convert::{
    datetime_to_py, json_text_to_py, json_to_py, now_or, opt_datetime_to_py, py_to_json, q, q_opt, serde_name,
};
use crate::errors::to_py_err;

/// Who owns a key.
#[pyclass(name = "Owner", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Owner {
    pub(crate) inner: keyproof::Owner,
}

#[pymethods]
impl Owner {
    #[new]
    #[pyo3(signature = (organization=None, workspace=None, profile=None))]
    fn new(organization: Option<String>, workspace: Option<String>, profile: Option<String>) -> Self {
        Self { inner: keyproof::Owner { organization, workspace, profile } }
    }
    #[getter]
    fn organization(&self) -> Option<&str> {
        self.inner.organization.as_deref()
    }
    #[getter]
    fn workspace(&self) -> Option<&str> {
        self.inner.workspace.as_deref()
    }
    #[getter]
    fn profile(&self) -> Option<&str> {
        self.inner.profile.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "Owner(organization={}, workspace={}, profile={})",
            q_opt(self.inner.organization.as_deref()),
            q_opt(self.inner.workspace.as_deref()),
            q_opt(self.inner.profile.as_deref())
        )
    }
}

/// A key's rotation: replaced by another key, valid until `grace_until`.
#[pyclass(name = "Rotation", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Rotation {
    inner: keyproof::Rotation,
}

#[pymethods]
impl Rotation {
    #[getter]
    fn replaced_by(&self) -> Option<&str> {
        self.inner.replaced_by.as_deref()
    }
    #[getter]
    fn rotated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        opt_datetime_to_py(py, self.inner.rotated_at.as_ref())
    }
    #[getter]
    fn grace_until<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_to_py(py, &self.inner.grace_until)
    }
    fn __repr__(&self) -> String {
        format!(
            "Rotation(replaced_by={}, grace_until={})",
            q_opt(self.inner.replaced_by.as_deref()),
            q(&keyproof::timestamp::format_timestamp(&self.inner.grace_until))
        )
    }
}

/// One stored API key: only its hash, never the key. Immutable: the lifecycle
/// methods return an updated copy.
#[pyclass(name = "KeyRecord", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct KeyRecord {
    pub(crate) inner: CoreRecord,
}

impl KeyRecord {
    pub(crate) fn wrap(inner: CoreRecord) -> Self {
        Self { inner }
    }

    fn changed_copy(&self, change: impl FnOnce(&mut CoreRecord) -> keyproof::Result<()>) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        change(&mut inner).map_err(to_py_err)?;
        Ok(Self { inner })
    }
}

/// Extracts a record given as a `KeyRecord`, a dict, or JSON text.
pub(crate) fn record_from_py(obj: &Bound<'_, PyAny>) -> PyResult<CoreRecord> {
    if let Ok(r) = obj.cast::<KeyRecord>() {
        return Ok(r.get().inner.clone());
    }
    if let Ok(text) = obj.extract::<String>() {
        return CoreRecord::from_json(&text).map_err(to_py_err);
    }
    CoreRecord::from_json(&py_to_json(obj)?.to_string()).map_err(to_py_err)
}

#[pymethods]
impl KeyRecord {
    /// Loads and validates a record from JSON text (unknown fields are rejected).
    #[staticmethod]
    fn from_json(json: String) -> PyResult<Self> {
        CoreRecord::from_json(&json).map(Self::wrap).map_err(to_py_err)
    }

    /// Loads and validates a record from a JSON-shaped dict (datetimes are accepted too).
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !data.hasattr("items")? {
            return Err(to_py_err(keyproof::Error::new(ErrorKind::InvalidRecord, "a record must be a mapping")));
        }
        CoreRecord::from_json(&py_to_json(data)?.to_string()).map(Self::wrap).map_err(to_py_err)
    }

    /// The record as JSON text, in the core schema.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The record as a JSON-shaped dict (timestamps as RFC 3339 strings).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &self.inner.to_json())
    }

    /// A copy revoked at `now` (default: the current time).
    #[pyo3(signature = (now=None))]
    fn revoked(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let now = now_or(now)?;
        self.changed_copy(|r| r.revoke(now).map(drop))
    }

    /// A copy disabled at `now`.
    #[pyo3(signature = (now=None))]
    fn disabled(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let now = now_or(now)?;
        self.changed_copy(|r| r.disable(now).map(drop))
    }

    /// A copy enabled again at `now` (revoked keys stay revoked: ConfigError).
    #[pyo3(signature = (now=None))]
    fn enabled(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let now = now_or(now)?;
        self.changed_copy(|r| r.enable(now).map(drop))
    }

    /// A copy with `changes` applied (a dict or JSON text: name, scopes, role,
    /// allowed_ips, expires_at, plan, features, metadata, client_id; `None`
    /// clears an optional field). Every field is validated; revoked keys refuse.
    #[pyo3(signature = (changes, now=None))]
    fn updated(&self, changes: &Bound<'_, PyAny>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let now = now_or(now)?;
        let text = match changes.extract::<String>() {
            Ok(text) => text,
            Err(_) => py_to_json(changes)?.to_string(),
        };
        let update = keyproof::RecordUpdate::from_json(&text).map_err(to_py_err)?;
        self.changed_copy(|r| r.update(&update, now).map(drop))
    }

    /// A copy replaced by `replaced_by`, still valid for `grace` (default 24 hours).
    #[pyo3(signature = (replaced_by, grace=None, now=None))]
    fn rotated(&self, replaced_by: String, grace: Option<TimeDelta>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let now = now_or(now)?;
        let grace = grace.unwrap_or_else(keyproof::lifecycle::default_rotation_grace);
        self.changed_copy(|r| r.rotate(&replaced_by, now, grace))
    }

    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The tagged storage hash. Never shown by `repr`.
    #[getter]
    fn hash(&self) -> &str {
        &self.inner.hash
    }
    #[getter]
    fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }
    #[getter]
    fn preview(&self) -> &str {
        &self.inner.preview
    }
    #[getter]
    fn format(&self) -> &str {
        &self.inner.format
    }
    #[getter]
    fn environment(&self) -> &str {
        &self.inner.environment
    }
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }
    #[getter]
    fn owner(&self) -> Owner {
        Owner { inner: self.inner.owner.clone() }
    }
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.inner.client_id.as_deref()
    }
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.inner.scopes.clone()
    }
    #[getter]
    fn role(&self) -> Option<&str> {
        self.inner.role.as_deref()
    }
    #[getter]
    fn status(&self) -> String {
        serde_name(&self.inner.status)
    }
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_to_py(py, &self.inner.created_at)
    }
    #[getter]
    fn updated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime_to_py(py, &self.inner.updated_at)
    }
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        opt_datetime_to_py(py, self.inner.expires_at.as_ref())
    }
    #[getter]
    fn revoked_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        opt_datetime_to_py(py, self.inner.revoked_at.as_ref())
    }
    #[getter]
    fn rotation(&self) -> Option<Rotation> {
        self.inner.rotation.clone().map(|inner| Rotation { inner })
    }
    /// IP allowlist entries as CIDR strings.
    #[getter]
    fn allowed_ips(&self) -> Vec<String> {
        self.inner.allowed_ips.iter().map(ToString::to_string).collect()
    }
    #[getter]
    fn plan(&self) -> Option<&str> {
        self.inner.plan.as_deref()
    }
    #[getter]
    fn features(&self) -> Vec<String> {
        self.inner.features.clone()
    }
    /// Application data (a fresh dict each time).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let map: serde_json::Map<String, serde_json::Value> =
            self.inner.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        json_to_py(py, &serde_json::Value::Object(map))
    }

    fn __repr__(&self) -> String {
        format!(
            "KeyRecord(id={}, name={}, preview={}, status={})",
            q(&self.inner.id),
            q(&self.inner.name),
            q(&self.inner.preview),
            q(&serde_name(&self.inner.status))
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<KeyRecord>()?;
    m.add_class::<Owner>()?;
    m.add_class::<Rotation>()?;
    Ok(())
}
