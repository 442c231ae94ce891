//! ISO 8601 timestamps for records: RFC 3339 with an offset, or a naive
//! `YYYY-MM-DDTHH:MM:SS[.f]` read as UTC (seed 002 stores those). Written back as RFC 3339 UTC.

use chrono::format::{Fixed, Item, Numeric, Pad, Parsed};
use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::{de, Deserialize, Deserializer, Serializer};

use crate::error::{Error, ErrorKind, Result};

/// Parses an ISO 8601 timestamp (years 0001–9999 only: every runtime and
/// store can write those back and read them again).
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>> {
    let parsed = match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => parse_naive(text).ok_or_else(|| {
            Error::new(ErrorKind::InvalidTimestamp, "timestamps must be ISO 8601, e.g. 2026-03-18T10:30:00Z")
        })?,
    };
    in_range(parsed)
}

/// `%H:%M:%S` as chrono's items (shared with the HTTP-date of `Sunset`).
pub(crate) const CLOCK: [Item<'static>; 5] = [
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
];

/// `%Y-%m-%dT`, then [`CLOCK`] and `%.f`: the same parse as
/// `NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")`, without the
/// strftime parser in the binary (a WASM size cut).
const DATE_T: [Item<'static>; 6] = [
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Literal("T"),
];

/// A naive `YYYY-MM-DDTHH:MM:SS[.f]`, read as UTC.
fn parse_naive(text: &str) -> Option<DateTime<Utc>> {
    let mut parsed = Parsed::new();
    let items = DATE_T.iter().chain(&CLOCK).chain([&Item::Fixed(Fixed::Nanosecond)]);
    chrono::format::parse(&mut parsed, text, items).ok()?;
    parsed.to_naive_datetime_with_offset(0).ok().map(|n| n.and_utc())
}

/// `t` if its year is 0001–9999, else `invalid_timestamp`.
pub fn in_range(t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if (1..=9999).contains(&t.year()) {
        Ok(t)
    } else {
        Err(Error::new(ErrorKind::InvalidTimestamp, "timestamps must lie in the years 0001-9999"))
    }
}

/// `t + delta`, refused (not wrapped or panicking) outside the years 0001–9999.
pub fn add(t: DateTime<Utc>, delta: chrono::TimeDelta) -> Result<DateTime<Utc>> {
    t.checked_add_signed(delta)
        .ok_or_else(|| Error::new(ErrorKind::InvalidTimestamp, "the time is out of range"))
        .and_then(in_range)
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

/// Serde helpers for instants by name (`{"key_…": "2026-…Z"}`).
pub(crate) mod map {
    use std::collections::BTreeMap;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        m: &BTreeMap<String, DateTime<Utc>>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(name, t)| (name, format_timestamp(t))))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<BTreeMap<String, DateTime<Utc>>, D::Error> {
        // Read as the map type records' metadata already use, and filled by
        // inserts (collecting sorts first): each saved WASM code size.
        let mut out = BTreeMap::new();
        for (name, value) in BTreeMap::<String, serde_json::Value>::deserialize(d)? {
            let at = match value.as_str().map(parse_timestamp) {
                Some(Ok(t)) => t,
                Some(Err(e)) => return Err(de::Error::custom(format!("invalid_timestamp: {}", e.message()))),
                None => return Err(de::Error::custom("invalid_timestamp: expected an RFC 3339 timestamp string")),
            };
            out.insert(name, at);
        }
        Ok(out)
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
        for bad in
            ["", "yesterday", "2026-13-01T00:00:00Z", "2026-03-18", "+10000-01-01T00:00:00", "0000-01-01T00:00:00Z"]
        {
            assert_eq!(parse_timestamp(bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidTimestamp));
        }
    }
}
