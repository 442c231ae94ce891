//! The engine configuration's JSON Schema, generated from core's types
//! (`cargo test -p keyproof --features schema --test schema`; `KEYPROOF_BLESS=1`
//! rewrites it). Editors autocomplete configs that name it in `$schema`.
#![cfg(feature = "schema")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema/keyproof-config.schema.json")
}

fn generate() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(keyproof::EngineConfig)).unwrap();
    let obj = schema.as_object_mut().unwrap();
    obj.insert("$id".into(), "https://keyproof.dev/schema/keyproof-config.schema.json".into());
    obj.insert("title".into(), "keyproof engine configuration".into());
    schema
}

#[test]
fn schema_is_up_to_date() {
    let text = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    if std::env::var("KEYPROOF_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(schema_path(), &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert!(on_disk == text, "schema/keyproof-config.schema.json is stale: run with KEYPROOF_BLESS=1");
}

/// Every policy field the schema lists is documented in the README's field table.
#[test]
fn readme_documents_every_policy_field() {
    let readme = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let schema = generate();
    let policy = &schema["$defs"]["Policy"]["properties"];
    for field in policy.as_object().unwrap().keys() {
        assert!(readme.contains(&format!("| `{field}` |")), "README policy table lacks `{field}`");
    }
    for def in ["RouteRule", "ExtractionConfig", "Quota", "KeyFormat"] {
        for field in schema["$defs"][def]["properties"].as_object().unwrap().keys() {
            assert!(readme.contains(&format!("`{field}`")), "README does not mention {def}.{field}");
        }
    }
}
