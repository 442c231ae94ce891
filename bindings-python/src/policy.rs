//! Wrapper for `keyproof::policy`: a loaded, validated and compiled `Policy`.

use pyo3::prelude::*;

use crate::convert::{json_text_to_py, py_to_json, q};
use crate::errors::to_py_err;

/// A deployment's policy: environments, credentials, routes, roles, plans.
#[pyclass(name = "Policy", module = "keyproof", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Policy {
    pub(crate) inner: keyproof::Policy,
}

fn load(json: &str) -> PyResult<Policy> {
    // Loads, validates and compiles (the route table too: conflicting patterns …).
    let compiled = keyproof::Policy::load(json).map_err(to_py_err)?;
    Ok(Policy { inner: compiled.policy().clone() })
}

#[pymethods]
impl Policy {
    /// Loads, validates and compiles a policy from JSON text.
    #[staticmethod]
    fn from_json(json: String) -> PyResult<Self> {
        load(&json)
    }
    /// Loads, validates and compiles a policy from a JSON-shaped dict.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        load(&py_to_json(data)?.to_string())
    }
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_text_to_py(py, &self.inner.to_json())
    }
    #[getter]
    fn realm(&self) -> &str {
        &self.inner.realm
    }
    #[getter]
    fn environments(&self) -> Vec<String> {
        self.inner.environments.clone()
    }
    #[getter]
    fn default_plan(&self) -> Option<&str> {
        self.inner.default_plan.as_deref()
    }
    fn __repr__(&self) -> String {
        format!("Policy(realm={}, routes={})", q(&self.inner.realm), self.inner.routes.len())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    Ok(())
}
