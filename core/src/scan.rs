//! Leak scanning: find keys of the configured formats in arbitrary text and
//! redact them to their previews. One pass per prefix (two-way string search),
//! so the cost is linear in the text for a given format set; no regex, no backtracking.

use std::sync::Arc;

use serde::Serialize;

use crate::format::{FormatSet, KeyFormat};
use crate::parse::parse_shared;

/// One key found in text. Holds no secret: offsets and a preview only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Id of the matching format.
    pub format_id: String,
    /// Byte offset of the key's first character.
    pub start: usize,
    /// Byte offset just past the key.
    pub end: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Masked preview.
    pub preview: String,
    /// Whether a checksum confirmed the match (formats without checksum match by shape).
    pub checksum_verified: bool,
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn candidate(format: &Arc<KeyFormat>, text: &str, start: usize) -> Option<(usize, String)> {
    let end = start.checked_add(format.key_length())?;
    let bytes = text.as_bytes();
    let before_ok = start == 0 || bytes.get(start - 1).is_some_and(|c| !is_token_char(*c));
    let after_ok = bytes.get(end).is_none_or(|c| !is_token_char(*c));
    if !(before_ok && after_ok) {
        return None;
    }
    let key = text.get(start..end)?;
    parse_shared(format, key).ok().map(|p| (end, p.preview()))
}

/// Finds every key of `set` in `text`, in order of appearance. Formats without a
/// prefix are skipped (they would match any long word).
pub fn scan(set: &FormatSet, text: &str) -> Vec<Finding> {
    let mut hits: Vec<(usize, usize, &KeyFormat, String)> = Vec::new();
    for format in set.formats().iter().filter(|f| !f.prefix.is_empty()) {
        for (start, _) in text.match_indices(format.prefix.as_str()) {
            if let Some((end, preview)) = candidate(format, text, start) {
                hits.push((start, end, format, preview));
            }
        }
    }
    // Longest match first at equal starts, then drop anything overlapping an earlier hit.
    hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<Finding> = Vec::with_capacity(hits.len());
    let (mut line, mut column, mut cursor) = (1usize, 1usize, 0usize);
    let mut last_end = 0usize;
    for (start, end, format, preview) in hits {
        if start < last_end {
            continue;
        }
        for c in text.get(cursor..start).unwrap_or_default().chars() {
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        cursor = start;
        last_end = end;
        out.push(Finding {
            format_id: format.id.clone(),
            start,
            end,
            line,
            column,
            preview,
            checksum_verified: format.checksum.is_some(),
        });
    }
    out
}

/// `text` with every found key replaced by its preview.
pub fn redact(set: &FormatSet, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for f in scan(set, text) {
        out.push_str(text.get(cursor..f.start).unwrap_or_default());
        out.push_str(&f.preview);
        cursor = f.end;
    }
    out.push_str(text.get(cursor..).unwrap_or_default());
    out
}
