//! Python bindings for keyproof. Every rule lives in the core crate; these
//! wrappers convert values and errors, nothing more. Python values load into
//! core types through a serde deserializer (`de`), with no JSON text between.

use pyo3::prelude::*;

/// Read-only Python properties over a wrapper's core value `self.inner`:
/// `getters!(Type |v| { name: Ret = expr; … })` declares
/// `#[getter] fn name(&self) -> Ret { let v = &self.inner; expr }` for each line.
macro_rules! getters {
    ($ty:ident |$v:ident| { $($name:ident: $ret:ty = $body:expr;)* }) => {
        #[pymethods]
        impl $ty {
            $(#[getter] fn $name(&self) -> $ret { let $v = &self.inner; $body })*
        }
    };
}

/// `to_dict()` (plain Python data) and `to_json()` of wrappers of serializable core values.
macro_rules! dumps {
    ($($ty:ident),*) => {$(
        #[pymethods]
        impl $ty {
            fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                crate::convert::to_py(py, &self.inner)
            }
            fn to_json(&self) -> PyResult<String> {
                crate::convert::to_json(&self.inner)
            }
        }
    )*};
}

/// `from_json()` and `from_dict()` of wrappers of loadable core values: both take
/// JSON text or Python data alike and load through core (`convert::load`).
macro_rules! loads {
    ($($ty:ident),*) => {$(
        #[pymethods]
        impl $ty {
            #[staticmethod]
            fn from_json(json: &Bound<'_, PyAny>) -> PyResult<Self> {
                crate::convert::load(json).map(|inner| Self { inner })
            }
            #[staticmethod]
            fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
                crate::convert::load(data).map(|inner| Self { inner })
            }
        }
    )*};
}

/// `__repr__` showing the named properties (never a key, secret or hash):
/// `repr!(Format: id, prefix)` gives `Format(id='…', prefix='…')`.
macro_rules! repr {
    ($ty:ident: $($field:ident),*) => {
        #[pymethods]
        impl $ty {
            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                crate::convert::repr(slf.as_any(), &[$(stringify!($field)),*])
            }
        }
    };
}

mod convert;
mod de;
mod decision;
mod engine;
mod errors;
mod format;
mod hash;
mod mint;
mod record;
mod values;

/// The native module, re-exported by the `keyproof` Python package.
#[pymodule]
fn _keyproof(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    format::register(m)?;
    hash::register(m)?;
    record::register(m)?;
    mint::register(m)?;
    values::register(m)?;
    decision::register(m)?;
    engine::register(m)?;
    Ok(())
}
