//! Leak scanning: find keys of the configured formats in arbitrary text and
//! redact them to their previews. One Aho-Corasick pass finds every prefix of
//! every format at once, so the cost is linear in the text whatever the number
//! of formats; no regex, no backtracking.
//!
//! Key boundaries follow the format, not whitespace: a key may be glued to
//! anything before it (`api_key%3Dkp_live_…`) and is ended by the first
//! character outside its alphabet (`kp_live_…_old`, `kp_live_…-v2`).

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
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
    /// Offset of the key's first character in Unicode scalar values (Python `str` indices).
    pub char_start: usize,
    /// Offset just past the key in Unicode scalar values.
    pub char_end: usize,
    /// Offset of the key's first character in UTF-16 code units (JavaScript string indices).
    pub utf16_start: usize,
    /// Offset just past the key in UTF-16 code units.
    pub utf16_end: usize,
}

/// A compiled scanner for one format set: build once, scan many texts.
#[derive(Clone, Debug)]
pub struct Scanner {
    formats: Vec<std::sync::Arc<KeyFormat>>,
    /// A DFA used directly (not through `AhoCorasick`, whose `dyn` automaton
    /// keeps every automaton kind and search mode in a WASM module).
    prefixes: Option<DFA>,
    /// Teddy (SIMD) over the same prefixes, where the CPU and pattern count allow.
    #[cfg(feature = "fast-scan")]
    teddy: Option<aho_corasick::packed::Searcher>,
}

impl Scanner {
    /// Compiles the prefixes of `set` (formats without a prefix are skipped:
    /// they would match any long word).
    pub fn new(set: &FormatSet) -> Self {
        let formats: Vec<_> = set.formats().iter().filter(|f| !f.prefix.is_empty()).cloned().collect();
        let prefixes = DFA::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(formats.iter().map(|f| f.prefix.as_bytes()))
            .ok();
        #[cfg(feature = "fast-scan")]
        let teddy = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(formats.iter().map(|f| f.prefix.as_bytes()))
            .build();
        Self {
            formats,
            prefixes,
            #[cfg(feature = "fast-scan")]
            teddy,
        }
    }

    /// Every well-formed key at every position, overlapping ones included:
    /// `(start, end, format index)`, by start, longest first.
    fn hits(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let Some(ac) = &self.prefixes else { return Vec::new() };
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        // A leftmost search (SIMD-accelerated) finds each place some prefix
        // starts; every format whose prefix starts there is then tried, and the
        // search resumes one byte later, so overlapping prefixes (`amk_live_`
        // holds `mk_live_`) are all considered.
        let mut pos = 0usize;
        let next = |pos: usize| {
            #[cfg(feature = "fast-scan")]
            if let Some(teddy) = &self.teddy {
                return teddy.find_in(text, aho_corasick::Span::from(pos..text.len())).map(|m| m.start());
            }
            ac.try_find(&aho_corasick::Input::new(text).span(pos..text.len())).ok().flatten().map(|m| m.start())
        };
        while let Some(start) = next(pos) {
            let rest = text.as_bytes().get(start..).unwrap_or_default();
            for (index, format) in self.formats.iter().enumerate() {
                if rest.starts_with(format.prefix.as_bytes()) {
                    if let Some(end) = key_end(format, text, start) {
                        hits.push((start, end, index));
                    }
                }
            }
            pos = start.saturating_add(1);
            if pos > text.len() {
                break;
            }
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        hits
    }

    fn preview(&self, text: &str, (start, end, index): (usize, usize, usize)) -> Option<String> {
        let format = self.formats.get(index)?;
        text.get(start..end).and_then(|k| parse_shared(format, k).ok()).map(|p| p.preview())
    }

    /// Every key in `text`, in order of appearance (the longest wins where two overlap).
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let hits = self.hits(text);
        let mut out: Vec<Finding> = Vec::with_capacity(hits.len());
        let mut pos = Position::default();
        let mut last_end = 0usize;
        for (start, end, index) in hits {
            let Some(format) = self.formats.get(index) else { continue };
            if start < last_end {
                continue;
            }
            let Some(preview) = self.preview(text, (start, end, index)) else { continue };
            pos.advance(text, start);
            let (line, column, char_start, utf16_start) = (pos.line, pos.column, pos.chars, pos.utf16);
            pos.advance(text, end);
            last_end = end;
            out.push(Finding {
                format_id: format.id.clone(),
                start,
                end,
                line,
                column,
                preview,
                checksum_verified: format.checksum.is_some(),
                char_start,
                char_end: pos.chars,
                utf16_start,
                utf16_end: pos.utf16,
            });
        }
        out
    }

