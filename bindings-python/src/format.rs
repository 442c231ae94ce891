//! Key formats and keys: `Format`, `FormatSet`, `ParsedKey`, presets, parsing,
//! leak scanning and redaction; hashing: `Hasher`, `HashCheck`, `fingerprint`.

use std::sync::OnceLock;

use keyproof::{HashAlgorithm, KeyFormat};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDict};

use crate::convert::{load, to_json, Text};
use crate::errors::to_py_err;

wrap! {
    /// One key format: prefix, environment, kind, alphabet, length, checksum, layout.
    #[derive(Clone, PartialEq)]
    Format(KeyFormat) [eq] repr(id, prefix, environment, kind)
        fields(id, prefix, environment, kind, alphabet, length, checksum, layout, short_length, description) |f| {
        hash: Option<&'static str> = f.hash.map(|h| h.tag());
        body_length: usize = f.body_length();
        key_length: usize = f.key_length();
        entropy_bits: f64 = f.entropy_bits();
    }
}

/// A format given as a `Format` or a preset id.
pub(crate) fn format_arg(obj: &Bound<'_, PyAny>) -> PyResult<KeyFormat> {
    match obj.cast::<Format>() {
        Ok(f) => Ok(f.get().inner.clone()),
        Err(_) => keyproof::presets::get(&obj.extract::<Text>()?).map_err(to_py_err),
    }
}

loads!(Format);
dumps!(Format);

new! {
    /// Builds and validates a custom format (keyword options: `checksum`, `layout`,
    /// `short_length`, `hash`, `description`).
    Format(id, prefix, environment, kind, alphabet, length; ; **options)
}

