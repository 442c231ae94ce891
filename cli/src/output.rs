//! Everything the CLI prints: human tables and field lists, or JSON with `--json`.
//! Writes ignore a closed pipe (`keyproof scan . | head`) instead of panicking.

use std::io::Write;

use chrono::{DateTime, Utc};
use keyproof::timestamp::format_timestamp;
use keyproof::KeyRecord;
use serde_json::{json, Value};

/// Writes text to stdout; a closed pipe is not an error worth reporting.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// Writes text to stdout, flushes it and, when stdout is a regular file, syncs
/// it to disk; any failure is returned. Used for the one output that must not
/// be lost (a freshly minted key): the caller commits only after this succeeds.
pub fn deliver(text: &str) -> std::io::Result<()> {
    use std::os::fd::AsFd;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(text.as_bytes())?;
    lock.flush()?;
    let file = std::fs::File::from(lock.as_fd().try_clone_to_owned()?);
    // Pipes and terminals cannot be synced (and need not be): the reader has the bytes.
    if file.metadata().is_ok_and(|m| m.is_file()) {
        file.sync_all()?;
    }
    Ok(())
}

/// Writes one line to stdout.
pub fn line(text: &str) {
    out(&format!("{text}\n"));
}

/// Writes one line to stderr, with any key of a preset format shown as its preview.
pub fn err_line(text: &str) {
    let text = keyproof::redaction::redact_keys(text);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// Pretty-prints a JSON value on stdout.
pub fn json(value: &Value) {
    line(&serde_json::to_string_pretty(value).unwrap_or_default());
}

/// Renders rows as a left-aligned table with a header line.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let render = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (cell, w) in cells.zip(&widths) {
            s.push_str(cell);
            s.push_str(&" ".repeat(w.saturating_sub(cell.chars().count()) + 2));
        }
        format!("{}\n", s.trim_end())
    };
    let mut text = render(&mut headers.iter().copied());
    for row in rows {
        text.push_str(&render(&mut row.iter().map(String::as_str)));
    }
    text
}

/// Renders `name: value` pairs with aligned values; empty values are left out.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len() + 1).max().unwrap_or(0);
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k:<width$}  {v}\n", k = format!("{k}:")))
        .collect()
}

/// A timestamp for humans and JSON alike.
pub fn ts(t: &DateTime<Utc>) -> String {
    format_timestamp(t)
}

/// The status a record has at `now` (the core's rule).
pub fn effective_status(record: &KeyRecord, now: DateTime<Utc>) -> &'static str {
    record.effective_status(now)
}

/// The record as JSON (the core's record schema) plus the effective status.
pub fn record_json(record: &KeyRecord, now: DateTime<Utc>) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("effective_status".into(), json!(effective_status(record, now)));
    }
    value
}

/// A human description of one record (never the key; the hash only as a fingerprint).
pub fn record_fields(record: &KeyRecord, now: DateTime<Utc>) -> String {
    record_fields_and(record, now, None)
}

/// [`record_fields`] plus one more line (e.g. what a usage limit has left).
pub fn record_fields_and(record: &KeyRecord, now: DateTime<Utc>, extra: Option<(&str, String)>) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let rotation = record.rotation.as_ref().map_or(String::new(), |r| {
        let by = r.replaced_by.as_deref().map(|id| format!("replaced by {id}, ")).unwrap_or_default();
        format!("{by}valid until {}", ts(&r.grace_until))
    });
    let owner = [
        record.owner.organization.as_deref().map(|o| format!("organization={o}")),
        record.owner.workspace.as_deref().map(|o| format!("workspace={o}")),
        record.owner.profile.as_deref().map(|o| format!("profile={o}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let mut pairs = vec![
        ("id", record.id.clone()),
        ("name", record.name.clone()),
        ("format", record.format.clone()),
        ("environment", record.environment.clone()),
        ("kind", record.kind.as_str().to_string()),
        ("preview", record.preview.clone()),
        ("fingerprint", record.fingerprint.clone()),
        ("status", effective_status(record, now).to_string()),
        ("scopes", record.scopes.join(" ")),
        ("role", opt(&record.role)),
        ("plan", opt(&record.plan)),
        ("features", record.features.join(" ")),
        ("client id", opt(&record.client_id)),
        ("owner", owner),
        ("allowed ips", record.allowed_ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")),
        ("allowed origins", record.allowed_origins.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")),
        ("metadata", if record.metadata.is_empty() { String::new() } else { json!(record.metadata).to_string() }),
        ("created", ts(&record.created_at)),
        ("updated", ts(&record.updated_at)),
        ("expires", record.expires_at.as_ref().map_or("never".to_string(), ts)),
        ("revoked", record.revoked_at.as_ref().map(ts).unwrap_or_default()),
        ("rotation", rotation),
    ];
    pairs.extend(extra);
    fields(&pairs)
}
