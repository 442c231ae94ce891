//! Wrapper for `keyproof::hash`: `Hasher`, `HashCheck`, `fingerprint`.

use keyproof::HashAlgorithm;
use pyo3::prelude::*;

use crate::convert::q;
use crate::errors::to_py_err;
use crate::format::Format;
use crate::parse::ParsedKey;

fn algorithm(tag: &str) -> PyResult<HashAlgorithm> {
    HashAlgorithm::parse(tag).map_err(to_py_err)
}

/// Hashes keys for storage and lookup, and verifies them in constant time.
/// Immutable and shareable between threads; hashing releases the GIL.
#[pyclass(name = "Hasher", module = "keyproof", frozen)]
pub struct Hasher {
    pub(crate) inner: keyproof::Hasher,
}

impl Hasher {
    pub(crate) fn from_core(inner: keyproof::Hasher) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl Hasher {
    /// `algorithm` is the default for new records; `pepper` (≥ 16 bytes) enables HMAC.
    #[new]
    #[pyo3(signature = (algorithm="sha256".to_string(), pepper=None), text_signature = "(algorithm='sha256', pepper=None)")]
    fn new(algorithm: String, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        let alg = self::algorithm(&algorithm)?;
        let inner = keyproof::Hasher::new(alg, pepper.as_deref()).map_err(to_py_err)?;
        Ok(Self { inner })
    }

    /// The default algorithm for new records.
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.default_algorithm().tag()
    }

    /// Whether a pepper is configured (its value is never shown).
    #[getter]
    fn has_pepper(&self) -> bool {
        self.inner.has_pepper()
    }

    /// The algorithm new records of `format` use.
    fn algorithm_for(&self, format: PyRef<'_, Format>) -> &'static str {
        self.inner.algorithm_for(&format.inner).tag()
    }

    /// The tagged storage hash (`sha256:…`) a new record of this key stores.
    fn hash(&self, py: Python<'_>, key: PyRef<'_, ParsedKey>) -> PyResult<String> {
        let (inner, parsed) = (&self.inner, &*key);
        py.detach(|| inner.hash(&parsed.format, &parsed.inner)).map_err(to_py_err)
    }

    /// The tagged hash with an explicit algorithm.
    fn hash_with(&self, py: Python<'_>, algorithm: String, key: PyRef<'_, ParsedKey>) -> PyResult<String> {
        let alg = self::algorithm(&algorithm)?;
        let (inner, parsed) = (&self.inner, &*key);
        py.detach(|| inner.hash_with(alg, &parsed.inner)).map_err(to_py_err)
    }

    /// Every hash a store may hold this key under, the preferred one first.
    fn lookup_hashes(&self, py: Python<'_>, key: PyRef<'_, ParsedKey>) -> Vec<String> {
        let (inner, parsed) = (&self.inner, &*key);
        py.detach(|| inner.lookup_hashes(&parsed.format, &parsed.inner))
    }

    /// Checks the key against a stored hash in constant time.
    fn verify(&self, py: Python<'_>, key: PyRef<'_, ParsedKey>, stored_hash: String) -> PyResult<HashCheck> {
        let (inner, parsed) = (&self.inner, &*key);
        py.detach(|| inner.verify(&parsed.format, &parsed.inner, &stored_hash))
            .map(|c| HashCheck { matched: c.matched, should_rehash: c.should_rehash })
            .map_err(to_py_err)
    }

    fn __repr__(&self) -> String {
        let pepper = if self.inner.has_pepper() { "<redacted>" } else { "None" };
        format!("Hasher(algorithm={}, pepper={pepper})", q(self.inner.default_algorithm().tag()))
    }
}

/// Result of `Hasher.verify`. Truthy when the key matched.
#[pyclass(name = "HashCheck", module = "keyproof", frozen, eq)]
#[derive(Clone, Copy, PartialEq)]
pub struct HashCheck {
    /// The key matches the stored hash.
    #[pyo3(get)]
    matched: bool,
    /// The record uses another algorithm than configured: store a fresh hash.
    #[pyo3(get)]
    should_rehash: bool,
}

#[pymethods]
impl HashCheck {
    fn __bool__(&self) -> bool {
        self.matched
    }

    fn __repr__(&self) -> String {
        let b = |v: bool| if v { "True" } else { "False" };
        format!("HashCheck(matched={}, should_rehash={})", b(self.matched), b(self.should_rehash))
    }
}

/// A short, stable, non-secret identifier of a stored hash (`fp_…`).
#[pyfunction]
pub(crate) fn fingerprint(stored_hash: String) -> String {
    keyproof::fingerprint(&stored_hash)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Hasher>()?;
    m.add_class::<HashCheck>()?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    Ok(())
}
