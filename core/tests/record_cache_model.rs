//! The record cache against a model: random sequences of gets, puts,
//! invalidations, touches and clears over a few lookups, records and seconds,
//! answered by `RecordCache` and by a plain list-based model of its rules
//! (found records and unknown lookups in separate least-recently-used lists,
//! each entry fresh until its TTL); every answer and the final counters agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use keyproof::{mint, CacheConfig, CacheStats, Engine, KeyRecord, MintOptions, RecordCache};
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_773_829_800, 0).unwrap()
}

fn records() -> &'static [Arc<KeyRecord>] {
    static RECORDS: OnceLock<Vec<Arc<KeyRecord>>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let engine = Engine::from_json(r#"{"formats": ["keyproof_live"]}"#).unwrap();
        let format = engine.formats().get("keyproof_live").unwrap();
        (0..3u8)
            .map(|i| {
                let options = MintOptions::from_json(&format!(r#"{{"name": "Model key {i}"}}"#)).unwrap();
                Arc::new(mint(format, engine.hasher(), &options, &[i; 32], t0()).unwrap().record)
            })
            .collect()
    })
}

#[derive(Clone, Debug)]
enum Op {
    Get { lookup: u8, at: i64 },
    Put { lookup: u8, record: Option<usize>, at: i64 },
    Invalidate { record: usize },
    Touch { record: usize, at: i64 },
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..5u8, 0..60i64).prop_map(|(lookup, at)| Op::Get { lookup, at }),
        4 => (0..5u8, prop::option::of(0..3usize), 0..60i64).prop_map(|(lookup, record, at)| Op::Put { lookup, record, at }),
        1 => (0..3usize).prop_map(|record| Op::Invalidate { record }),
        1 => (0..3usize, 0..60i64).prop_map(|(record, at)| Op::Touch { record, at }),
        1 => Just(Op::Clear),
    ]
}

fn config() -> impl Strategy<Value = CacheConfig> {
    (1..20u32, 0..20u32, 1..4u32, 0..3u32).prop_map(|(ttl, absent, max_records, max_absent)| CacheConfig {
        ttl_seconds: ttl,
        absent_ttl_seconds: absent.min(ttl),
        max_records,
        max_absent,
    })
}

/// The model: entries in recency order (least recent first), each fresh before `until` seconds.
#[derive(Default)]
struct Model {
    found: Vec<(u8, usize, i64, Option<i64>)>, // lookup, record, until, last use (seconds)
    absent: Vec<(u8, i64)>,
    stats: CacheStats,
}

/// What a get answers, comparable across the two: a record's index and last use, or "none", or a miss.
type Answer = Option<Option<(usize, Option<i64>)>>;

impl Model {
    fn get(&mut self, lookup: u8, at: i64) -> Answer {
        if let Some(i) = self.found.iter().position(|e| e.0 == lookup) {
            let entry = self.found.remove(i);
            if at < entry.2 {
                self.found.push(entry);
                self.stats.hits += 1;
                return Some(Some((entry.1, entry.3)));
            }
        }
        if let Some(i) = self.absent.iter().position(|e| e.0 == lookup) {
            let entry = self.absent.remove(i);
            if at < entry.1 {
                self.absent.push(entry);
                self.stats.absent_hits += 1;
                return Some(None);
            }
        }
        self.stats.misses += 1;
        None
    }

    fn put(&mut self, c: &CacheConfig, lookup: u8, record: Option<usize>, at: i64) {
        self.found.retain(|e| e.0 != lookup);
        match record {
            Some(r) => {
                self.absent.retain(|e| e.0 != lookup);
                if self.found.len() == c.max_records as usize {
                    self.found.remove(0);
                    self.stats.evictions += 1;
                }
                self.found.push((lookup, r, at + i64::from(c.ttl_seconds), None));
            }
            None if c.absent_ttl_seconds > 0 && c.max_absent > 0 => {
                let existed = self.absent.iter().any(|e| e.0 == lookup);
                self.absent.retain(|e| e.0 != lookup);
                if !existed && self.absent.len() == c.max_absent as usize {
                    self.absent.remove(0);
                    self.stats.evictions += 1;
                }
                self.absent.push((lookup, at + i64::from(c.absent_ttl_seconds)));
            }
            None => {}
        }
    }
}

fn lookup_name(lookup: u8) -> String {
    format!("sha256:{lookup:02}")
}

fn seconds(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(|t| (t - t0()).num_seconds())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_cache_answers_as_its_model(config in config(), ops in prop::collection::vec(op(), 1..60)) {
        let cache = RecordCache::new(config).unwrap();
        let mut model = Model::default();
        let records = records();
        let index = |r: &KeyRecord| records.iter().position(|k| k.id == r.id).unwrap();
        for op in ops {
            match op {
                Op::Get { lookup, at } => {
                    let got = cache.get(&lookup_name(lookup), t0() + Duration::seconds(at));
                    let got = got.map(|r| r.map(|r| (index(&r), seconds(r.last_used_at))));
                    prop_assert_eq!(got, model.get(lookup, at), "{:?}", op);
                }
                Op::Put { lookup, record, at } => {
                    let shared = record.map(|r| Arc::clone(&records[r]));
                    cache.put(&lookup_name(lookup), shared, t0() + Duration::seconds(at));
                    model.put(&config, lookup, record, at);
                }
                Op::Invalidate { record } => {
                    let gone = cache.invalidate(&records[record].id);
                    let before = model.found.len();
                    model.found.retain(|e| e.1 != record);
                    prop_assert_eq!(gone, before - model.found.len());
                }
                Op::Touch { record, at } => {
                    cache.touch(&records[record].id, t0() + Duration::seconds(at));
                    for e in model.found.iter_mut().filter(|e| e.1 == record) {
                        if e.3.is_none_or(|last| last < at) {
                            e.3 = Some(at);
                        }
                    }
                }
                Op::Clear => {
                    cache.clear();
                    model = Model::default();
                }
            }
        }
        let stats = CacheStats { records: model.found.len() as u64, absent: model.absent.len() as u64, ..model.stats };
        prop_assert_eq!(cache.stats(), stats);
        prop_assert!(records.iter().all(|r| r.last_used_at.is_none()), "the shared records are never changed");
    }
}
