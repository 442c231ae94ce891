//! Keeping keys out of messages: any text core echoes back to a caller (an
//! unknown preset id, a bad CIDR, a serde "unknown variant") is passed through
//! [`redact_keys`] first, so a key pasted into the wrong field shows only as its
//! preview. Every [`crate::Error`] message goes through it.

use std::borrow::Cow;

/// `text` with every key of a known (preset) format replaced by its preview.
/// Cheap when there is nothing to redact: one Aho-Corasick pass, no allocation.
pub fn redact_keys(text: &str) -> Cow<'_, str> {
    match crate::presets::scanner() {
        Some(scanner) if !scanner.scan(text).is_empty() => Cow::Owned(scanner.redact(text)),
        _ => Cow::Borrowed(text),
    }
}
