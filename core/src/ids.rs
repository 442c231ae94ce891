//! Record ids (UUID v4 from caller bytes, or prefixed like `key_2f8a3b1c`) and
//! public client ids (seed 002's `clientId`).

use crate::alphabet::Alphabet;
use crate::error::{Error, ErrorKind, Result};

/// How new record ids look: `{"style": "uuid"}`, `{"style": "prefixed", "prefix":
/// "key_", "hex_length": 8}`, or just the style's name (`"prefixed"`: its defaults).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields, from = "IdStyleInput")]
#[non_exhaustive]
pub enum IdStyle {
    /// `9904cf92-2202-48c0-a751-a9724e32c98e` (seed 002).
    #[default]
    Uuid,
    /// `key_2f8a3b1c` (seed 000): prefix plus `hex_length` hex characters.
    Prefixed {
        /// Literal prefix (default `key_`).
        #[serde(default = "default_prefix")]
        prefix: String,
        /// Number of hex characters, 8–32 (default 8).
        #[serde(default = "default_hex_length")]
        hex_length: usize,
    },
}

/// [`IdStyle`]'s tagged form, read as such (the enum reads through [`IdStyleInput`]).
#[derive(serde::Deserialize)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
enum TaggedIdStyle {
    Uuid,
    Prefixed {
        #[serde(default = "default_prefix")]
        prefix: String,
        #[serde(default = "default_hex_length")]
        hex_length: usize,
    },
}

/// What a host may write for an [`IdStyle`]: the tagged object, or a style name.
/// Read by hand, not `untagged`, so a bad object keeps serde's own message.
struct IdStyleInput(IdStyle);

impl<'de> serde::Deserialize<'de> for IdStyleInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = IdStyle;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id style: \"uuid\", \"prefixed\" or {\"style\": …}")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> std::result::Result<IdStyle, E> {
                match name {
                    "uuid" => Ok(IdStyle::Uuid),
                    "prefixed" => Ok(IdStyle::Prefixed { prefix: default_prefix(), hex_length: default_hex_length() }),
                    other => Err(E::unknown_variant(other, &["uuid", "prefixed"])),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<IdStyle, A::Error> {
                let tagged = serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(match tagged {
                    TaggedIdStyle::Uuid => IdStyle::Uuid,
                    TaggedIdStyle::Prefixed { prefix, hex_length } => IdStyle::Prefixed { prefix, hex_length },
                })
            }
        }
        deserializer.deserialize_any(Either).map(Self)
    }
}

impl From<IdStyleInput> for IdStyle {
    fn from(input: IdStyleInput) -> Self {
        input.0
    }
}

fn default_prefix() -> String {
    "key_".into()
}

fn default_hex_length() -> usize {
    8
}

/// A UUID v4 built from 16 caller-supplied random bytes.
pub fn uuid_v4(bytes: &[u8]) -> Result<String> {
    let arr: [u8; 16] = bytes
        .get(..16)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::new(ErrorKind::InsufficientRandomness, "a UUID v4 needs 16 random bytes"))?;
    Ok(uuid::Builder::from_random_bytes(arr).into_uuid().hyphenated().to_string())
}

impl IdStyle {
    /// Builds an id from random bytes (at least 16).
    pub fn make(&self, bytes: &[u8]) -> Result<String> {
        match self {
            Self::Uuid => uuid_v4(bytes),
            Self::Prefixed { prefix, hex_length } => {
                // The id must pass `validate_id` (at most 128 characters) or no store loads the record.
                let too_long = prefix.len().saturating_add(*hex_length) > MAX_ID_LENGTH;
                if !(8..=32).contains(hex_length) || !valid_id_chars(prefix) || too_long {
                    return Err(Error::new(
                        ErrorKind::InvalidId,
                        "prefixed ids need a [A-Za-z0-9_-] prefix, 8-32 hex characters and 128 characters at most",
                    ));
                }
                let hex = hex::encode(
                    bytes
                        .get(..16)
                        .ok_or_else(|| Error::new(ErrorKind::InsufficientRandomness, "an id needs 16 random bytes"))?,
                );
                Ok(format!("{prefix}{}", hex.get(..*hex_length).unwrap_or_default()))
            }
        }
    }
}

