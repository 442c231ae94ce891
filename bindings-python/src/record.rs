//! Key records: `KeyRecord`, `Owner`, `Rotation`, minted by `mint()` (a
//! `MintedKey`); every change goes through core's lifecycle (rotate, revoke,
//! disable, enable, update). Timestamps are aware UTC datetimes.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use keyproof::{ErrorKind, KeyRecord as CoreRecord, MintOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{load, now_or, random_or_urandom, Text};
use crate::errors::{refuse, to_py_err};
use crate::format::{format_arg, Hasher};
use crate::verification::Charge;

wrap! {
    /// Who owns a key.
    #[derive(Clone, PartialEq)]
    Owner(keyproof::Owner) [eq] repr(organization, workspace, profile) fields(organization, workspace, profile) |o| {}
}

#[pymethods]
impl Owner {
    #[new]
    #[pyo3(signature = (organization=None, workspace=None, profile=None))]
    fn new(organization: Option<String>, workspace: Option<String>, profile: Option<String>) -> Self {
        Self { inner: keyproof::Owner { organization, workspace, profile } }
    }
}

wrap! {
    /// A key's rotation: replaced by another key, valid until `grace_until`.
    #[derive(Clone, PartialEq)]
    Rotation(keyproof::Rotation) [eq] repr(replaced_by, grace_until) fields(replaced_by) |r| {
        rotated_at: Option<DateTime<Utc>> = r.rotated_at;
        grace_until: DateTime<Utc> = r.grace_until;
    }
}

wrap! {
    /// One stored API key: only its hash, never the key. Immutable: the lifecycle
    /// methods return an updated copy. Shared with the decisions that accept it
    /// (an `Arc`), so a lookup answering with a cached `KeyRecord` copies nothing.
    #[derive(Clone, PartialEq)]
    KeyRecord(Arc<CoreRecord>) [eq] repr(id, name, preview, status) fields(id, name, hash, fingerprint, preview, format,
        environment, kind, client_id, scopes, role, status, allowed_ips, allowed_origins, plan, rate_limits, usage_limit, features, metadata, request_count) |r| {
        owner: Owner = Owner { inner: r.owner.clone() };
        created_at: DateTime<Utc> = r.created_at;
        updated_at: DateTime<Utc> = r.updated_at;
        expires_at: Option<DateTime<Utc>> = r.expires_at;
        revoked_at: Option<DateTime<Utc>> = r.revoked_at;
        rotation: Option<Rotation> = r.rotation.clone().map(|inner| Rotation { inner });
        last_used_at: Option<DateTime<Utc>> = r.last_used_at;
    }
}

impl KeyRecord {
    fn settled(
        &self,
        settlement: keyproof::Settlement,
        units: &Bound<'_, PyAny>,
        state: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Charge>> {
        let (units, state, now) = (crate::engine::units(units)?, crate::values::state_arg(state)?, now_or(now)?);
        Ok(self.inner.settle(settlement, state, units, now).map(|inner| Charge { inner }))
    }

    fn changed(
        &self,
        now: Option<&Bound<'_, PyAny>>,
        change: impl FnOnce(&mut CoreRecord, DateTime<Utc>) -> keyproof::Result<()>,
    ) -> PyResult<Self> {
        let (mut inner, now) = (CoreRecord::clone(&self.inner), now_or(now)?);
        change(&mut inner, now).map_err(to_py_err)?;
        Ok(Self { inner: Arc::new(inner) })
    }
}

/// A record given as a `KeyRecord` (shared, not copied), a dict, JSON text, or `None`.
pub(crate) fn record_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<CoreRecord>>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(obj) => match obj.cast::<KeyRecord>() {
            Ok(r) => Ok(Some(Arc::clone(&r.get().inner))),
            Err(_) => load(obj).map(|r| Some(Arc::new(r))),
        },
    }
}

impl From<CoreRecord> for KeyRecord {
    fn from(record: CoreRecord) -> Self {
        Self { inner: Arc::new(record) }
    }
}

fn shared(record: CoreRecord) -> PyResult<Arc<CoreRecord>> {
    Ok(Arc::new(record))
}

loads!(KeyRecord => shared);
dumps!(KeyRecord, Owner);

