//! The engine: formats + hasher + compiled policy, built once and shared by
//! every request (cloning an engine is a reference-count bump).
//!
//! A request is judged by one I/O-free [`Verification`] step the host drives:
//! it asks for a record under each lookup hash, then for rate-limit state, then
//! hands back the decision and what to write.

mod bucket;
mod charge;
mod config;
mod decide;
mod deny;
mod meters;
mod request;
mod step;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use bucket::RateBucket;
pub(crate) use bucket::{OWN_QUOTA, USAGE};
pub use charge::{Charged, Settlement};
pub use config::{EngineConfig, FormatRef, HashingConfig};
pub(crate) use decide::Passed;
pub(crate) use deny::{deny, Deny};
pub use meters::RateWrite;
pub(crate) use request::Presented;
pub use request::{Prepared, Request};
pub use step::{Outcome, Step, Verification};

use crate::cache::{CacheConfig, RecordCache};
use crate::credential::{extract, Credential};
use crate::error::{Error, ErrorKind, Result};
use crate::format::{FormatSet, KeyFormat};
use crate::hash::Hasher;
use crate::parse::{parse_key, parse_secret, ParsedKey};
use crate::policy::{CompiledPolicy, Policy};
use crate::presets;
use crate::ratelimit::UsageMeter;
use crate::record::KeyRecord;
use crate::routes::RouteRule;
use crate::routes::{normalize_method, normalize_path};
use crate::token::{looks_like_jws, TokenConfig, Tokens};

/// The verification engine. Immutable and cheap to clone: share one per process.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Clone, Debug)]
struct Inner {
    /// Access-token settings and keys, when the deployment uses tokens.
    tokens: Option<Arc<Tokens>>,
    formats: FormatSet,
    hasher: Hasher,
    policy: CompiledPolicy,
    /// Every denial without request-specific parts, rendered once.
    denials: Vec<deny::Rendered>,
    /// `insufficient_scope` for every scope (or any-of set) a route can miss.
    scope_denials: std::collections::HashMap<String, deny::Rendered>,
    /// Looked-up records kept between requests, when configured.
    cache: Option<Arc<RecordCache>>,
}

