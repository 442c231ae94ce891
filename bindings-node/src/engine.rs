//! The engine (its step is in `verification`) and preloaded records.

use std::ops::ControlFlow;

use napi::bindgen_prelude::{Either, Either3, Function, Uint8Array, Unknown};
use napi::Env;
use napi_derive::napi;

use keyproof::drive::answered;
use keyproof::wire::{begin_priced, decided, ChangedView, ParsedView};
use keyproof::{EngineConfig, KeyRecord, MintOptions, RecordUpdate, Scanner};

use crate::complete::{run, Completion};
use crate::verification::{ask_record, ask_state, Decided, Verification};
use crate::{bytes, core_error, instant, load, to_js, Result};

/// A verification engine: formats, hasher and compiled policy, built once and
/// shared (it is immutable).
#[napi]
pub struct Engine {
    pub(crate) inner: keyproof::Engine,
    scanner: Scanner,
}

/// Header pairs from a flat `[name, value …]` list.
pub(crate) fn pairs(headers: &[String]) -> Result<Vec<(&str, &str)>> {
    keyproof::wire::header_pairs(headers).map_err(core_error)
}

#[napi]
impl Engine {
    /// Builds an engine from a config (object or JSON text); `pepper` overrides `hashing.pepper_hex`.
    #[napi(constructor)]
    pub fn new(config: Unknown<'_>, pepper: Option<Uint8Array>) -> Result<Self> {
        let config: EngineConfig = load(config)?;
        let inner = keyproof::Engine::from_config(config, pepper.as_ref().map(bytes)).map_err(core_error)?;
        let scanner = Scanner::new(inner.formats());
        Ok(Self { inner, scanner })
    }