#[pymethods]
impl KeyRecord {
    /// What the key has left of its usage limit at `now`, given the state stored
    /// under the counter's key (None: nothing spent), or None without a limit.
    /// Ask with no state to learn the counter's `key` (`Verifier.usage` does both).
    #[pyo3(signature = (state=None, now=None))]
    fn usage(
        &self,
        state: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<crate::engine::RateLimitDecision>> {
        let (state, now) = (crate::values::state_arg(state)?, now_or(now)?);
        Ok(self.inner.usage(state, now).map(|inner| crate::engine::RateLimitDecision { inner }))
    }

    /// Charges `units` to the key's usage limit after the fact (what was left is
    /// spent, the rest is `unpaid`), given the state stored under the counter's
    /// key: a `Charge` whose `write` the host compare-and-sets, or None without a
    /// limit. `Verifier.charge` does the read and the write.
    #[pyo3(signature = (units, state=None, now=None))]
    fn charge(
        &self,
        units: &Bound<'_, PyAny>,
        state: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Charge>> {
        self.settled(keyproof::Settlement::Charge, units, state, now)
    }

    /// Gives back `units` of what the key spent this period (at most that; the rest
    /// is `unpaid`), as `charge` does otherwise. `Verifier.refund` does the read and the write.
    #[pyo3(signature = (units, state=None, now=None))]
    fn refund(
        &self,
        units: &Bound<'_, PyAny>,
        state: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Charge>> {
        self.settled(keyproof::Settlement::Refund, units, state, now)
    }

    /// A copy revoked at `now` (default: the current time).
    #[pyo3(signature = (now=None))]
    fn revoked(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        self.changed(now, |r, now| r.revoke(now).map(drop))
    }

    /// A copy disabled at `now`.
    #[pyo3(signature = (now=None))]
    fn disabled(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        self.changed(now, |r, now| r.disable(now).map(drop))
    }

    /// A copy enabled again at `now` (revoked keys stay revoked: `invalid_transition`).
    #[pyo3(signature = (now=None))]
    fn enabled(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        self.changed(now, |r, now| r.enable(now).map(drop))
    }

    /// A copy with `changes` applied (a dict or JSON text: name, scopes, role,
    /// allowed_ips, allowed_origins, expires_at, plan, features, metadata, client_id; `None`
    /// clears an optional field). Core validates every field; revoked keys refuse.
    #[pyo3(signature = (changes, now=None))]
    fn updated(&self, changes: &Bound<'_, PyAny>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let update: keyproof::RecordUpdate = load(changes)?;
        self.changed(now, |r, now| r.update(&update, now).map(drop))
    }

    /// A copy replaced by the record `replaced_by`, still valid for `grace`
    /// (a `timedelta`; default: core's rotation grace, 24 hours).
    #[pyo3(signature = (replaced_by, grace=None, now=None))]
    fn rotated(
        &self,
        replaced_by: Text,
        grace: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let grace = grace_arg(grace)?.unwrap_or_else(keyproof::lifecycle::default_rotation_grace);
        self.changed(now, |r, now| r.rotate(&replaced_by, now, grace))
    }
}

/// A rotation grace period from Python: a `timedelta`, or None for the default.
pub(crate) fn grace_arg(grace: Option<&Bound<'_, PyAny>>) -> PyResult<Option<TimeDelta>> {
    grace
        .filter(|g| !g.is_none())
        .map(|g| {
            g.extract::<TimeDelta>().map_err(|_| {
                refuse(ErrorKind::InvalidTransition, "the rotation grace must be a datetime.timedelta within range")
            })
        })
        .transpose()
}

wrap! {
    /// A freshly minted key: show `.key` once, store `.record`. `repr` shows the preview only.
    MintedKey(keyproof::MintedKey) [] repr(preview) |m| {
        key: &str = m.key.expose();
        record: KeyRecord = m.record.clone().into();
        preview: &str = &m.record.preview;
    }
}

/// Mints a key of `format` (a `Format` or preset id). `options` is a dict of the
/// core's mint options; keyword arguments (`name`, `scopes`, `id`, `owner` …) set
/// or override its fields (`None` leaves a field alone; `id_style` may be a style
/// name). Randomness defaults to `os.urandom(32)`, `now` to the current UTC time.
#[pyfunction]
#[pyo3(signature = (format, options=None, *, hasher=None, random_bytes=None, now=None, **fields))]
pub(crate) fn mint(
    py: Python<'_>,
    format: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyAny>>,
    hasher: Option<&Hasher>,
    random_bytes: Option<Vec<u8>>,
    now: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyDict>>,
) -> PyResult<MintedKey> {
    let format = format_arg(format)?;
    let options = mint_options(py, options, fields)?;
    let (now, random) = (now_or(now)?, random_or_urandom(py, random_bytes)?);
    let default_hasher = keyproof::Hasher::default();
    let hasher = hasher.map_or(&default_hasher, |h| &h.inner);
    let inner = py.detach(|| keyproof::mint(&format, hasher, &options, &random, now)).map_err(to_py_err)?;
    Ok(MintedKey { inner })
}

/// Mint options from a dict plus keyword fields (`None` leaves a field alone).
pub(crate) fn mint_options(
    py: Python<'_>,
    options: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyDict>>,
) -> PyResult<MintOptions> {
    let data = match options.filter(|o| !o.is_none()) {
        None => PyDict::new(py),
        Some(o) => {
            o.cast::<PyDict>().map_err(|_| refuse(ErrorKind::InvalidRecord, "mint options must be a dict"))?.copy()?
        }
    };
    for (name, value) in fields.into_iter().flat_map(|f| f.iter()).filter(|(_, v)| !v.is_none()) {
        data.set_item(name, value)?;
    }
    load(&data)
}

/// Whether a value a lookup receives is a record id (an access token's key under
/// `confirm_record`) rather than a storage hash: look the record up by id then.
#[pyfunction]
pub(crate) fn is_record_id(lookup: Text) -> bool {
    keyproof::ids::is_record_id(&lookup)
}

/// The instant `preset` (`15d`, `6m`, `1y` …) after `now` (default: the current
/// time). Months and years are calendar months.
#[pyfunction]
#[pyo3(signature = (preset, now=None))]
pub(crate) fn expiry_from_preset(preset: Text, now: Option<&Bound<'_, PyAny>>) -> PyResult<DateTime<Utc>> {
    keyproof::expiry_from_preset(&preset, now_or(now)?).map_err(to_py_err)
}