    /// `text` with every key replaced by its preview. Where keys overlap, every
    /// one of them is replaced (their previews follow each other), so no key can
    /// survive in the part of an overlapping key that reaches past another.
    pub fn redact(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for hit in self.hits(text) {
            let (start, end, _) = hit;
            if end <= cursor {
                continue;
            }
            let Some(preview) = self.preview(text, hit) else { continue };
            out.push_str(text.get(cursor..start.max(cursor)).unwrap_or_default());
            out.push_str(&preview);
            cursor = end;
        }
        out.push_str(text.get(cursor..).unwrap_or_default());
        out
    }
}

/// Where a key of `format` starting at `start` ends, if it is one: exactly the
/// format's length, and not followed by another character of its alphabet.
fn key_end(format: &KeyFormat, text: &str, start: usize) -> Option<usize> {
    let end = start.checked_add(format.key_length())?;
    let key = text.get(start..end)?;
    let glued = text.as_bytes().get(end).is_some_and(|c| format.alphabet.contains(*c) || c.is_ascii_alphanumeric());
    (!glued && parse_shared_ok(format, key)).then_some(end)
}

fn parse_shared_ok(format: &KeyFormat, key: &str) -> bool {
    crate::parse::check_only(format, key)
}

/// A running line / column / character / UTF-16 position, advanced forward only.
#[derive(Default)]
struct Position {
    byte: usize,
    line: usize,
    column: usize,
    chars: usize,
    utf16: usize,
}

impl Position {
    /// Moves to byte `to`, counting lines, columns, characters and UTF-16 units
    /// from the bytes themselves (a tight loop the compiler vectorises).
    fn advance(&mut self, text: &str, to: usize) {
        if self.line == 0 {
            (self.line, self.column) = (1, 1);
        }
        let bytes = text.as_bytes().get(self.byte..to).unwrap_or_default();
        let mut chars = 0usize;
        let mut astral = 0usize;
        let mut lines = 0usize;
        let mut since_newline = 0usize;
        for &b in bytes {
            let starts_char = usize::from(b & 0xC0 != 0x80);
            chars = chars.wrapping_add(starts_char);
            astral = astral.wrapping_add(usize::from(b >= 0xF0));
            if b == b'\n' {
                lines = lines.wrapping_add(1);
                since_newline = 0;
            } else {
                since_newline = since_newline.wrapping_add(starts_char);
            }
        }
        self.chars = self.chars.saturating_add(chars);
        self.utf16 = self.utf16.saturating_add(chars).saturating_add(astral);
        if lines > 0 {
            self.line = self.line.saturating_add(lines);
            self.column = since_newline.saturating_add(1);
        } else {
            self.column = self.column.saturating_add(since_newline);
        }
        self.byte = to.max(self.byte);
    }
}

/// Finds every key of `set` in `text` (compiles a [`Scanner`]; reuse one for many texts).
pub fn scan(set: &FormatSet, text: &str) -> Vec<Finding> {
    Scanner::new(set).scan(text)
}

/// `text` with every key of `set` replaced by its preview.
pub fn redact(set: &FormatSet, text: &str) -> String {
    Scanner::new(set).redact(text)
}
