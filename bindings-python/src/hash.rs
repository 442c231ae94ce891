//! Hashing: `Hasher`, `HashCheck`, `fingerprint`.

use keyproof::HashAlgorithm;
use pyo3::prelude::*;

use crate::convert::Text;
use crate::errors::to_py_err;
use crate::format::{Format, ParsedKey};

fn algorithm(tag: &str) -> PyResult<HashAlgorithm> {
    HashAlgorithm::parse(tag).map_err(to_py_err)
}

/// Hashes keys for storage and lookup, and verifies them in constant time.
/// Immutable and shareable between threads; hashing releases the GIL.
#[pyclass(name = "Hasher", module = "keyproof", frozen)]
pub struct Hasher {
    pub(crate) inner: keyproof::Hasher,
}

getters!(Hasher |h| {
    algorithm: &'static str = h.default_algorithm().tag();
    has_pepper: bool = h.has_pepper();
});

#[pymethods]
impl Hasher {
    /// `algorithm` is the default for new records; `pepper` (≥ 16 bytes) enables HMAC.
    #[new]
    #[pyo3(signature = (algorithm=Text("sha256".into()), pepper=None), text_signature = "(algorithm='sha256', pepper=None)")]
    fn new(algorithm: Text, pepper: Option<Vec<u8>>) -> PyResult<Self> {
        let inner = keyproof::Hasher::new(self::algorithm(&algorithm)?, pepper.as_deref()).map_err(to_py_err)?;
        Ok(Self { inner })
    }

    /// The algorithm new records of `format` use.
    fn algorithm_for(&self, format: &Format) -> &'static str {
        self.inner.algorithm_for(&format.inner).tag()
    }

    /// The tagged storage hash (`sha256:…`) a new record of this key stores.
    fn hash(&self, py: Python<'_>, key: &ParsedKey) -> PyResult<String> {
        let (h, k) = (&self.inner, &key.inner);
        py.detach(|| h.hash(k.format(), k)).map_err(to_py_err)
    }

    /// The tagged hash with an explicit algorithm.
    fn hash_with(&self, py: Python<'_>, algorithm: Text, key: &ParsedKey) -> PyResult<String> {
        let (h, k, alg) = (&self.inner, &key.inner, self::algorithm(&algorithm)?);
        py.detach(|| h.hash_with(alg, k)).map_err(to_py_err)
    }

    /// Every hash a store may hold this key under, the preferred one first.
    fn lookup_hashes(&self, py: Python<'_>, key: &ParsedKey) -> Vec<String> {
        let (h, k) = (&self.inner, &key.inner);
        py.detach(|| h.lookup_hashes(k.format(), k))
    }

    /// Checks the key against a stored hash in constant time.
    fn verify(&self, py: Python<'_>, key: &ParsedKey, stored_hash: Text) -> PyResult<HashCheck> {
        let (h, k) = (&self.inner, &key.inner);
        let check = py.detach(|| h.verify(k.format(), k, &stored_hash)).map_err(to_py_err)?;
        Ok(HashCheck { matched: check.matched, should_rehash: check.should_rehash })
    }
}

repr!(Hasher: algorithm, has_pepper);

/// Result of `Hasher.verify`. Truthy when the key matched; `should_rehash`: the
/// record uses another algorithm than configured, store a fresh hash.
#[pyclass(name = "HashCheck", module = "keyproof", frozen, eq, get_all)]
#[derive(Clone, Copy, PartialEq)]
pub struct HashCheck {
    matched: bool,
    should_rehash: bool,
}

#[pymethods]
impl HashCheck {
    fn __bool__(&self) -> bool {
        self.matched
    }
}

repr!(HashCheck: matched, should_rehash);

/// A short, stable, non-secret identifier of a stored hash (`fp_…`).
#[pyfunction]
fn fingerprint(stored_hash: Text) -> String {
    keyproof::fingerprint(&stored_hash)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Hasher>()?;
    m.add_class::<HashCheck>()?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    Ok(())
}
