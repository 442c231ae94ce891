//! ISO 8601 timestamps for records: RFC 3339 with an offset, or a naive
//! `YYYY-MM-DDTHH:MM:SS[.f]` read as UTC (seed 002 stores those). Written back as RFC 3339 UTC.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{de, Deserialize, Deserializer, Serializer};

use crate::error::{Error, ErrorKind, Result};

/// Parses an ISO 8601 timestamp.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|n| n.and_utc())
        .map_err(|_| Error::new(ErrorKind::InvalidTimestamp, "timestamps must be ISO 8601, e.g. 2026-03-18T10:30:00Z"))
}

/// Formats as RFC 3339 UTC with `Z`, fractional seconds only when present.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(t))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    parse_timestamp(&text).map_err(|e| de::Error::custom(format!("invalid_timestamp: {}", e.message())))
}

/// Serde helpers for `Option<DateTime<Utc>>`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> std::result::Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse_timestamp(&text)
                .map(Some)
                .map_err(|e| de::Error::custom(format!("invalid_timestamp: {}", e.message()))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_offsets_and_naive() {
        let z = parse_timestamp("2026-03-18T10:30:00Z").ok();
        assert_eq!(parse_timestamp("2026-03-18T12:30:00+02:00").ok(), z);
        assert_eq!(parse_timestamp("2026-03-18T10:30:00").ok(), z);
        assert!(parse_timestamp("2026-01-11T18:58:35.961074").is_ok());
        assert_eq!(z.map(|t| format_timestamp(&t)).as_deref(), Some("2026-03-18T10:30:00Z"));
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-03-18"] {
            assert_eq!(parse_timestamp(bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidTimestamp));
        }
    }
}