#[pymethods]
impl Format {
    /// A built-in format by id (see `keyproof.presets()`).
    #[staticmethod]
    fn preset(id: Text) -> PyResult<Self> {
        keyproof::presets::get(&id).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// Seam's `prefixed-api-key` layout for `key_prefix` (`mycompany` → `mycompany_<8>_<24>`).
    #[staticmethod]
    #[pyo3(signature = (id, key_prefix, environment=Text("live".into())), text_signature = "(id, key_prefix, environment='live')")]
    fn seam(id: Text, key_prefix: Text, environment: Text) -> PyResult<Self> {
        let format = keyproof::presets::seam_format(&id, &key_prefix, &environment);
        format.validate().map_err(to_py_err)?;
        Ok(Self { inner: format })
    }

    /// Parses a key of this format.
    fn parse(&self, key: Text) -> PyResult<ParsedKey> {
        keyproof::parse::parse_with(&self.inner, &key).map(|inner| ParsedKey { inner }).map_err(to_py_err)
    }
}

wrap! {
    /// A validated set of formats, matched by longest prefix.
    FormatSet(keyproof::FormatSet) [] |s| {
        /// The formats, longest prefix first.
        formats: Vec<Format> = s.formats().iter().map(|f| Format { inner: (**f).clone() }).collect();
        /// The format ids, longest prefix first.
        ids: Vec<String> = s.formats().iter().map(|f| f.id.clone()).collect();
    }
}

/// The formats a call uses: the given set, or every preset (built once).
fn set_or_presets(formats: Option<&FormatSet>) -> PyResult<&keyproof::FormatSet> {
    static ALL: OnceLock<Result<keyproof::FormatSet, keyproof::Error>> = OnceLock::new();
    match formats {
        Some(set) => Ok(&set.inner),
        None => ALL.get_or_init(keyproof::presets::all_set).as_ref().map_err(|e| to_py_err(e.clone())),
    }
}

#[pymethods]
impl FormatSet {
    /// A set of `Format` objects, preset ids, or format dicts, from any iterable
    /// (loaded as JS hosts' lists are: core's `wire::format_set`).
    #[new]
    fn new(formats: &Bound<'_, PyAny>) -> PyResult<Self> {
        let items = formats.try_iter()?.collect::<PyResult<Vec<_>>>()?;
        let list: keyproof::wire::FormatList = load(pyo3::types::PyList::new(formats.py(), items)?.as_any())?;
        keyproof::wire::format_set(Some(list)).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// A set of the named presets, or of every preset.
    #[staticmethod]
    #[pyo3(signature = (ids=None))]
    fn presets(ids: Option<Vec<String>>) -> PyResult<Self> {
        let inner = match ids {
            Some(ids) => keyproof::presets::set(&ids.iter().map(String::as_str).collect::<Vec<_>>()),
            None => keyproof::presets::all_set(),
        };
        inner.map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// Loads a JSON array of formats.
    #[staticmethod]
    fn from_json(json: Text) -> PyResult<Self> {
        keyproof::FormatSet::from_json(&json).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// The formats as a JSON array.
    fn to_json(&self) -> PyResult<String> {
        to_json(self.inner.formats())
    }

    fn get(&self, id: Text) -> PyResult<Format> {
        self.inner.get(&id).cloned().map(|inner| Format { inner }).map_err(to_py_err)
    }

    /// The format whose prefix `key` starts with (longest prefix wins), or None.
    fn match_prefix(&self, key: Text) -> Option<Format> {
        self.inner.match_prefix(&key).map(|f| Format { inner: (**f).clone() })
    }

    fn parse(&self, key: Text) -> PyResult<ParsedKey> {
        parse_key(key, Some(self))
    }

    fn scan(&self, py: Python<'_>, text: Text) -> PyResult<Vec<Finding>> {
        scan(py, text, Some(self))
    }

    fn redact(&self, py: Python<'_>, text: Text) -> PyResult<String> {
        redact(py, text, Some(self))
    }

    fn __len__(&self) -> usize {
        self.inner.formats().len()
    }

    fn __contains__(&self, id: Text) -> bool {
        self.inner.get(&id).is_ok()
    }

    fn __iter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Ok(slf.getattr("formats")?.try_iter()?.into_any())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        Ok(format!("FormatSet({})", slf.getattr("ids")?.repr()?))
    }
}

wrap! {
    /// A key that matched a format. Holds the plaintext, which no `repr` shows.
    ParsedKey(keyproof::ParsedKey) [] repr(format_id, environment, kind, preview) |p| {
        format_id: &str = p.format_id();
        environment: &str = p.environment();
        kind: &'static str = p.kind().as_str();
        public_part: &str = p.public_part();
        has_checksum: bool = p.has_checksum();
        preview: String = p.preview();
        format: Format = Format { inner: p.format().clone() };
    }
}

/// Parses `key` against `formats` (every preset when omitted).
#[pyfunction]
#[pyo3(signature = (key, formats=None))]
pub(crate) fn parse_key(key: Text, formats: Option<&FormatSet>) -> PyResult<ParsedKey> {
    keyproof::parse_key(set_or_presets(formats)?, &key).map(|inner| ParsedKey { inner }).map_err(to_py_err)
}

wrap! {
    /// A key found in text: offsets and a preview, never the key. `start`/`end`
    /// index the Python string; `byte_start`/`byte_end` its UTF-8 bytes.
    #[derive(Clone, PartialEq)]
    Finding(keyproof::Finding) [eq] repr(format_id, line, column, preview)
        fields(format_id, line, column, preview, checksum_verified) |f| {
        start: usize = f.char_start;
        end: usize = f.char_end;
        byte_start: usize = f.start;
        byte_end: usize = f.end;
    }
}

/// Texts at least this long are scanned with the GIL released. The scanner reads
/// a few hundred MB/s, so 16 KiB take tens of microseconds: releasing the GIL
/// (and waiting to take it back while another thread holds it) is then a small
/// part of the call, while for short texts it would cost more than the scan.
const DETACH_FROM_BYTES: usize = 16 * 1024;

/// Runs `f` with the GIL released when `text` is long enough to be worth it.
fn over_text<T: Send>(py: Python<'_>, text: &str, f: impl FnOnce() -> T + Send) -> T {
    if text.len() >= DETACH_FROM_BYTES {
        py.detach(f)
    } else {
        f()
    }
}

/// Finds keys of `formats` (every preset when omitted) in `text`.
#[pyfunction]
#[pyo3(signature = (text, formats=None))]
pub(crate) fn scan(py: Python<'_>, text: Text, formats: Option<&FormatSet>) -> PyResult<Vec<Finding>> {
    let set = set_or_presets(formats)?;
    Ok(over_text(py, &text, || keyproof::scan(set, &text)).into_iter().map(|inner| Finding { inner }).collect())
}

/// `text` with every key of `formats` (every preset when omitted) replaced by its preview.
#[pyfunction]
#[pyo3(signature = (text, formats=None))]
pub(crate) fn redact(py: Python<'_>, text: Text, formats: Option<&FormatSet>) -> PyResult<String> {
    let set = set_or_presets(formats)?;
    Ok(over_text(py, &text, || keyproof::redact(set, &text)))
}

/// Every built-in format, by id, in catalogue order.
#[pyfunction]
pub(crate) fn presets(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    keyproof::presets::all().into_iter().map(|inner| (inner.id.clone(), Format { inner })).into_py_dict(py)
}

fn algorithm(tag: &str) -> PyResult<HashAlgorithm> {
    HashAlgorithm::parse(tag).map_err(to_py_err)
}

wrap! {
    /// Hashes keys for storage and lookup, and verifies them in constant time.
    /// Immutable and shareable between threads; hashing a key takes well under a
    /// microsecond, so it keeps the GIL (releasing it would cost more).
    Hasher(keyproof::Hasher) [] repr(algorithm, has_pepper) |h| {
        algorithm: &'static str = h.default_algorithm().tag();
        has_pepper: bool = h.has_pepper();
    }
}

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
    fn hash(&self, key: &ParsedKey) -> PyResult<String> {
        self.inner.hash(key.inner.format(), &key.inner).map_err(to_py_err)
    }

    /// The tagged hash with an explicit algorithm.
    fn hash_with(&self, algorithm: Text, key: &ParsedKey) -> PyResult<String> {
        self.inner.hash_with(self::algorithm(&algorithm)?, &key.inner).map_err(to_py_err)
    }

    /// Every hash a store may hold this key under, the preferred one first.
    fn lookup_hashes(&self, key: &ParsedKey) -> Vec<String> {
        self.inner.lookup_hashes(key.inner.format(), &key.inner)
    }

    /// Checks the key against a stored hash in constant time.
    fn verify(&self, key: &ParsedKey, stored_hash: Text) -> PyResult<HashCheck> {
        let k = &key.inner;
        self.inner.verify(k.format(), k, &stored_hash).map(|inner| HashCheck { inner }).map_err(to_py_err)
    }
}

wrap! {
    /// Result of `Hasher.verify`. Truthy when the key matched; `should_rehash`: the
    /// record uses another algorithm than configured, store a fresh hash.
    #[derive(Clone, Copy, PartialEq)]
    HashCheck(keyproof::HashCheck) [eq] repr(matched, should_rehash) fields(matched, should_rehash) |c| {}
}

#[pymethods]
impl HashCheck {
    fn __bool__(&self) -> bool {
        self.inner.matched
    }
}

/// A short, stable, non-secret identifier of a stored hash (`fp_…`).
#[pyfunction]
pub(crate) fn fingerprint(stored_hash: Text) -> String {
    keyproof::fingerprint(&stored_hash)
}
