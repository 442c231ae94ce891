//! Charges and refunds after the fact (`KeyRecord::charge`, `KeyRecord::refund`):
//! a charge spends what was left and reports the rest unpaid, a refund gives back
//! at most what the period spent; the write is the counter's compare-and-set.

use chrono::Duration;
use keyproof::RateLimitState;
use serde_json::{json, Value};

use super::{t0, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new("usage_charges", "", json!({"formats": ["keyproof_live"]}));
    let limited = |usage: Value| json!({"name": "Charged key", "usage_limit": usage});
    s.mint("monthly", "keyproof_live", limited(json!({"limit": 10, "period": "month"})));
    s.mint("credits", "keyproof_live", limited(json!({"limit": 100})));
    let credits_id = s.records.last().map(|r| r.id.clone()).unwrap_or_default();
    s.mint("sharing", "keyproof_live", limited(json!({"limit": 100, "counter": credits_id})));
    s.mint("unlimited", "keyproof_live", json!({"name": "Charged key"}));
    let [monthly, credits, sharing, unlimited] = [0, 1, 2, 3].map(|i| s.records[i].clone());
    let now = t0();
    let end_at = |r: &keyproof::KeyRecord, at| r.usage_limit.as_ref().map_or(0, |u| u.meter(&r.id, at).end_us);
    let end = |r: &keyproof::KeyRecord| end_at(r, now);
    let spent = |r: &keyproof::KeyRecord, units: i64| Some(RateLimitState { tat_us: end(r) + units });
    assert_eq!(sharing.usage(None, now).map(|u| u.key), credits.usage(None, now).map(|u| u.key));

    // Each case states what the key has left after it and what went unpaid (None: no usage limit).
    let mut vectors = Vec::new();
    // A refund's write moves the counter down by what it gave back (from a full counter for an odd state).
    let mut settle =
        |op: &str, name: &str, record: &keyproof::KeyRecord, state, units, at, expect: Option<(u32, u32)>| {
            let refund = op == "refund";
            let charged = if refund { record.refund(state, units, at) } else { record.charge(state, units, at) };
            assert_eq!(charged.as_ref().map(|c| (c.usage.outcome.remaining, c.unpaid)), expect, "{name}");
            if let (Some(c), Some(limit)) = (&charged, &record.usage_limit) {
                let applied = i64::from(units - c.unpaid);
                let end = end_at(record, at);
                let sane = |s: &RateLimitState| (end..=end + i64::from(limit.limit)).contains(&s.tat_us);
                let before = state.map_or(end, |s| if sane(&s) { s.tat_us } else { end + i64::from(limit.limit) });
                let moved = if refund { -applied } else { applied };
                assert_eq!(c.write.as_ref().map(|w| w.new.tat_us - before), (applied > 0).then_some(moved), "{name}");
            }
            let mut vector = json!({"name": name, "record_id": record.id, "state": state, "units": units,
            "now": keyproof::timestamp::format_timestamp(&at), "expected": charged});
            if refund {
                vector["operation"] = json!("refund");
            }
            vectors.push(vector);
        };
    let mut charge = |name: &str, record: &keyproof::KeyRecord, state, units, at, expect| {
        settle("charge", name, record, state, units, at, expect);
    };
    charge("monthly: 4 units from nothing spent", &monthly, None, 4, now, Some((6, 0)));
    charge("monthly: 6 more spend the rest", &monthly, spent(&monthly, 4), 6, now, Some((0, 0)));
    charge("monthly: 5 with 2 left: 2 paid, 3 unpaid", &monthly, spent(&monthly, 8), 5, now, Some((0, 3)));
    charge("monthly: nothing left: no write, all unpaid", &monthly, spent(&monthly, 10), 3, now, Some((0, 3)));
    charge("monthly: 0 units change nothing", &monthly, spent(&monthly, 3), 0, now, Some((7, 0)));
    let odd = Some(RateLimitState { tat_us: -7 });
    charge("monthly: a state no spending produces counts as spent", &monthly, odd, 2, now, Some((0, 2)));
    let april = now + Duration::days(14);
    charge("monthly: the next month has its own counter", &monthly, None, 1, april, Some((9, 0)));
    charge("credits: 250 from 100: 100 paid, 150 unpaid", &credits, None, 250, now, Some((0, 150)));
    let shared = spent(&credits, 90);
    charge("credits: a key naming another's counter charges it", &sharing, shared, 4, now, Some((6, 0)));
    charge("no usage limit: nothing to charge", &unlimited, None, 5, now, None);
    let mut refund = |name: &str, record: &keyproof::KeyRecord, state, units, at, expect| {
        settle("refund", name, record, state, units, at, expect);
    };
    refund("refund: 3 of the 8 spent come back", &monthly, spent(&monthly, 8), 3, now, Some((5, 0)));
    refund(
        "refund: more than the period spent gives back what it spent",
        &monthly,
        spent(&monthly, 2),
        5,
        now,
        Some((10, 3)),
    );
    refund("refund: nothing spent, nothing to give back", &monthly, None, 4, now, Some((10, 4)));
    let odd = Some(RateLimitState { tat_us: -7 });
    refund("refund: a state no spending produces counts as fully spent", &monthly, odd, 4, now, Some((4, 0)));
    refund("refund: credits", &credits, spent(&credits, 100), 30, now, Some((30, 0)));
    refund("refund: no usage limit, nothing to refund", &unlimited, None, 5, now, None);
    let records: Vec<Value> = s.records.iter().map(|r| serde_json::from_str(&r.to_json()).unwrap()).collect();
    let count = vectors.len();
    let description = "Charges and refunds after the fact (KeyRecord::charge, KeyRecord::refund; `operation` absent means charge): a charge spends what was left and reports the rest unpaid, a refund gives back at most what the period spent; the write is the counter's compare-and-set, none when nothing changes";
    VectorFile {
        name: "usage_charges".into(),
        json: json!({"kind": "charges", "description": description, "config": {"formats": ["keyproof_live"]},
            "records": records, "vectors": vectors}),
        count,
    }
}
