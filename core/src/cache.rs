//! A bounded, time-limited cache of looked-up records, so a host's database sees
//! one lookup per key and `ttl_seconds` instead of one per request. Configured
//! by the engine config's `record_cache` section and consulted by the host loop
//! ([`crate::Completion`]): a fresh entry answers a lookup without asking the
//! host; the host's answers are kept. Time is the request's instant, as
//! everywhere in core.
//!
//! What a cache changes, and the rules that keep it safe:
//! - A change made elsewhere (a revocation by another process) is seen within
//!   `ttl_seconds`: the cached record still decides until then. A change made
//!   through this engine's host loop is seen at once: a saved hash upgrade
//!   replaces the key's entries, a written last use updates the cached record (so
//!   the last-use hint stays once per interval). Hosts call
//!   [`RecordCache::invalidate`] after their own revocations and updates.
//! - Unknown keys are remembered for `absent_ttl_seconds` (0: never), so a client
//!   retrying a wrong key does not reach the database each time. They live in
//!   their own, separately bounded list: a flood of random well-formed keys can
//!   evict other unknown keys, never a cached record.
//! - Expiry, rotation grace and every other rule are judged at each request's
//!   instant against the cached record: caching never extends a key's life.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use lru::LruCache;
use serde::{de, Deserialize, Deserializer, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::record::KeyRecord;

/// The pub/sub channel on which hosts announce a changed key (the message is its
/// id), so every process's cache drops it: one name for every runtime's listener.
pub const RECORD_CACHE_CHANNEL: &str = "keyproof:record-cache";

/// Longest a record may be reused: a day (a revocation elsewhere must take effect).
pub const MAX_CACHE_TTL_SECONDS: u32 = 86_400;
/// Most entries either list may hold.
pub const MAX_CACHE_ENTRIES: u32 = 1_000_000;

/// How long and how many looked-up records an engine keeps (`record_cache`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Seconds a found record answers lookups before it is looked up again (1 … 86,400).
    #[serde(default = "default_ttl")]
    pub ttl_seconds: u32,
    /// Seconds "no record under this hash" is remembered (0: never; at most `ttl_seconds`).
    #[serde(default = "default_absent_ttl")]
    pub absent_ttl_seconds: u32,
    /// Most records kept; the least recently used goes first (1 … 1,000,000).
    #[serde(default = "default_max")]
    pub max_records: u32,
    /// Most unknown lookups remembered, apart from the records (0 … 1,000,000).
    #[serde(default = "default_max")]
    pub max_absent: u32,
}

fn default_ttl() -> u32 {
    30
}

fn default_absent_ttl() -> u32 {
    5
}

fn default_max() -> u32 {
    10_000
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            ttl_seconds: default_ttl(),
            absent_ttl_seconds: default_absent_ttl(),
            max_records: default_max(),
            max_absent: default_max(),
        }
    }
}

impl crate::load::Load for CacheConfig {
    const KIND: ErrorKind = ErrorKind::InvalidCache;

    fn check(&self) -> Result<()> {
        let refused = |message: &str| Err(Error::new(ErrorKind::InvalidCache, message));
        if !(1..=MAX_CACHE_TTL_SECONDS).contains(&self.ttl_seconds) {
            return refused("record_cache.ttl_seconds must be from 1 to 86400");
        }
        if self.absent_ttl_seconds > self.ttl_seconds {
            return refused("record_cache.absent_ttl_seconds must not exceed ttl_seconds");
        }
        if !(1..=MAX_CACHE_ENTRIES).contains(&self.max_records) {
            return refused("record_cache.max_records must be from 1 to 1000000");
        }
        if self.max_absent > MAX_CACHE_ENTRIES {
            return refused("record_cache.max_absent must be at most 1000000");
        }
        Ok(())
    }
}

/// The engine config's `record_cache`: every refusal, of its shape or its
/// ranges, is `invalid_cache`.
pub(crate) fn deserialize_config<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<CacheConfig>, D::Error> {
    let refused = |message: String| de::Error::custom(format!("invalid_cache: {message}"));
    let config = Option::<CacheConfig>::deserialize(d).map_err(|e| refused(e.to_string()))?;
    if let Some(c) = &config {
        crate::load::Load::check(c).map_err(|e| refused(e.message().to_string()))?;
    }
    Ok(config)
}

/// What a cache has done since it was built (or cleared).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Records held now.
    pub records: u64,
    /// Unknown lookups remembered now.
    pub absent: u64,
    /// Lookups answered with a cached record.
    pub hits: u64,
    /// Lookups answered with a remembered "no record".
    pub absent_hits: u64,
    /// Lookups the host had to answer.
    pub misses: u64,
    /// Entries dropped to make room.
    pub evictions: u64,
}

/// A looked-up record and the instant (µs since the epoch) it stops answering.
struct Found {
    record: Arc<KeyRecord>,
    until_us: i64,
}

struct Entries {
    found: LruCache<String, Found>,
    absent: Option<LruCache<String, i64>>,
    /// Record id → the lookups its record is cached under (its hash, or its id
    /// for an access token's confirmation), to drop or update them all.
    by_id: HashMap<String, Vec<String>>,
    stats: CacheStats,
}

/// The cache one engine shares between its requests (and threads).
pub struct RecordCache {
    config: CacheConfig,
    entries: Mutex<Entries>,
}

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCache").field("config", &self.config).field("stats", &self.stats()).finish()
    }
}

fn capacity(n: u32) -> Option<NonZeroUsize> {
    NonZeroUsize::new(usize::try_from(n).unwrap_or(usize::MAX))
}

