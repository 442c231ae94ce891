//! Parsing a presented key against the configured formats, before any hashing.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::format::{CredentialKind, FormatSet, KeyFormat, Layout, MAX_KEY_LENGTH};
use crate::secret::Secret;

/// A key that matched a format. Holds the plaintext, so `Debug` is redacted.
/// The format is shared, not copied: parsing a key allocates nothing but the key.
#[derive(Clone, PartialEq)]
pub struct ParsedKey {
    format: Arc<KeyFormat>,
    key: Secret,
    secret_start: usize,
}

impl ParsedKey {
    /// The format the key matched.
    pub fn format(&self) -> &KeyFormat {
        &self.format
    }

    /// The shared format (cheap to clone).
    pub fn format_shared(&self) -> &Arc<KeyFormat> {
        &self.format
    }

    /// Id of the matching format.
    pub fn format_id(&self) -> &str {
        &self.format.id
    }

    /// Environment from the format.
    pub fn environment(&self) -> &str {
        &self.format.environment
    }

    /// Credential kind from the format.
    pub fn kind(&self) -> CredentialKind {
        self.format.kind
    }

    /// The non-secret part: the prefix, plus Seam's short token.
    pub fn public_part(&self) -> &str {
        match self.format.layout {
            Layout::Seam => {
                let end = self.secret_start.max(self.format.prefix.len());
                self.key.expose().get(..end).unwrap_or_default().trim_end_matches('_')
            }
            Layout::Plain => &self.format.prefix,
        }
    }

    /// Whether the format has a checksum (always valid once parsed).
    pub fn has_checksum(&self) -> bool {
        self.format.checksum.is_some()
    }

    /// Masked preview, e.g. `sk_prod_3f9a…a7b8` (built on demand: the hot path never needs it).
    pub fn preview(&self) -> String {
        preview(&self.format.prefix, self.key.expose())
    }

    /// The whole plaintext key.
    pub fn key(&self) -> &Secret {
        &self.key
    }

    /// The secret characters only: the whole key for plain layouts, Seam's long token otherwise.
    pub fn secret_part(&self) -> &str {
        self.key.expose().get(self.secret_start..).unwrap_or_default()
    }
}

impl fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedKey")
            .field("format_id", &self.format_id())
            .field("environment", &self.environment())
            .field("kind", &self.kind())
            .field("preview", &self.preview())
            .finish_non_exhaustive()
    }
}

/// Masks a key: its prefix plus at most 4 leading and 4 trailing body characters.
/// Short bodies show fewer characters so a preview never reveals more than a quarter.
pub fn preview(prefix: &str, key: &str) -> String {
    let body = key.strip_prefix(prefix).unwrap_or(key);
    let count = body.chars().count();
    let shown = (count / 4).min(4);
    let head_end = body.char_indices().nth(shown).map_or(body.len(), |(i, _)| i);
    let tail_start = body.char_indices().nth(count.saturating_sub(shown)).map_or(body.len(), |(i, _)| i);
    let mut out = String::with_capacity(prefix.len().saturating_add(shown.saturating_mul(2)).saturating_add(3));
    out.push_str(prefix);
    out.push_str(body.get(..head_end).unwrap_or_default());
    out.push('…');
    out.push_str(body.get(tail_start..).unwrap_or_default());
    out
}

/// Parses `key` with the formats of `set`: prefix, then length, then characters, then checksum.
pub fn parse_key(set: &FormatSet, key: &str) -> Result<ParsedKey> {
    parse_secret(set, Secret::new(key))
}

/// [`parse_key`] for a key already held as a [`Secret`] (no copy is made).
pub fn parse_secret(set: &FormatSet, secret: Secret) -> Result<ParsedKey> {
    let key = secret.expose();
    if key.is_empty() {
        return Err(Error::fixed(ErrorKind::WrongLength, "the key is empty"));
    }
    if key.len() > MAX_KEY_LENGTH {
        return Err(Error::fixed(ErrorKind::WrongLength, format!("keys are at most {MAX_KEY_LENGTH} characters")));
    }
    let unknown = || Error::fixed(ErrorKind::UnknownPrefix, "the key does not start with a known prefix");
    let format = set.match_prefix(key).ok_or_else(unknown)?.clone();
    // An unprefixed format is the fallback for keys no prefix claims: when the key
    // does not fit it either, the honest answer is "no format", not its length rule.
    let fallback = format.prefix.is_empty() && set.formats().iter().any(|f| !f.prefix.is_empty());
    parse_owned(format, secret).map_err(|e| if fallback { unknown() } else { e })
}

