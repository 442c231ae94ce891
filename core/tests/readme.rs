//! Keeps the README honest: the code catalogue must be exactly what the engine
//! renders, and every example key in the README must parse as the format it names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use keyproof::render::public_view;
use keyproof::ErrorKind;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("README lacks {start}")) + start.len();
    let to = text[from..].find(end).unwrap_or_else(|| panic!("README lacks {end}")) + from;
    text[from..to].trim()
}

#[test]
fn code_catalogue_matches_the_engine() {
    let mut expected = String::from("| code | family | status | caller sees | meaning |\n|---|---|---|---|---|\n");
    for kind in ErrorKind::ALL {
        let view = public_view(*kind);
        expected.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} |\n",
            kind.code(),
            kind.family().as_str(),
            view.status,
            view.public_code,
            kind.description()
        ));
    }
    let text = readme();
    let actual = between(&text, "<!-- catalogue:start -->", "<!-- catalogue:end -->");
    assert_eq!(actual, expected.trim(), "README catalogue is stale; replace it with:\n{expected}");
}

#[test]
fn example_keys_parse_as_their_formats() {
    let text = readme();
    let table = between(&text, "<!-- keys:start -->", "<!-- keys:end -->");
    let set = keyproof::presets::all_set().unwrap();
    let mut checked = 0;
    for row in table.lines().skip(2) {
        let cells: Vec<&str> = row.split('|').map(|c| c.trim().trim_matches('`')).collect();
        let (format_id, key) = (cells[2], cells[3]);
        let parsed = keyproof::parse_key(&set, key).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(parsed.format_id(), format_id, "{key}");
        assert_eq!(parsed.preview(), cells[4], "{key}");
        checked += 1;
    }
    assert!(checked >= 10);
}

/// The JSON code blocks that follow `marker` in the README, in order.
fn json_blocks_after(text: &str, marker: &str) -> Vec<String> {
    let from = text.find(marker).unwrap_or_else(|| panic!("README lacks {marker}"));
    text[from..].split("```json\n").skip(1).map(|b| b.split("```").next().unwrap().to_string()).collect()
}

#[test]
fn json_examples_load() {
    let text = readme();
    let keys = json_blocks_after(&text, "## Keys");
    keyproof::KeyFormat::from_json(&keys[0]).unwrap();
    let record = keyproof::KeyRecord::from_json(&keys[1]).unwrap();
    assert_eq!(record.id, "key_2f8a3b1c");
    assert_eq!(record.request_count, 1284);
    let policy = json_blocks_after(&text, "### Policy");
    keyproof::Policy::load(&policy[0]).unwrap();
}

/// The root README's Node quickstart is the first example of
/// `bindings-node/README.md`, which the Node tests execute as written.
#[test]
fn node_quickstart_is_the_tested_one() {
    let root = readme();
    let node = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../bindings-node/README.md")).unwrap();
    let first_js = |text: &str, after: &str| {
        let from = text.find(after).unwrap_or_else(|| panic!("lacks {after}"));
        text[from..].split("```js\n").nth(1).unwrap().split("```").next().unwrap().to_string()
    };
    assert_eq!(first_js(&root, "## Node quickstart"), first_js(&node, "## Quickstart"));
}