fn micros_after(now: DateTime<Utc>, seconds: u32) -> i64 {
    now.timestamp_micros().saturating_add(i64::from(seconds).saturating_mul(1_000_000))
}

impl RecordCache {
    /// An empty cache (the config is checked: `invalid_cache`).
    pub fn new(config: CacheConfig) -> Result<Self> {
        crate::load::Load::check(&config)?;
        let found = LruCache::new(capacity(config.max_records).unwrap_or(NonZeroUsize::MIN));
        let absent = capacity(config.max_absent).filter(|_| config.absent_ttl_seconds > 0).map(LruCache::new);
        let entries = Entries { found, absent, by_id: HashMap::new(), stats: CacheStats::default() };
        Ok(Self { config, entries: Mutex::new(entries) })
    }

    /// The configuration.
    pub fn config(&self) -> CacheConfig {
        self.config
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Core never panics while holding the lock, so a poisoned lock holds whole entries.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer cached for `lookup` at `now`: `Some(Some(record))`, `Some(None)`
    /// (remembered as unknown), or `None` (ask the host). Stale entries are dropped.
    pub fn get(&self, lookup: &str, now: DateTime<Utc>) -> Option<Option<Arc<KeyRecord>>> {
        let now_us = now.timestamp_micros();
        let mut e = self.entries();
        if let Some(found) = e.found.get(lookup) {
            if now_us < found.until_us {
                let record = Arc::clone(&found.record);
                e.stats.hits = e.stats.hits.saturating_add(1);
                return Some(Some(record));
            }
            e.remove_found(lookup);
        }
        let remembered = e.absent.as_mut().and_then(|absent| absent.get(lookup).copied());
        match remembered {
            Some(until_us) if now_us < until_us => {
                e.stats.absent_hits = e.stats.absent_hits.saturating_add(1);
                return Some(None);
            }
            Some(_) => drop(e.absent.as_mut().and_then(|absent| absent.pop(lookup))),
            None => {}
        }
        e.stats.misses = e.stats.misses.saturating_add(1);
        None
    }

    /// Keeps the host's answer for `lookup` (a record, or none) from `now`.
    pub fn put(&self, lookup: &str, record: Option<Arc<KeyRecord>>, now: DateTime<Utc>) {
        let mut e = self.entries();
        match record {
            Some(record) => e.insert_found(lookup, record, micros_after(now, self.config.ttl_seconds)),
            None => {
                e.remove_found(lookup);
                let until_us = micros_after(now, self.config.absent_ttl_seconds);
                if let Some(absent) = e.absent.as_mut() {
                    if absent.push(lookup.to_string(), until_us).is_some_and(|(old, _)| old != lookup) {
                        e.stats.evictions = e.stats.evictions.saturating_add(1);
                    }
                }
            }
        }
    }

    /// Forgets every entry of the record `key_id` (call it after revoking,
    /// disabling or updating the key, or deleting its record); how many went.
    pub fn invalidate(&self, key_id: &str) -> usize {
        let mut e = self.entries();
        let lookups = e.by_id.remove(key_id).unwrap_or_default();
        for lookup in &lookups {
            e.found.pop(lookup.as_str());
        }
        lookups.len()
    }

    /// The record was saved by this host (a finished hash upgrade): its old
    /// entries go, and it answers under its new hash from `now`.
    pub fn replace(&self, record: &KeyRecord, now: DateTime<Utc>) {
        self.invalidate(&record.id);
        self.put(&record.hash, Some(Arc::new(record.clone())), now);
    }

    /// This host wrote `at` as the key's last use: the cached record says so too,
    /// so the last-use hint comes once per interval, not on every cached request.
    pub fn touch(&self, key_id: &str, at: DateTime<Utc>) {
        let mut e = self.entries();
        let lookups = e.by_id.get(key_id).cloned().unwrap_or_default();
        for lookup in lookups {
            if let Some(found) = e.found.peek_mut(lookup.as_str()) {
                if found.record.last_used_at.is_none_or(|last| last < at) {
                    Arc::make_mut(&mut found.record).last_used_at = Some(at);
                }
            }
        }
    }

    /// Forgets everything (the counters too).
    pub fn clear(&self) {
        let mut e = self.entries();
        e.found.clear();
        if let Some(absent) = e.absent.as_mut() {
            absent.clear();
        }
        e.by_id.clear();
        e.stats = CacheStats::default();
    }

    /// Counters and sizes.
    pub fn stats(&self) -> CacheStats {
        let e = self.entries();
        let size = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let absent = e.absent.as_ref().map_or(0, LruCache::len);
        CacheStats { records: size(e.found.len()), absent: size(absent), ..e.stats }
    }
}

impl Entries {
    fn insert_found(&mut self, lookup: &str, record: Arc<KeyRecord>, until_us: i64) {
        if let Some(absent) = self.absent.as_mut() {
            absent.pop(lookup);
        }
        self.remove_found(lookup);
        let id = record.id.clone();
        if let Some((evicted, old)) = self.found.push(lookup.to_string(), Found { record, until_us }) {
            self.unindex(&old.record.id, &evicted);
            self.stats.evictions = self.stats.evictions.saturating_add(1);
        }
        self.by_id.entry(id).or_default().push(lookup.to_string());
    }

    fn remove_found(&mut self, lookup: &str) {
        if let Some(old) = self.found.pop(lookup) {
            self.unindex(&old.record.id, lookup);
        }
    }

    fn unindex(&mut self, id: &str, lookup: &str) {
        if let Some(lookups) = self.by_id.get_mut(id) {
            lookups.retain(|l| l != lookup);
            if lookups.is_empty() {
                self.by_id.remove(id);
            }
        }
    }
}