    /// The policy, as loaded (defaults filled in).
    #[napi]
    pub fn policy<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_js(env, self.inner.policy())
    }

    /// The record cache's counters (`records`, `absent`, `hits`, `absent_hits`,
    /// `misses`, `evictions`), or `null` without `record_cache`.
    #[napi]
    pub fn cache_stats<'env>(&self, env: &'env Env) -> Result<Option<Unknown<'env>>> {
        self.inner.record_cache().map(|c| to_js(env, &c.stats())).transpose()
    }

    /// Forgets the cached record of `key_id`; how many entries went.
    #[napi]
    pub fn invalidate_cached(&self, key_id: String) -> u32 {
        let gone = self.inner.record_cache().map_or(0, |c| c.invalidate(&key_id));
        u32::try_from(gone).unwrap_or(u32::MAX)
    }

    /// Forgets every cached record and the counters.
    #[napi]
    pub fn clear_cache(&self) {
        if let Some(cache) = self.inner.record_cache() {
            cache.clear();
        }
    }

    /// The only headers verification reads (lowercase; core's
    /// `Policy::header_names`: credentials, the client-address header of
    /// trusted proxies, `origin` and `referer`): a host may leave every other header out.
    #[napi]
    pub fn credential_headers(&self) -> Vec<String> {
        self.inner.policy().header_names()
    }

    /// The formats, longest prefix first.
    #[napi]
    pub fn formats<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let formats: Vec<&keyproof::KeyFormat> = self.inner.formats().formats().iter().map(|f| &**f).collect();
        to_js(env, &formats)
    }

    /// Starts verifying a request. `headers` is a flat `[name, value …]` list;
    /// `usage_cost` the host's price of the request in usage units (`null`: its route's cost).
    #[napi]
    pub fn begin(
        &self,
        method: String,
        path: String,
        headers: Vec<String>,
        client_ip: Option<String>,
        now_ms: f64,
        usage_cost: Option<f64>,
    ) -> Result<Verification> {
        let (now, headers) = (instant(now_ms)?, pairs(&headers)?);
        let request = (method.as_str(), path.as_str(), headers.as_slice(), client_ip.as_deref());
        let inner = begin_priced(&self.inner, request, now, usage_cost).map_err(core_error)?;
        Ok(Verification { inner: Some(inner) })
    }

    /// The client's address as verification judges it (the peer, or the one
    /// trusted proxies forwarded in the flat `[name, value …]` headers), or `null`.
    #[napi]
    pub fn client_ip(&self, peer: Option<String>, headers: Vec<String>) -> Result<Option<String>> {
        let ip = self.inner.client_ip(peer.as_deref(), &pairs(&headers)?).map_err(core_error)?;
        Ok(ip.map(|ip| ip.to_string()))
    }

    /// [`Engine::begin`], then the step driven synchronously: `lookup(hash)`
    /// answers each lookup step and `load_state(key)` the rate-limit step. Each
    /// returns its answer (`lookup`: a [`NativeRecord`], a record object or
    /// `null`; `load_state`: `{tat_us}` or `null`) or `false` to stop there (the
    /// host answers that step itself, e.g. after awaiting). Returns the finished
    /// [`Decided`] when the step got to the end, else the [`Verification`].
    ///
    /// With `act`, the whole host loop runs (core's `Completion`): `act(action)`
    /// does each compare-and-set, save, touch and count (`{kind, value?, write?,
    /// record?, at?}`) and answers 1 (done, or the write won), 0 (lost) or -1 (stop
    /// there); the result is then the `Decided` string or the `Completion` where it
    /// stopped. `hostWrites` (default 3): 1, the host saves upgraded records; 2, it
    /// writes the last use; 4, it counts requests (a host that does not is never asked). `usage_cost`:
    /// the host's price of the request in usage units (`null`: its route's cost).
    #[napi(ts_return_type = "Decided | Verification | Completion")]
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &self,
        env: &Env,
        method: String,
        path: String,
        headers: Vec<String>,
        client_ip: Option<String>,
        now_ms: f64,
        lookup: Function<'_, String, Unknown<'_>>,
        load_state: Option<Function<'_, String, Unknown<'_>>>,
        act: Option<Function<'_, Unknown<'_>, f64>>,
        host_writes: Option<u32>,
        usage_cost: Option<f64>,
    ) -> Result<Either3<Decided, Verification, Completion>> {
        let (now, headers) = (instant(now_ms)?, pairs(&headers)?);
        let request = (method.as_str(), path.as_str(), headers.as_slice(), client_ip.as_deref());
        let mut v = begin_priced(&self.inner, request, now, usage_cost).map_err(core_error)?;
        if let Some(act) = &act {
            let c = keyproof::wire::completion(v, host_writes);
            return Ok(match run(env, c, &lookup, load_state.as_ref(), act)? {
                Either::A(decided) => Either3::A(decided),
                Either::B(completion) => Either3::C(completion),
            });
        }
        let flow =
            v.drive(|hash| answered(ask_record(&lookup, hash)), |key| answered(ask_state(load_state.as_ref(), key)));
        match flow {
            ControlFlow::Continue(()) => Ok(Either3::A(decided(v.finish(), false))),
            ControlFlow::Break(None) => Ok(Either3::B(Verification { inner: Some(v) })),
            ControlFlow::Break(Some(e)) => Err(e),
        }
    }

    /// Parses a key with the engine's formats.
    #[napi]
    pub fn parse<'env>(&self, env: &'env Env, key: String) -> Result<Unknown<'env>> {
        let parsed = self.inner.parse(&key).map_err(core_error)?;
        to_js(env, &ParsedView::from(&parsed))
    }

    /// The storage hash of a key (what a new record stores).
    #[napi]
    pub fn hash_key(&self, key: String) -> Result<String> {
        self.inner.hash_key(&key).map_err(core_error)
    }

    /// Every hash a store may hold the key under, preferred first.
    #[napi]
    pub fn lookup_hashes(&self, key: String) -> Result<Vec<String>> {
        let parsed = self.inner.parse(&key).map_err(core_error)?;
        Ok(self.inner.hasher().lookup_hashes(parsed.format(), &parsed))
    }

    /// Mints a key of the engine's format `format_id` (`null`: the config's first;
    /// policy name rules apply).
    #[napi]
    pub fn mint<'env>(
        &self,
        env: &'env Env,
        format_id: Option<String>,
        options: Unknown<'_>,
        random: Uint8Array,
        now_ms: f64,
    ) -> Result<Unknown<'env>> {
        let options: MintOptions = load(options)?;
        let minted =
            self.inner.mint(format_id.as_deref(), &options, bytes(&random), instant(now_ms)?).map_err(core_error)?;
        to_js(env, &keyproof::wire::MintedView::from(&minted))
    }

    /// Rotates `record` to `successor_id` with the policy's grace period.
    #[napi]
    pub fn rotate<'env>(
        &self,
        env: &'env Env,
        record: Unknown<'_>,
        successor_id: String,
        now_ms: f64,
    ) -> Result<Unknown<'env>> {
        let mut record: KeyRecord = load(record)?;
        self.inner.rotate(&mut record, &successor_id, instant(now_ms)?).map_err(core_error)?;
        to_js(env, &ChangedView { changed: true, record: &record })
    }

    /// Applies an update under the policy's name rules.
    #[napi]
    pub fn update<'env>(
        &self,
        env: &'env Env,
        record: Unknown<'_>,
        update: Unknown<'_>,
        now_ms: f64,
    ) -> Result<Unknown<'env>> {
        let mut record: KeyRecord = load(record)?;
        let update: RecordUpdate = load(update)?;
        let changed = self.inner.update(&mut record, &update, instant(now_ms)?).map_err(core_error)?;
        to_js(env, &ChangedView { changed, record: &record })
    }

    /// Every key of the engine's formats in `text`.
    #[napi]
    pub fn scan<'env>(&self, env: &'env Env, text: String) -> Result<Unknown<'env>> {
        to_js(env, &self.scanner.scan(&text))
    }

    /// `text` with every key replaced by its preview.
    #[napi]
    pub fn redact(&self, text: String) -> String {
        self.scanner.redact(&text)
    }
}

/// A record loaded and validated once, held natively: a lookup returning it
/// costs no conversion. Immutable.
#[napi]
pub struct NativeRecord {
    /// Shared with the decisions that accept it: a lookup answering with it copies nothing.
    pub(crate) record: std::sync::Arc<KeyRecord>,
}

#[napi]
impl NativeRecord {
    /// Loads and validates a record (storage-schema object or JSON text).
    #[napi(constructor)]
    pub fn new(record: Unknown<'_>) -> Result<Self> {
        Ok(Self { record: std::sync::Arc::new(load(record)?) })
    }

    /// Record id.
    #[napi(getter)]
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The record (storage schema).
    #[napi]
    pub fn to_object<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_js(env, &self.record)
    }
}
