//! The record cache's own rules (its behaviour through the host loop is pinned
//! by `tests/vectors/record_cache.json`): bounds, sharing, last-use updates,
//! and that it never shows a hash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keyproof::{mint, CacheConfig, Engine, KeyRecord, Load, MintOptions, RecordCache};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_773_829_800, 0).unwrap()
}

fn record(name: &str) -> Arc<KeyRecord> {
    let engine = Engine::from_json(r#"{"formats": ["keyproof_live"]}"#).unwrap();
    let options = MintOptions::from_json(&format!(r#"{{"name": "{name}"}}"#)).unwrap();
    let format = engine.formats().get("keyproof_live").unwrap();
    Arc::new(mint(format, engine.hasher(), &options, name.as_bytes().repeat(32).as_slice(), t0()).unwrap().record)
}

#[test]
fn settings_out_of_range_are_invalid_cache() {
    let refused = [
        r#"{"ttl_seconds": 0}"#,
        r#"{"ttl_seconds": 86401}"#,
        r#"{"ttl_seconds": 5, "absent_ttl_seconds": 6}"#,
        r#"{"max_records": 0}"#,
        r#"{"max_records": 1000001}"#,
        r#"{"max_absent": 1000001}"#,
        r#"{"ttl_seconds": -1}"#,
        r#"{"ttl_seconds": 30, "extra": true}"#,
    ];
    for json in refused {
        assert_eq!(CacheConfig::load_json(json).unwrap_err().code(), "invalid_cache", "{json}");
        let engine = format!(r#"{{"formats": ["keyproof_live"], "record_cache": {json}}}"#);
        let err = Engine::from_json(&engine).unwrap_err();
        assert_eq!(err.code(), "invalid_cache", "{json}");
        assert!(err.message().starts_with("record_cache"), "the path leads: {}", err.message());
    }
    let defaults = CacheConfig::load_json("{}").unwrap();
    assert_eq!(defaults, CacheConfig::default());
    assert_eq!((defaults.ttl_seconds, defaults.absent_ttl_seconds, defaults.max_records), (30, 5, 10_000));
    assert!(Engine::from_json(r#"{"formats": ["keyproof_live"]}"#).unwrap().record_cache().is_none());
}

#[test]
fn clones_of_an_engine_share_its_cache() {
    let engine = Engine::from_json(r#"{"formats": ["keyproof_live"], "record_cache": {}}"#).unwrap();
    let clone = engine.clone();
    engine.record_cache().unwrap().put("sha256:aa", Some(record("Shared key")), t0());
    assert!(clone.record_cache().unwrap().get("sha256:aa", t0()).is_some_and(|r| r.is_some()));
    // Another engine built from the same config has its own.
    let other = Engine::from_json(r#"{"formats": ["keyproof_live"], "record_cache": {}}"#).unwrap();
    assert_eq!(other.record_cache().unwrap().get("sha256:aa", t0()), None);
}

#[test]
fn threads_share_one_cache() {
    let cache = Arc::new(RecordCache::new(CacheConfig::default()).unwrap());
    let key = record("Threaded key");
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (cache, key) = (Arc::clone(&cache), Arc::clone(&key));
            std::thread::spawn(move || {
                for n in 0..100 {
                    let lookup = format!("sha256:{i}-{n}");
                    cache.put(&lookup, Some(Arc::clone(&key)), t0());
                    assert!(cache.get(&lookup, t0()).is_some());
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    let stats = cache.stats();
    assert_eq!((stats.records, stats.hits), (400, 400));
    assert_eq!(cache.invalidate(&key.id), 400, "every lookup of the key goes");
    assert_eq!(cache.stats().records, 0);
}

#[test]
fn an_absent_answer_replaces_a_record_and_a_record_replaces_an_absent_answer() {
    let cache = RecordCache::new(CacheConfig::default()).unwrap();
    let key = record("Replaced key");
    cache.put("h", Some(Arc::clone(&key)), t0());
    cache.put("h", None, t0());
    assert_eq!(cache.get("h", t0()), Some(None));
    assert_eq!(cache.invalidate(&key.id), 0, "the record's index went with it");
    cache.put("h", Some(key), t0());
    assert!(cache.get("h", t0()).is_some_and(|r| r.is_some()));
    assert_eq!((cache.stats().records, cache.stats().absent), (1, 0));
}

#[test]
fn touch_moves_the_last_use_forward_only_and_copies_the_record() {
    let cache = RecordCache::new(CacheConfig::default()).unwrap();
    let key = record("Touched key");
    cache.put(&key.hash, Some(Arc::clone(&key)), t0());
    cache.touch(&key.id, t0() + Duration::seconds(60));
    cache.touch(&key.id, t0() + Duration::seconds(30));
    let cached = cache.get(&key.hash, t0()).flatten().unwrap();
    assert_eq!(cached.last_used_at, Some(t0() + Duration::seconds(60)));
    assert_eq!(key.last_used_at, None, "the host's own record is not changed");
    cache.touch("someone-else", t0() + Duration::seconds(90));
    assert_eq!(cache.get(&key.hash, t0()).flatten().unwrap().last_used_at, Some(t0() + Duration::seconds(60)));
}

#[test]
fn clear_forgets_entries_and_counters() {
    let cache = RecordCache::new(CacheConfig::default()).unwrap();
    cache.put("a", Some(record("Cleared key")), t0());
    cache.put("b", None, t0());
    assert_eq!(cache.get("c", t0()), None);
    cache.clear();
    assert_eq!(cache.stats(), keyproof::CacheStats::default());
    assert_eq!(cache.get("a", t0()), None);
}

#[test]
fn debug_shows_settings_and_counters_never_a_record() {
    let cache = RecordCache::new(CacheConfig::default()).unwrap();
    let key = record("Hidden key");
    cache.put(&key.hash, Some(Arc::clone(&key)), t0());
    let shown = format!("{cache:?}");
    assert!(shown.contains("ttl_seconds: 30") && shown.contains("records: 1"), "{shown}");
    assert!(!shown.contains(&key.hash) && !shown.contains(&key.id), "{shown}");
}

#[test]
fn a_host_reading_the_next_action_twice_is_asked_once_and_counted_once() {
    use keyproof::{Action, Completion};
    let config = r#"{"formats": ["keyproof_live"], "policy": {"unknown_routes": "authenticate"}, "record_cache": {}}"#;
    let engine = Engine::from_json(config).unwrap();
    let options = MintOptions::from_json(r#"{"name": "Asked once"}"#).unwrap();
    let format = engine.formats().get("keyproof_live").unwrap();
    let minted = mint(format, engine.hasher(), &options, &[3; 32], t0()).unwrap();
    let headers = [("Authorization", format!("Bearer {}", minted.key.expose()))];
    for (n, expected_lookups) in [(0, 1), (1, 0)] {
        let mut c = Completion::new(engine.begin("GET", "/", &headers, None, t0() + Duration::seconds(n)));
        let mut lookups = 0;
        loop {
            let _ = c.next_action(); // a host may look before it acts
            match c.next_action() {
                Action::LookupRecord(_) => {
                    lookups += 1;
                    c.record(Some(minted.record.clone()));
                }
                Action::Done(d) => {
                    assert!(d.allowed, "{}", d.detail);
                    break;
                }
                Action::TouchLastUsed { .. } => c.touched(),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(lookups, expected_lookups);
    }
    let stats = engine.record_cache().unwrap().stats();
    assert_eq!((stats.misses, stats.hits), (1, 1));
}
