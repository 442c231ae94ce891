//! The engine (its step is in `verification`) and preloaded records.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use keyproof::wire::{begin_priced, ChangedView, ParsedView};
use keyproof::{EngineConfig, KeyRecord, MintOptions, RecordUpdate, Scanner};

use crate::drive::drive_or_complete;
use crate::verification::Verification;
use crate::{core_error, instant, invalid_arg, load, optional_bytes, optional_text, text, to_js, Result};

/// A verification engine: formats, hasher and compiled policy, built once and
/// shared (it is immutable).
#[wasm_bindgen]
pub struct Engine {
    pub(crate) inner: keyproof::Engine,
    /// Built on the first `scan`/`redact` (most engines only verify; building
    /// it would cost every isolate's start).
    scanner: std::cell::OnceCell<Scanner>,
}

/// Header pairs from a flat `[name, value …]` list.
pub(crate) fn pairs(headers: &[String]) -> Result<Vec<(&str, &str)>> {
    keyproof::wire::header_pairs(headers).map_err(core_error)
}

#[wasm_bindgen]
impl Engine {
    /// Builds an engine from a config (object or JSON text); `pepper` overrides `hashing.pepper_hex`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | null | undefined")] pepper: JsValue,
    ) -> Result<Engine> {
        let config: EngineConfig = load(&config)?;
        let pepper = optional_bytes(&pepper, "pepper")?;
        let inner = keyproof::Engine::from_config(config, pepper.as_deref()).map_err(core_error)?;
        Ok(Self { inner, scanner: std::cell::OnceCell::new() })
    }

    /// The policy, as loaded (defaults filled in).
    pub fn policy(&self) -> Result<JsValue> {
        to_js(self.inner.policy())
    }

    /// The record cache's counters (`records`, `absent`, `hits`, `absent_hits`,
    /// `misses`, `evictions`), or `null` without `record_cache`.
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> Result<JsValue> {
        self.inner.record_cache().map_or(Ok(JsValue::NULL), |c| to_js(&c.stats()))
    }

    /// Forgets the cached record of `key_id`; how many entries went.
    #[wasm_bindgen(js_name = invalidateCached)]
    pub fn invalidate_cached(&self, key_id: String) -> u32 {
        let gone = self.inner.record_cache().map_or(0, |c| c.invalidate(&key_id));
        u32::try_from(gone).unwrap_or(u32::MAX)
    }

    /// Forgets every cached record and the counters.
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) {
        if let Some(cache) = self.inner.record_cache() {
            cache.clear();
        }
    }

    /// The only headers verification reads (lowercase; core's
    /// `Policy::header_names`: credentials, the client-address header of
    /// trusted proxies, `origin` and `referer`): a host may leave every other header out.
    #[wasm_bindgen(js_name = credentialHeaders)]
    pub fn credential_headers(&self) -> Vec<String> {
        self.inner.policy().header_names()
    }

    /// The formats, longest prefix first.
    pub fn formats(&self) -> Result<JsValue> {
        let formats: Vec<&keyproof::KeyFormat> = self.inner.formats().formats().iter().map(|f| &**f).collect();
        to_js(&formats)
    }

    /// The client's address as verification judges it (the peer, or the one
    /// trusted proxies forwarded in the flat `[name, value …]` headers), or `null`.
    #[wasm_bindgen(js_name = clientIp)]
    pub fn client_ip(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] peer: JsValue,
        headers: Vec<String>,
    ) -> Result<Option<String>> {
        let peer = optional_text(&peer, "peer")?;
        let ip = self.inner.client_ip(peer.as_deref(), &pairs(&headers)?).map_err(core_error)?;
        Ok(ip.map(|ip| ip.to_string()))
    }

    /// Starts verifying a request. `headers` is a flat `[name, value …]` list;
    /// `usageCost` the host's price of the request in usage units (absent: its route's cost).
    pub fn begin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        headers: Vec<String>,
        #[wasm_bindgen(js_name = clientIp, unchecked_param_type = "string | null | undefined")] client_ip: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(js_name = usageCost)] usage_cost: Option<f64>,
    ) -> Result<Verification> {
        let now = instant(now_ms)?;
        let (method, path) = (text(&method, "method")?, text(&path, "path")?);
        let (client_ip, headers) = (optional_text(&client_ip, "clientIp")?, pairs(&headers)?);
        let request = (method.as_str(), path.as_str(), headers.as_slice(), client_ip.as_deref());
        let inner = begin_priced(&self.inner, request, now, usage_cost).map_err(core_error)?;
        Ok(Verification { inner: Some(inner) })
    }

    /// [`Engine::begin`], then the step driven synchronously: `lookup(hash)`
    /// answers each lookup step and `loadState(key)` the rate-limit step. Each
    /// returns its answer (`lookup`: a `NativeRecord`, a record object or
    /// `null`; `loadState`: `{tat_us}` or `null`) or `false` to stop there (the
    /// host answers that step itself, e.g. after awaiting). Returns the finished
    /// decision tuple when the step got to the end, else the `Verification`.
    /// With `act`, core's whole host loop runs: `act(action)` does each
    /// compare-and-set, save and touch and answers 1 (done, or the write won), 0
    /// (lost) or -1 (stop there); a stop returns the `Completion` handle.
    /// `usageCost`: the host's price of the request in usage units (absent: its route's cost).
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        headers: Vec<String>,
        #[wasm_bindgen(js_name = clientIp, unchecked_param_type = "string | null | undefined")] client_ip: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        lookup: &Function,
        #[wasm_bindgen(js_name = loadState)] load_state: Option<Function>,
        act: Option<Function>,
        #[wasm_bindgen(js_name = hostWrites)] host_writes: Option<u32>,
        #[wasm_bindgen(js_name = usageCost)] usage_cost: Option<f64>,
    ) -> Result<JsValue> {
        let now = instant(now_ms)?;
        let (method, path) = (text(&method, "method")?, text(&path, "path")?);
        let (client_ip, headers) = (optional_text(&client_ip, "clientIp")?, pairs(&headers)?);
        let request = (method.as_str(), path.as_str(), headers.as_slice(), client_ip.as_deref());
        let v = begin_priced(&self.inner, request, now, usage_cost).map_err(core_error)?;
        drive_or_complete(v, lookup, load_state.as_ref(), act.as_ref(), host_writes)
    }

    /// [`Engine::verify`] with the request's strings packed into one (fewer
    /// crossings of the JS/wasm boundary; the package's JS adapter calls it):
    /// `packed` is method, path, client IP, then header names and values,
    /// concatenated; `cuts` (a `Uint32Array`) their lengths in UTF-16 units,
    /// `0xFFFFFFFF` for a `null` client IP. A lookup may answer `1` after
    /// calling `NativeRecord.__handOver()` (the adapter's fast record path).
    #[wasm_bindgen(js_name = verifyPacked, skip_typescript)]
    #[allow(clippy::too_many_arguments)]
    pub fn verify_packed(
        &self,
        packed: JsValue,
        cuts: JsValue,
        now_ms: f64,
        lookup: &Function,
        load_state: Option<Function>,
        act: Option<Function>,
        host_writes: Option<u32>,
        usage_cost: Option<f64>,
    ) -> Result<JsValue> {
        let now = instant(now_ms)?;
        let packed = text(&packed, "packed")?;
        let cuts =
            cuts.dyn_ref::<js_sys::Uint32Array>().ok_or_else(|| invalid_arg("cuts must be a Uint32Array"))?.to_vec();
        let parts = crate::drive::split_utf16(&packed, &cuts)?;
        let (Some(Some(method)), Some(Some(path)), Some(client_ip)) = (parts.first(), parts.get(1), parts.get(2))
        else {
            return Err(invalid_arg("a packed request needs a method, a path and a client IP"));
        };
        // Only the client IP may be a null cut.
        let flat = parts.iter().skip(3).map(|p| p.ok_or_else(crate::drive::not_pairs)).collect::<Result<Vec<_>>>()?;
        let headers = keyproof::wire::header_pairs(&flat).map_err(core_error)?;
        let v = begin_priced(&self.inner, (method, path, &headers, *client_ip), now, usage_cost).map_err(core_error)?;
        drive_or_complete(v, lookup, load_state.as_ref(), act.as_ref(), host_writes)
    }

    /// Parses a key with the engine's formats.
    pub fn parse(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<JsValue> {
        let parsed = self.inner.parse(&text(&key, "key")?).map_err(core_error)?;
        to_js(&ParsedView::from(&parsed))
    }

    /// The storage hash of a key (what a new record stores).
    #[wasm_bindgen(js_name = hashKey)]
    pub fn hash_key(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<String> {
        self.inner.hash_key(&text(&key, "key")?).map_err(core_error)
    }

    /// Every hash a store may hold the key under, preferred first.
    #[wasm_bindgen(js_name = lookupHashes)]
    pub fn lookup_hashes(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<Vec<String>> {
        let parsed = self.inner.parse(&text(&key, "key")?).map_err(core_error)?;
        Ok(self.inner.hasher().lookup_hashes(parsed.format(), &parsed))
    }

    /// Mints a key of the engine's format `formatId` (`null`: the config's first;
    /// policy name rules apply).
    /// `random` is the caller's random bytes; `null` draws 32 bytes of OS
    /// randomness (`crypto.getRandomValues`).
    pub fn mint(
        &self,
        #[wasm_bindgen(js_name = formatId, unchecked_param_type = "string | null")] format_id: JsValue,
        options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | null | undefined")] random: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let format_id = optional_text(&format_id, "formatId")?;
        let options: MintOptions = load(&options)?;
        let random = match optional_bytes(&random, "random")? {
            Some(bytes) => bytes,
            None => crate::os_random(32)?,
        };
        let minted = self.inner.mint(format_id.as_deref(), &options, &random, instant(now_ms)?).map_err(core_error)?;
        to_js(&keyproof::wire::MintedView::from(&minted))
    }

    /// Rotates `record` to `successorId` with the policy's grace period.
    pub fn rotate(
        &self,
        record: JsValue,
        #[wasm_bindgen(js_name = successorId, unchecked_param_type = "string")] successor_id: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let mut record: KeyRecord = load(&record)?;
        let successor_id = text(&successor_id, "successorId")?;
        self.inner.rotate(&mut record, &successor_id, instant(now_ms)?).map_err(core_error)?;
        to_js(&ChangedView { changed: true, record: &record })
    }

    /// Applies an update under the policy's name rules.
    pub fn update(
        &self,
        record: JsValue,
        update: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let mut record: KeyRecord = load(&record)?;
        let update: RecordUpdate = load(&update)?;
        let changed = self.inner.update(&mut record, &update, instant(now_ms)?).map_err(core_error)?;
        to_js(&ChangedView { changed, record: &record })
    }

    /// Every key of the engine's formats in `text`.
    pub fn scan(&self, #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue) -> Result<JsValue> {
        let text = crate::text(&text, "text")?;
        to_js(&self.scanner().scan(&text))
    }

    /// `text` with every key replaced by its preview.
    pub fn redact(&self, #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue) -> Result<String> {
        let text = crate::text(&text, "text")?;
        Ok(self.scanner().redact(&text))
    }
}

impl Engine {
    fn scanner(&self) -> &Scanner {
        self.scanner.get_or_init(|| Scanner::new(self.inner.formats()))
    }
}

/// A record loaded and validated once, held natively: a lookup returning it
/// costs no conversion. Immutable.
#[wasm_bindgen]
pub struct NativeRecord {
    /// Shared with the decisions that accept it: a lookup answering with it copies nothing.
    record: std::sync::Arc<KeyRecord>,
}

#[wasm_bindgen]
impl NativeRecord {
    /// Loads and validates a record (storage-schema object or JSON text).
    #[wasm_bindgen(constructor)]
    pub fn new(record: JsValue) -> Result<NativeRecord> {
        Ok(Self { record: std::sync::Arc::new(load(&record)?) })
    }

    /// Record id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.record.id.clone()
    }

    /// The record (storage schema).
    #[wasm_bindgen(js_name = toObject)]
    pub fn to_object(&self) -> Result<JsValue> {
        to_js(&self.record)
    }

    /// Hands the record to the binding reading a lookup answer (internal).
    #[wasm_bindgen(getter, js_name = __keyproofRecord, skip_typescript)]
    pub fn hand_over(&self) -> bool {
        crate::hand_over(&self.record);
        true
    }

    /// Hands the record over before a lookup answers `1` (the JS adapter's fast path; internal).
    #[wasm_bindgen(js_name = __handOver, skip_typescript)]
    pub fn hand_over_now(&self) {
        crate::hand_over(&self.record);
    }
}
