//! Lifecycle vectors: one record, one operation (rotate, revoke, disable,
//! enable, update), the record after it or the refusal's code.

use chrono::Duration;
use keyproof::{KeyRecord, RecordUpdate};
use serde_json::{json, Value};

use super::{t0, Suite, VectorFile};

/// Applies one operation as every runtime must.
pub fn apply(record: &mut KeyRecord, op: &Value, now: chrono::DateTime<chrono::Utc>) -> keyproof::Result<bool> {
    match op["op"].as_str().unwrap() {
        "rotate" => {
            let grace = Duration::hours(op["grace_hours"].as_i64().unwrap());
            record.rotate(op["successor_id"].as_str().unwrap(), now, grace).map(|()| true)
        }
        "revoke" => record.revoke(now),
        "disable" => record.disable(now),
        "enable" => record.enable(now),
        "update" => record.update(&RecordUpdate::from_json(&op["update"].to_string())?, now),
        other => panic!("unknown op {other}"),
    }
}

pub fn all() -> Vec<VectorFile> {
    let mut s = Suite::new("lifecycle", "", json!({"formats": ["matchii_live"]}));
    let base = |s: &mut Suite, label: &str, edit: &dyn Fn(&mut KeyRecord)| -> Value {
        s.mint_with(
            label,
            "matchii_live",
            json!({"name": "Lifecycle key", "id_style": {"style": "prefixed"}, "scopes": ["briefs:read"], "expires_in": "90d"}),
            |r| edit(r),
        );
        serde_json::from_str(&s.records.pop().unwrap().to_json()).unwrap()
    };
    let active = base(&mut s, "active", &|_| {});
    let revoked = base(&mut s, "revoked", &|r| {
        r.revoke(t0() - Duration::days(1)).unwrap();
    });
    let disabled = base(&mut s, "disabled", &|r| {
        r.disable(t0() - Duration::days(1)).unwrap();
    });
    let rotated = base(&mut s, "rotated", &|r| {
        r.rotate("key_0badc0de", t0() - Duration::hours(2), Duration::hours(24)).unwrap();
    });
    let rotate = |grace: i64| json!({"op": "rotate", "successor_id": "key_5ucce550", "grace_hours": grace});
    let update = |u: Value| json!({"op": "update", "update": u});
    let cases: Vec<(&str, &Value, Value, &str)> = vec![
        ("rotate an active key (24 h grace)", &active, rotate(24), "ok"),
        ("rotate with a 0 h grace", &active, rotate(0), "ok"),
        ("rotate a revoked key", &revoked, rotate(24), "invalid_transition"),
        ("rotate a disabled key", &disabled, rotate(24), "invalid_transition"),
        ("rotate an already rotated key", &rotated, rotate(24), "invalid_transition"),
        ("rotate with a grace past year 9999", &active, rotate(24 * 365 * 9000), "invalid_timestamp"),
        ("rotate with a negative grace", &active, rotate(-1), "invalid_transition"),
        ("revoke an active key", &active, json!({"op": "revoke"}), "ok"),
        ("revoke a revoked key (no change)", &revoked, json!({"op": "revoke"}), "ok"),
        ("disable an active key", &active, json!({"op": "disable"}), "ok"),
        ("disable a revoked key", &revoked, json!({"op": "disable"}), "invalid_transition"),
        ("enable a disabled key", &disabled, json!({"op": "enable"}), "ok"),
        ("enable a revoked key", &revoked, json!({"op": "enable"}), "invalid_transition"),
        ("enable an active key (no change)", &active, json!({"op": "enable"}), "ok"),
        (
            "update allowed_ips (seed 001 PATCH)",
            &active,
            update(json!({"allowed_ips": ["203.0.113.0/24", "198.51.100.4/32"]})),
            "ok",
        ),
        (
            "update name, scopes, role, plan, features, metadata",
            &active,
            update(json!({"name": "Renamed key", "scopes": ["briefs:read", "briefs:write"], "role": "admin",
                          "plan": "pro", "features": ["verify"], "metadata": {"team": "core"}})),
            "ok",
        ),
        ("update clears expiry", &active, update(json!({"expires_at": null})), "ok"),
        ("update binds a client id", &active, update(json!({"client_id": "amc_Client000001"})), "ok"),
        ("update with nothing new (no change)", &active, update(json!({"scopes": ["briefs:read"]})), "ok"),
        ("update a revoked key", &revoked, update(json!({"name": "Again"})), "invalid_transition"),
        ("update with a bad CIDR", &active, update(json!({"allowed_ips": ["10.0.0.0/33"]})), "invalid_cidr"),
        (
            "update allowed_origins (kept canonical: lowercase, default port left out)",
            &active,
            update(json!({"allowed_origins": ["HTTPS://Shop.Example.com:443", "http://localhost:3000"]})),
            "ok",
        ),
        (
            "update with an origin without a scheme",
            &active,
            update(json!({"allowed_origins": ["shop.example.com"]})),
            "invalid_origin",
        ),
        ("update with a bad scope", &active, update(json!({"scopes": ["a b"]})), "invalid_scope"),
        ("update with an empty name", &active, update(json!({"name": ""})), "invalid_name"),
        ("update with a bad client id", &active, update(json!({"client_id": "a b"})), "invalid_id"),
        ("update with an unknown field", &active, update(json!({"colour": "red"})), "invalid_record"),
        (
            "update with a year-10000 expiry",
            &active,
            update(json!({"expires_at": "+10000-01-01T00:00:00"})),
            "invalid_timestamp",
        ),
    ];
    // A host clock behind the record's (skew between hosts, a clock stepping
    // back) must still leave a record that loads again: updated_at never
    // moves before created_at.
    let created = keyproof::timestamp::parse_timestamp(active["created_at"].as_str().unwrap()).unwrap();
    let skewed = created - Duration::days(1);
    let cases = cases.into_iter().map(|(name, record, op, expect)| (name, record, op, expect, t0())).chain([(
        "rotate with a clock a day behind created_at",
        &active,
        rotate(24),
        "ok",
        skewed,
    )]);
    let mut vectors = Vec::new();
    for (name, record, op, expect, now) in cases {
        let mut r = KeyRecord::from_json(&record.to_string()).unwrap();
        let expected = match apply(&mut r, &op, now) {
            Ok(changed) => {
                KeyRecord::from_json(&r.to_json())
                    .unwrap_or_else(|e| panic!("lifecycle: {name}: unreadable record: {e}"));
                json!({"ok": true, "changed": changed, "record": serde_json::from_str::<Value>(&r.to_json()).unwrap()})
            }
            Err(e) => json!({"ok": false, "code": e.code()}),
        };
        let got = expected["code"].as_str().unwrap_or("ok");
        assert_eq!(got, expect, "lifecycle: {name}");
        let now = keyproof::timestamp::format_timestamp(&now);
        vectors.push(json!({"name": name, "record": record, "operation": op, "now": now, "expected": expected}));
    }
    let count = vectors.len();
    vec![VectorFile {
        name: "lifecycle".into(),
        json: json!({"kind": "lifecycle", "description": "Record lifecycle: rotate, revoke, disable, enable and update, with every refusal", "vectors": vectors}),
        count,
    }]
}