/// Parses `key` against one format.
pub fn parse_with(format: &KeyFormat, key: &str) -> Result<ParsedKey> {
    parse_owned(Arc::new(format.clone()), Secret::new(key))
}

/// [`parse_with`] for a shared format: no copy of the format is made.
pub fn parse_shared(format: &Arc<KeyFormat>, key: &str) -> Result<ParsedKey> {
    parse_owned(format.clone(), Secret::new(key))
}

fn parse_owned(format: Arc<KeyFormat>, secret: Secret) -> Result<ParsedKey> {
    let secret_start = check(&format, secret.expose()).map_err(|fault| fault.into_error(&format))?;
    Ok(ParsedKey { format, key: secret, secret_start })
}

/// Whether `key` is a well-formed key of `format` (no allocation: for scanning).
pub(crate) fn check_only(format: &KeyFormat, key: &str) -> bool {
    check(format, key).is_ok()
}

/// What is wrong with a key, before a message is built (scanning needs no message).
#[derive(Clone, Copy, Debug)]
enum Fault {
    Prefix,
    Length(usize),
    Character,
    Checksum,
    Separator,
}

impl Fault {
    fn into_error(self, format: &KeyFormat) -> Error {
        let id = &format.id;
        match self {
            Self::Prefix => {
                Error::fixed(ErrorKind::UnknownPrefix, format!("the key does not start with the prefix of {id}"))
            }
            Self::Length(got) => Error::fixed(
                ErrorKind::WrongLength,
                format!("{id} keys have {} characters after the prefix, got {got}", format.body_length()),
            ),
            Self::Character => {
                Error::fixed(ErrorKind::BadCharacter, format!("the {id} key has a character outside its alphabet"))
            }
            Self::Checksum => Error::fixed(ErrorKind::BadChecksum, format!("the {id} key's checksum does not match")),
            Self::Separator => {
                Error::fixed(ErrorKind::MalformedKey, format!("{id} keys separate the short and long token with '_'"))
            }
        }
    }
}

/// Checks `key` against `format` and returns where its secret part starts.
fn check(format: &KeyFormat, key: &str) -> std::result::Result<usize, Fault> {
    let body = key.strip_prefix(format.prefix.as_str()).ok_or(Fault::Prefix)?;
    if body.len() != format.body_length() {
        return Err(Fault::Length(body.len()));
    }
    if !body.is_ascii() {
        return Err(Fault::Character);
    }
    let chars = |part: &str| if format.alphabet.contains_all(part.as_bytes()) { Ok(()) } else { Err(Fault::Character) };
    match format.layout {
        Layout::Plain => {
            let random_len = format.length;
            let random = body.get(..random_len).unwrap_or_default();
            chars(random)?;
            if let Some(checksum) = format.checksum {
                let tail = body.get(random_len..).unwrap_or_default();
                if !tail.bytes().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(Fault::Character);
                }
                if !crate::secret::ct_eq(checksum.compute(random).as_bytes(), tail.as_bytes()) {
                    return Err(Fault::Checksum);
                }
            }
            Ok(0)
        }
        Layout::Seam => {
            let short_len = format.short_length.unwrap_or(0);
            let short = body.get(..short_len).ok_or(Fault::Character)?;
            if body.get(short_len..short_len.saturating_add(1)) != Some("_") {
                return Err(Fault::Separator);
            }
            chars(short)?;
            chars(body.get(short_len.saturating_add(1)..).unwrap_or_default())?;
            Ok(format.prefix.len().saturating_add(short_len).saturating_add(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_shows_at_most_four_and_four() {
        assert_eq!(preview("sk_prod_", "sk_prod_3f9a1c7e2b8d4056a1c2e3f40516a7b8"), "sk_prod_3f9a…a7b8");
        assert_eq!(preview("x_", "x_abcdefgh"), "x_ab…gh");
        assert_eq!(preview("x_", "x_abc"), "x_…");
    }
}