impl Engine {
    /// Builds an engine from parts.
    pub fn new(formats: FormatSet, hasher: Hasher, policy: Policy) -> Result<Self> {
        let policy = policy.compile()?;
        let denials = ErrorKind::ALL.iter().map(|k| deny::Rendered::new(policy.policy(), *k, None)).collect();
        let mut scope_denials = std::collections::HashMap::new();
        for route in &policy.policy().routes {
            let joined = (!route.any_of.is_empty()).then(|| route.any_of.join(" "));
            for missing in route.all_of.iter().cloned().chain(joined) {
                let rendered = deny::Rendered::new(policy.policy(), ErrorKind::InsufficientScope, Some(&missing));
                scope_denials.insert(missing, rendered);
            }
        }
        let inner = Inner { tokens: None, formats, hasher, policy, denials, scope_denials, cache: None };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// This engine with access tokens configured (settings and JWKs checked here).
    pub fn with_tokens(&self, config: TokenConfig) -> Result<Self> {
        let mut inner = (*self.inner).clone();
        inner.tokens = Some(Arc::new(Tokens::new(config)?));
        Ok(Self { inner: Arc::new(inner) })
    }

    /// This engine with a record cache (see [`crate::cache`]); a new, empty one
    /// that this engine and its clones share.
    pub fn with_record_cache(&self, config: CacheConfig) -> Result<Self> {
        let mut inner = (*self.inner).clone();
        inner.cache = Some(Arc::new(RecordCache::new(config)?));
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The record cache, if configured: its stats, and `invalidate` after a
    /// revocation or update this process made.
    pub fn record_cache(&self) -> Option<&Arc<RecordCache>> {
        self.inner.cache.as_ref()
    }

    /// The access-token settings and keys, if configured.
    pub fn tokens(&self) -> Option<&Tokens> {
        self.inner.tokens.as_deref()
    }

    fn rendered_denial(&self, kind: ErrorKind, missing_scope: Option<&str>) -> Option<&deny::Rendered> {
        match missing_scope {
            Some(scope) => self.inner.scope_denials.get(scope),
            None => ErrorKind::ALL.iter().position(|k| *k == kind).and_then(|i| self.inner.denials.get(i)),
        }
    }

    /// Builds an engine from a config; `pepper` overrides `hashing.pepper_hex`.
    pub fn from_config(config: EngineConfig, pepper: Option<&[u8]>) -> Result<Self> {
        let formats = config
            .formats
            .into_iter()
            .map(|f| match f {
                FormatRef::Preset(id) => presets::get(&id),
                FormatRef::Custom(format) => Ok(format),
            })
            .collect::<Result<Vec<_>>>()?;
        let from_hex = match &config.hashing.pepper_hex {
            Some(h) => Some(zeroize::Zeroizing::new(
                hex::decode(h).map_err(|_| Error::new(ErrorKind::MissingPepper, "pepper_hex is not hex"))?,
            )),
            None => None,
        };
        let pepper = pepper.or(from_hex.as_ref().map(|p| p.as_slice()));
        let hasher = Hasher::new(config.hashing.algorithm, pepper)?;
        let engine = Self::new(FormatSet::new(formats)?, hasher, config.policy)?;
        let engine = match config.tokens {
            Some(tokens) => engine.with_tokens(tokens)?,
            None => engine,
        };
        match config.record_cache {
            Some(cache) => engine.with_record_cache(cache),
            None => Ok(engine),
        }
    }

    /// Builds an engine from a JSON config document.
    pub fn from_json(json: &str) -> Result<Self> {
        Self::from_config(EngineConfig::from_json(json)?, None)
    }

    /// The formats.
    pub fn formats(&self) -> &FormatSet {
        &self.inner.formats
    }

    /// The hasher.
    pub fn hasher(&self) -> &Hasher {
        &self.inner.hasher
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        self.inner.policy.policy()
    }

    pub(crate) fn compiled(&self) -> &CompiledPolicy {
        &self.inner.policy
    }

    /// Parses a key with the engine's formats.
    pub fn parse(&self, key: &str) -> Result<ParsedKey> {
        parse_key(self.formats(), key)
    }

    /// The storage hash for a key (what a new record stores).
    pub fn hash_key(&self, key: &str) -> Result<String> {
        let parsed = self.parse(key)?;
        self.hasher().hash(parsed.format(), &parsed)
    }

    /// The client's address as verification judges it: `peer` (the address the
    /// host's socket saw), or the one trusted proxies forwarded in `headers`
    /// (policy `client_ip`). For logs and audit trails behind proxies.
    pub fn client_ip<N: AsRef<str>, V: AsRef<str>>(
        &self,
        peer: Option<&str>,
        headers: &[(N, V)],
    ) -> Result<Option<std::net::IpAddr>> {
        self.compiled().client_ip(peer, headers)
    }

    /// Reads a request: shape checks, credential extraction, key parsing and the
    /// lookup hashes. Steps 1–4 of the documented check order.
    pub fn prepare<N: AsRef<str>, V: AsRef<str>>(
        &self,
        method: &str,
        path: &str,
        headers: &[(N, V)],
        client_ip: Option<&str>,
    ) -> Prepared {
        let mut matched = None;
        let outcome = (|| {
            let method = normalize_method(method)?;
            let path = normalize_path(path)?;
            let client_ip = self.compiled().client_ip(client_ip, headers)?;
            let origin = crate::origin::sent_origin(headers);
            matched = self.compiled().routes().find_filled(&method, &path);
            let policy = self.policy();
            let credential = extract(&policy.credentials, headers)?;
            if policy.require_client_id && credential.client_id.is_none() {
                return Err(Error::new(ErrorKind::MissingClientId, "the request carries no client id"));
            }
            let Credential { method, secret, client_id } = credential;
            if let Some(tokens) = self.tokens().filter(|_| looks_like_jws(secret.expose())) {
                let token = tokens.verify_signed(secret.expose())?;
                // Under confirm_record the step asks for the record by key id.
                let lookup =
                    if tokens.config().confirm_record { vec![token.claims.key_id.clone()] } else { Vec::new() };
                let shown = request::Shown::Token(Box::new(token));
                return Ok(Presented { method, client_id, shown, lookup_hashes: lookup, client_ip, origin });
            }
            let parsed = parse_secret(self.formats(), secret)?;
            let lookup_hashes = self.hasher().lookup_hashes(parsed.format(), &parsed);
            Ok(Presented::key(method, client_id, parsed, lookup_hashes, client_ip, origin))
        })();
        let (route, filled) = matched.map_or((None, None), |(index, filled)| (Some(index), filled));
        Prepared { outcome, route, filled }
    }

    /// [`Engine::prepare`] for a [`Request`].
    pub fn prepare_request(&self, request: &Request) -> Prepared {
        self.prepare(&request.method, &request.path, &request.headers, request.client_ip.as_deref())
    }

    /// Starts verifying a request at `now`: the host drives the returned step
    /// (see [`Verification`]).
    pub fn begin<N: AsRef<str>, V: AsRef<str>>(
        &self,
        method: &str,
        path: &str,
        headers: &[(N, V)],
        client_ip: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Verification {
        Verification::new(self.clone(), self.prepare(method, path, headers, client_ip), now)
    }

    /// [`Engine::begin`] for a [`Request`].
    pub fn begin_request(&self, request: &Request, now: chrono::DateTime<chrono::Utc>) -> Verification {
        let mut v = Verification::new(self.clone(), self.prepare_request(request), now);
        if let Some(units) = request.usage_cost {
            v.set_usage_cost(units);
        }
        v
    }

    /// The route rule a prepared request matched.
    pub fn route_of(&self, prepared: &Prepared) -> Option<&RouteRule> {
        prepared.route.and_then(|i| self.compiled().routes().rule(i))
    }

    /// The rate-limit bucket that applies to this request and record, or `None`
    /// when no quota applies.
    pub fn rate_bucket(&self, prepared: &Prepared, record: &KeyRecord) -> Option<RateBucket> {
        RateBucket::for_request(self, prepared, record)
    }

    /// The usage counter a request of a usage-limited key spends from at `now`,
    /// and the units the request costs (`cost`, else its route's rate-limit
    /// cost); `None` without a usage limit.
    pub fn usage_meter(
        &self,
        prepared: &Prepared,
        record: &KeyRecord,
        now: DateTime<Utc>,
        cost: Option<u32>,
    ) -> Option<(UsageMeter, u32)> {
        bucket::usage_meter(self, prepared, record, now, cost)
    }

    /// The key under which the host keeps rate-limit state for this request and record.
    pub fn rate_limit_key(&self, prepared: &Prepared, record: &KeyRecord) -> Option<String> {
        self.rate_bucket(prepared, record).map(|b| b.key)
    }

    /// The record with its hash upgraded to the preferred algorithm, when the
    /// presented key matches `record` and the record uses an older algorithm.
    /// Store it to finish a migration (e.g. sha256 → hmac-sha256).
    pub fn rehashed(&self, prepared: &Prepared, record: &KeyRecord) -> Option<KeyRecord> {
        let presented = prepared.outcome.as_ref().ok()?;
        let parsed = presented.parsed()?;
        let check =
            self.hasher().verify_precomputed(parsed.format(), parsed, &presented.lookup_hashes, &record.hash).ok()?;
        if !check.matched || !check.should_rehash {
            return None;
        }
        let hash = presented.lookup_hashes.first()?.clone();
        let mut upgraded = record.clone();
        upgraded.fingerprint = crate::hash::fingerprint(&hash);
        upgraded.hash = hash;
        Some(upgraded)
    }

    /// Mints a key of the engine's format `format_id` (`None`: the config's first
    /// format, [`FormatSet::named_or_first`]), hashed with the engine's hasher,
    /// its name checked against the policy's name rules.
    pub fn mint<'a>(
        &self,
        format_id: impl Into<Option<&'a str>>,
        options: &crate::mint::MintOptions,
        random: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::mint::MintedKey> {
        let format = self.formats().named_or_first(format_id.into())?;
        crate::mint::mint_with_rules(format, self.hasher(), options, random, now, &self.policy().names)
    }

    /// Applies a [`crate::RecordUpdate`] under the policy's name rules.
    pub fn update(
        &self,
        record: &mut KeyRecord,
        update: &crate::RecordUpdate,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        record.update_with_rules(update, now, &self.policy().names)
    }

    /// Rotates `record` to `successor_id` with the policy's grace period.
    pub fn rotate(&self, record: &mut KeyRecord, successor_id: &str, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        record.rotate(successor_id, now, self.policy().rotation_grace())
    }

    /// Replaces `record` with a new key in one step: mints the successor (same
    /// format, grants and lifetime, see [`KeyRecord::successor_options`]) and marks
    /// `record` rotated to it for `grace` (default: the policy's
    /// `rotation_grace_hours`). Refused transitions change nothing; the caller stores
    /// both records together.
    pub fn rotate_with_successor(
        &self,
        record: &mut KeyRecord,
        grace: Option<chrono::Duration>,
        random: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::mint::MintedKey> {
        let minted = self.mint(record.format.as_str(), &record.successor_options(now)?, random, now)?;
        let mut rotated = record.clone();
        rotated.rotate(&minted.record.id, now, grace.unwrap_or_else(|| self.policy().rotation_grace()))?;
        *record = rotated;
        Ok(minted)
    }

    /// The format a parsed key belongs to.
    pub fn format_of<'k>(&self, key: &'k ParsedKey) -> &'k KeyFormat {
        key.format()
    }
}
