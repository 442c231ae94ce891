//! `inspect` (what a key is, never the key itself) and `formats` (the known formats).

use keyproof::{FormatSet, KeyFormat, ParsedKey};
use serde_json::json;

use crate::context::{read_input, Ctx};
use crate::exit::{CliResult, Exit};
use crate::output;

/// Parses with the core (which falls back to unprefixed formats and reports
/// `unknown_prefix` when nothing claims the key) and returns the matching format.
fn parse(set: &FormatSet, key: &str) -> keyproof::Result<(ParsedKey, KeyFormat)> {
    let parsed = keyproof::parse_key(set, key)?;
    let format = parsed.format().clone();
    Ok((parsed, format))
}

/// `keyproof inspect KEY|-`.
pub fn inspect(ctx: &Ctx, key: &str) -> CliResult {
    let text = if key == "-" { read_input("-")? } else { key.to_string() };
    let key = text.trim();
    // Only look the key up when a store already exists: inspecting never creates one.
    let store = if ctx.store.may_exist() { ctx.open_read_store()? } else { None };
    let stored_formats = match &store {
        Some(s) => s.formats()?,
        None => Vec::new(),
    };
    let set = ctx.format_set(&stored_formats)?;
    let (parsed, format) = parse(&set, key)?;
    let record = match &store {
        Some(s) => s.find_by_hashes(&ctx.hasher()?.lookup_hashes(&format, &parsed))?,
        None => None,
    };
    let checksum = if parsed.has_checksum() { "valid" } else { "none" };
    let entropy = format.entropy_bits().floor();
    if ctx.json {
        output::json(&json!({
            "valid": true,
            "format": parsed.format_id(),
            "environment": parsed.environment(),
            "kind": parsed.kind().as_str(),
            "checksum": checksum,
            "preview": parsed.preview(),
            "length": key.len(),
            "entropy_bits": entropy,
            "record": record.as_ref().map(|r| json!({
                "id": r.id,
                "name": r.name,
                "status": output::effective_status(r, ctx.now),
            })),
        }));
    } else {
        let stored = record
            .as_ref()
            .map(|r| format!("{} ({}, {})", r.id, r.name, output::effective_status(r, ctx.now)))
            .unwrap_or_else(|| if store.is_some() { "not in this store".into() } else { String::new() });
        output::out(&output::fields(&[
            ("format", parsed.format_id().to_string()),
            ("environment", parsed.environment().to_string()),
            ("kind", parsed.kind().as_str().to_string()),
            ("checksum", checksum.to_string()),
            ("preview", parsed.preview()),
            ("length", key.len().to_string()),
            ("entropy", format!("{entropy} bits")),
            ("record", stored),
        ]));
    }
    Ok(Exit::Ok)
}

/// `keyproof formats`.
pub fn formats(ctx: &Ctx) -> CliResult {
    let set = ctx.format_set(&[])?;
    let mut formats: Vec<&KeyFormat> = set.formats().iter().map(|f| &**f).collect();
    formats.sort_by(|a, b| a.id.cmp(&b.id));
    if ctx.json {
        let items: Vec<serde_json::Value> =
            formats.iter().map(|f| serde_json::to_value(f).unwrap_or(serde_json::Value::Null)).collect();
        output::json(&json!({ "formats": items }));
        return Ok(Exit::Ok);
    }
    let rows: Vec<Vec<String>> = formats
        .iter()
        .map(|f| {
            vec![
                f.id.clone(),
                if f.prefix.is_empty() { "(none)".into() } else { f.prefix.clone() },
                f.environment.clone(),
                f.kind.as_str().to_string(),
                f.key_length().to_string(),
                if f.checksum.is_some() { "yes".into() } else { "no".into() },
            ]
        })
        .collect();
    output::out(&output::table(&["ID", "PREFIX", "ENV", "KIND", "LENGTH", "CHECKSUM"], &rows));
    Ok(Exit::Ok)
}
