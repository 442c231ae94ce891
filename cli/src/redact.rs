//! The one place keys are kept out of the CLI's error output. Every error
//! line (and its `--json` form) passes through [`error_text`]; every other
//! stderr line through [`keyproof::redaction::redact_keys`] (see
//! `output::err_line`). Any argument that parses as a key of a known format —
//! a preset, a format from `--formats`, or a custom format saved in the store —
//! shows only as its preview (`kp_live_3f9a…a7b8`), whichever flag it was
//! pasted into.

use std::path::Path;

use keyproof::{FormatSet, KeyFormat};

use crate::store::{Store, StoreLocation};

/// Custom formats a key in an error could belong to: the `--formats` file and
/// the formats saved in the store, as far as they can be read (silently: this
/// runs while another error is being reported).
pub fn known_formats(store: Option<&StoreLocation>, formats_file: Option<&Path>) -> Vec<KeyFormat> {
    let mut formats: Vec<KeyFormat> =
        formats_file.and_then(|f| crate::context::formats_from_file(f).ok()).unwrap_or_default();
    if let Some(Ok(Some(store))) = store.map(Store::open_read) {
        if let Ok((stored, _)) = store.formats_checked() {
            for f in stored {
                if !formats.iter().any(|g| g.id == f.id) {
                    formats.push(f);
                }
            }
        }
    }
    formats
}

/// `text` with every key of a preset and of `custom` replaced by its preview.
pub fn error_text(text: &str, custom: Vec<KeyFormat>) -> String {
    let text = keyproof::redaction::redact_keys(text).into_owned();
    if custom.is_empty() {
        return text;
    }
    match FormatSet::new(custom) {
        Ok(set) => keyproof::redact(&set, &text),
        Err(_) => text,
    }
}
