//! Keeping keys out of messages: any text core echoes back to a caller (an
//! unknown preset id, a bad CIDR, a serde "unknown variant") is passed through
//! [`redact_keys`] first, so a key pasted into the wrong field shows only as its
//! preview. Every [`crate::Error`] message goes through it.

use std::borrow::Cow;

/// `text` with every key of a known (preset) format replaced by its preview.
/// Cheap when there is nothing to redact: one Aho-Corasick pass, no allocation.
pub fn redact_keys(text: &str) -> Cow<'_, str> {
    if !has_long_token(text) {
        return Cow::Borrowed(text);
    }
    match crate::presets::scanner() {
        Some(scanner) if !scanner.scan(text).is_empty() => Cow::Owned(scanner.redact(text)),
        _ => Cow::Borrowed(text),
    }
}

/// Shortest preset key is longer than this: a message without such a run of
/// key characters holds no key, and skips the scan (the common, hot case).
const MIN_KEY_RUN: usize = 20;

fn has_long_token(text: &str) -> bool {
    let mut run = 0usize;
    for c in text.bytes() {
        run = if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' { run.saturating_add(1) } else { 0 };
        if run >= MIN_KEY_RUN {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_key_is_longer_than_the_shortcut() {
        for f in crate::presets::all() {
            assert!(f.key_length() > MIN_KEY_RUN, "{}", f.id);
        }
        assert!(!has_long_token("the keyproof_live key has a character outside its alphabet"));
        assert!(has_long_token("no preset named \"kp_live_abcdefghijklmnopqrstuvwxyz\""));
    }
}
