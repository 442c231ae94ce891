//! Record lifecycle: sequences of rotate / revoke / disable / enable / update
//! (core's own and the engine's, under a policy's name rules and grace) and
//! successor options, on a fuzzed record (loaded from JSON, else minted) with
//! fuzzed successor ids, grace periods, updates and clocks, extremes included.
//!
//! Invariants: no panic; a refused change (Err) and a no-op (Ok(false)) leave
//! the record exactly as it was; an accepted change never touches id, hash,
//! fingerprint, format or created_at; revoked is final; a record a store can
//! load is still loadable after any accepted change, and reads back equal (what
//! a store writes is what it can read back); successor options round-trip and mint.
#![no_main]

use std::sync::OnceLock;

use keyproof::lifecycle::parse_grace;
use keyproof::{Engine, Hasher, KeyRecord, KeyStatus, MintOptions, RecordUpdate, Result};
use keyproof_fuzz::{clock, storable, Input, KITCHEN_SINK};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static CELL: OnceLock<Engine> = OnceLock::new();
    CELL.get_or_init(|| {
        // The kitchen sink with strict name rules.
        let config = KITCHEN_SINK
            .replace(r#""max_length": 1000"#, r#""max_length": 20"#)
            .replace(r#""min_length": 1,"#, r#""min_length": 3,"#);
        Engine::from_json(&config).expect("lifecycle engine")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let record_json = input.field();
    let mut record = match KeyRecord::from_json(&record_json) {
        Ok(r) => r,
        Err(_) => {
            let formats = keyproof::presets::all();
            let format = &formats[input.choose(formats.len())];
            let random = input.bytes::<16>();
            let now = clock(&mut input);
            let options = MintOptions::from_json(&record_json).unwrap_or_else(|_| MintOptions::named("fuzz key"));
            match keyproof::mint(format, &Hasher::default(), &options, &random, now) {
                Ok(m) => m.record,
                Err(_) => return,
            }
        }
    };

    for _ in 0..8 {
        if input.remaining_ctl() == 0 {
            break;
        }
        let op = input.u8() % 9;
        let now = clock(&mut input);
        let text = input.field();
        let before = record.clone();
        // What a store can read back (validates, and every timestamp lies in 0001–9999).
        let loadable_before = KeyRecord::from_json(&before.to_json()).is_ok();
        let result: Result<bool> = match op {
            0 => {
                let grace = match parse_grace(&text) {
                    Ok(g) => g,
                    Err(_) => chrono::TimeDelta::try_seconds(input.i64() / 4).unwrap_or_default(),
                };
                let named = input.field();
                let successor = if named.is_empty() { successor_id(&mut input) } else { named.into_owned() };
                let r = record.rotate(&successor, now, grace).map(|()| true);
                if r.is_ok() {
                    let rot = record.rotation.as_ref().expect("rotated");
                    assert_eq!(rot.replaced_by.as_deref(), Some(successor.as_str()));
                    assert_eq!(Some(rot.grace_until), now.checked_add_signed(grace));
                    assert!(before.rotation.is_none() && before.status == KeyStatus::Active);
                }
                r
            }
            1 => {
                let successor = if text.is_empty() { successor_id(&mut input) } else { text.to_string() };
                engine().rotate(&mut record, &successor, now).map(|()| true)
            }
            2 => {
                let r = record.revoke(now);
                if r.as_ref().is_ok_and(|c| *c) {
                    assert_eq!((record.status, record.revoked_at), (KeyStatus::Revoked, Some(now)));
                }
                r
            }
            3 => record.disable(now),
            4 => record.enable(now),
            5 | 6 => {
                let Ok(update) = RecordUpdate::from_json(&text) else { continue };
                if op == 5 {
                    record.update(&update, now)
                } else {
                    engine().update(&mut record, &update, now)
                }
            }
            _ => {
                successor(&record, now);
                continue;
            }
        };
        match &result {
            Err(_) | Ok(false) => assert!(record == before, "op {op} ({result:?}) changed the record"),
            Ok(true) => {
                assert!(record != before, "op {op} reported a change that did not happen");
                assert_eq!(
                    (&record.id, &record.hash, &record.fingerprint, &record.format, record.created_at),
                    (&before.id, &before.hash, &before.fingerprint, &before.format, before.created_at),
                    "op {op} changed an immutable field"
                );
            }
        }
        if before.status == KeyStatus::Revoked {
            assert!(matches!((op, &result), (2, Ok(false)) | (_, Err(_))), "op {op} on a revoked key: {result:?}");
        }
        // Findings F1 and F2 (artifacts-found/README.md): whatever the clock,
        // an operation leaves a loadable record loadable.
        if loadable_before && result.is_ok() {
            let json = record.to_json();
            match KeyRecord::from_json(&json) {
                Ok(again) => assert!(again == record, "op {op} at {now}: the record changed in a round trip: {json}"),
                Err(e) => {
                    panic!("op {op} at {now} made a loadable record unloadable ({}: {}): {json}", e.code(), e.message())
                }
            }
        }
    }
});

fn successor_id(input: &mut Input<'_>) -> String {
    match input.u8() % 4 {
        0 => String::new(),
        1 => "x".repeat(usize::from(input.u8())),
        2 => "bad id!".into(),
        _ => format!("key_{:08x}", input.u32()),
    }
}

/// Options for the key that replaces `record`: they round-trip and, for a
/// valid record of a preset format, mint.
fn successor(record: &KeyRecord, now: chrono::DateTime<chrono::Utc>) {
    let Ok(options) = record.successor_options(now) else { return };
    let text = serde_json::to_string(&options).expect("options serialize");
    assert_eq!(MintOptions::from_json(&text).ok().as_ref(), Some(&options), "successor options: {text}");
    let Ok(format) = keyproof::presets::get(&record.format) else { return };
    let mintable = storable(now)
        && record.validate().is_ok()
        && keyproof::record::validate_name(&record.name).is_ok()
        && record.expires_at.is_none_or(|e| e > record.created_at);
    let minted = keyproof::mint(&format, &Hasher::default(), &options, &[9u8; 32], now);
    if mintable {
        if let Err(e) = &minted {
            panic!("successor of a valid record does not mint: {}: {}", e.code(), e.message());
        }
    }
    if let Ok(m) = minted {
        let r = &m.record;
        assert_eq!(
            (&r.scopes, &r.role, &r.plan, &r.features),
            (&record.scopes, &record.role, &record.plan, &record.features)
        );
        assert_eq!(
            (&r.allowed_ips, &r.client_id, &r.metadata),
            (&record.allowed_ips, &record.client_id, &record.metadata)
        );
    }
}
