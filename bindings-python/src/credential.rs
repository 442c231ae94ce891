//! Wrapper for `keyproof::credential`: `ExtractionConfig`, `Credential`, `extract`.

use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::convert::{headers_from_py, json_text_to_py, py_to_json, q, q_opt, to_json_text};
use crate::errors::to_py_err;

/// Which credential methods a deployment accepts and under which header names.
#[pyclass(name = "ExtractionConfig", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct ExtractionConfig {
    pub(crate) inner: keyproof::ExtractionConfig,
}

fn config_from_value(value: Value) -> PyResult<keyproof::ExtractionConfig> {
    keyproof::ExtractionConfig::from_json(&value.to_string()).map_err(to_py_err)
}

#[pymethods]
impl ExtractionConfig {
    /// Methods are `bearer`, `api_key_header`, `basic`, `sdk_token`; omitted fields keep the core defaults.
    #[new]
    #[pyo3(signature = (methods=None, *, api_key_header=None, client_id_header=None, sdk_token_header=None, max_header_bytes=None))]
    fn new(
        methods: Option<Vec<String>>,
        api_key_header: Option<String>,
        client_id_header: Option<String>,
        sdk_token_header: Option<String>,
        max_header_bytes: Option<usize>,
    ) -> PyResult<Self> {
        let mut map = Map::new();
        if let Some(methods) = methods {
            map.insert("methods".into(), methods.into());
        }
        let names = [
            ("api_key_header", api_key_header),
            ("client_id_header", client_id_header),
            ("sdk_token_header", sdk_token_header),
        ];
        for (key, value) in names {
            if let Some(value) = value {
                map.insert(key.into(), value.into());
            }
        }
        if let Some(max) = max_header_bytes {
            map.insert("max_header_bytes".into(), max.into());
        }
        config_from_value(Value::Object(map)).map(|inner| Self { inner })
    }

    /// Loads a config from JSON text.
    #[staticmethod]
    fn from_json(json: String) -> PyResult<Self> {
        keyproof::ExtractionConfig::from_json(&json).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// Loads a config from a JSON-shaped dict.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        config_from_value(py_to_json(data)?).map(|inner| Self { inner })
    }

    fn to_json(&self) -> PyResult<String> {
        to_json_text(&self.inner)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &self.to_json()?)
    }

    #[getter]
    fn methods(&self) -> Vec<&'static str> {
        self.inner.methods.iter().map(|m| m.as_str()).collect()
    }
    #[getter]
    fn api_key_header(&self) -> &str {
        &self.inner.api_key_header
    }
    #[getter]
    fn client_id_header(&self) -> &str {
        &self.inner.client_id_header
    }
    #[getter]
    fn sdk_token_header(&self) -> &str {
        &self.inner.sdk_token_header
    }
    #[getter]
    fn max_header_bytes(&self) -> usize {
        self.inner.max_header_bytes
    }

    fn __repr__(&self) -> String {
        format!("ExtractionConfig(methods=[{}])", self.methods().iter().map(|m| q(m)).collect::<Vec<_>>().join(", "))
    }
}

/// The credential a request carries. `repr` never shows the secret.
#[pyclass(name = "Credential", module = "keyproof", frozen)]
pub struct Credential {
    inner: keyproof::Credential,
}

#[pymethods]
impl Credential {
    /// How it was sent: `bearer`, `api_key_header`, `basic` or `sdk_token`.
    #[getter]
    fn method(&self) -> &'static str {
        self.inner.method.as_str()
    }
    /// The key, token or client secret. Never log it.
    #[getter]
    fn secret(&self) -> &str {
        self.inner.secret.expose()
    }
    /// The public client id sent with it, if any.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.inner.client_id.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "Credential(method={}, client_id={})",
            q(self.inner.method.as_str()),
            q_opt(self.inner.client_id.as_deref())
        )
    }
}

/// Extracts the one credential in `headers` (a mapping or (name, value) pairs).
#[pyfunction]
#[pyo3(signature = (headers, config=None))]
pub(crate) fn extract(headers: &Bound<'_, PyAny>, config: Option<PyRef<'_, ExtractionConfig>>) -> PyResult<Credential> {
    let headers = headers_from_py(headers)?;
    let default = keyproof::ExtractionConfig::default();
    let config = config.as_deref().map_or(&default, |c| &c.inner);
    keyproof::extract(config, &headers).map(|inner| Credential { inner }).map_err(to_py_err)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ExtractionConfig>()?;
    m.add_class::<Credential>()?;
    m.add_function(wrap_pyfunction!(extract, m)?)?;
    Ok(())
}