impl IdStyle {
    /// The style `id` was made with, so a successor looks the same
    /// (`key_2f8a3b1c` → prefixed `key_` + 8 hex; anything else → UUID).
    pub fn of(id: &str) -> Self {
        let uuid_like = id.len() == 36 && id.bytes().filter(|c| *c == b'-').count() == 4;
        match id.rfind('_') {
            Some(i) if !uuid_like => {
                let (prefix, hex) = id.split_at(i.saturating_add(1));
                if (8..=32).contains(&hex.len()) && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    Self::Prefixed { prefix: prefix.to_string(), hex_length: hex.len() }
                } else {
                    Self::Uuid
                }
            }
            _ => Self::Uuid,
        }
    }
}

fn valid_id_chars(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// The longest record id any store must hold.
const MAX_ID_LENGTH: usize = 128;

/// Whether a value the verification step asks the host to look up
/// ([`crate::Step::LookupRecord`]) is a record id, the key of an access token
/// under `confirm_record`, rather than a storage hash: ids never contain `:`,
/// storage hashes (`algorithm:hex`) always do. A store looks the record up by
/// id or by hash accordingly.
pub fn is_record_id(lookup: &str) -> bool {
    !lookup.contains(':')
}

/// Checks a record id: 1–128 characters of `[A-Za-z0-9_-]`, or any UUID.
pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_LENGTH || !valid_id_chars(id) {
        return Err(Error::new(ErrorKind::InvalidId, "record ids are 1-128 characters of [A-Za-z0-9_-]"));
    }
    Ok(())
}

/// A public client id: 32 base62 characters drawn from the stream (seed 002 style).
pub fn client_id(stream: &mut impl Iterator<Item = u8>) -> Result<String> {
    Alphabet::Base62
        .draw(32, stream)
        .ok_or_else(|| Error::new(ErrorKind::InsufficientRandomness, "not enough random bytes for a client id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_ids_never_exceed_what_records_hold() {
        let style = |prefix: usize| IdStyle::Prefixed { prefix: "k".repeat(prefix), hex_length: 8 };
        let id = style(120).make(&[1; 16]).unwrap_or_default();
        assert_eq!(id.len(), 128);
        assert!(validate_id(&id).is_ok());
        assert_eq!(style(121).make(&[1; 16]).map_err(|e| e.code()), Err("invalid_id"));
    }

    #[test]
    fn a_style_loads_from_its_name_or_its_object() {
        let load = |json: &str| serde_json::from_str::<IdStyle>(json).map_err(|e| e.to_string());
        let prefixed = IdStyle::Prefixed { prefix: "key_".into(), hex_length: 8 };
        assert_eq!(load(r#""prefixed""#), Ok(prefixed.clone()));
        assert_eq!(load(r#"{"style": "prefixed"}"#), Ok(prefixed));
        assert_eq!(load(r#""uuid""#), Ok(IdStyle::Uuid));
        let custom = load(r#"{"style": "prefixed", "prefix": "acct_", "hex_length": 12}"#);
        assert_eq!(custom, Ok(IdStyle::Prefixed { prefix: "acct_".into(), hex_length: 12 }));
        assert!(load(r#""ulid""#).is_err_and(|e| e.contains("unknown variant `ulid`")));
        assert!(load(r#"{"style": "prefixed", "hex": 8}"#).is_err_and(|e| e.contains("unknown field `hex`")));
        assert!(load("7").is_err());
        // Written back in the tagged form, which loads again.
        let text = serde_json::to_string(&IdStyle::Uuid).unwrap_or_default();
        assert_eq!((text.as_str(), load(&text)), (r#"{"style":"uuid"}"#, Ok(IdStyle::Uuid)));
    }

    #[test]
    fn uuid_v4_sets_version_and_variant() {
        let id = uuid_v4(&[0xff; 16]).unwrap_or_default();
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4(&[0; 16]).unwrap_or_default();
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
        assert!(uuid_v4(&[0; 15]).is_err());
    }

    #[test]
    fn prefixed_ids() {
        let style = IdStyle::Prefixed { prefix: "key_".into(), hex_length: 8 };
        assert_eq!(
            style.make(&[0x2f, 0x8a, 0x3b, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).ok().as_deref(),
            Some("key_2f8a3b1c")
        );
        assert!(IdStyle::Prefixed { prefix: "k y".into(), hex_length: 8 }.make(&[0; 16]).is_err());
        assert!(validate_id("key_2f8a3b1c").is_ok());
        assert!(validate_id("9904cf92-2202-48c0-a751-a9724e32c98e").is_ok());
        assert!(validate_id("a b").is_err());
    }
}
