//! Expiry presets (`15d`, `25d`, `45d`, `90d`, `6m`, `1y` …) where months and
//! years are calendar months, as seed 003 offers them.

use chrono::{DateTime, Days, Months, Utc};

use crate::error::{Error, ErrorKind, Result};

/// The presets seed 003 offers; any `<n>d`, `<n>w`, `<n>m` or `<n>y` is accepted.
pub const EXPIRY_PRESETS: &[&str] = &["15d", "25d", "45d", "90d", "6m", "1y"];

/// Longest expiry a preset may describe: 10 years.
const MAX_DAYS: u32 = 3660;

/// The instant `preset` after `from`. Months are calendar months: 31 January + 1m
/// is the last day of February.
pub fn expiry_from_preset(preset: &str, from: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidExpiry,
            format!("expiry presets look like {} (a number then d, w, m or y)", EXPIRY_PRESETS.join(", ")),
        )
    };
    let unit = preset.chars().last().ok_or_else(invalid)?;
    let number = preset.get(..preset.len().saturating_sub(1)).ok_or_else(invalid)?;
    if number.is_empty() || number.starts_with('0') || !number.bytes().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let n: u32 = number.parse().map_err(|_| invalid())?;
    let (days, months) = match unit {
        'd' => (Some(n), None),
        'w' => (n.checked_mul(7), None),
        'm' => (None, Some(n)),
        'y' => (None, n.checked_mul(12)),
        _ => return Err(invalid()),
    };
    let approx_days = days.or_else(|| months.and_then(|m| m.checked_mul(31))).ok_or_else(invalid)?;
    if approx_days > MAX_DAYS + 31 {
        return Err(Error::new(ErrorKind::InvalidExpiry, "expiry presets are at most 10 years"));
    }
    let out = match (days, months) {
        (Some(d), _) => from.checked_add_days(Days::new(u64::from(d))),
        (_, Some(m)) => from.checked_add_months(Months::new(m)),
        _ => None,
    };
    out.ok_or_else(invalid).and_then(crate::timestamp::in_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn calendar_months() {
        let jan31 = at("2026-01-31T12:00:00Z");
        assert_eq!(expiry_from_preset("6m", jan31).ok(), Some(at("2026-07-31T12:00:00Z")));
        assert_eq!(expiry_from_preset("1m", jan31).ok(), Some(at("2026-02-28T12:00:00Z")));
        assert_eq!(expiry_from_preset("1y", at("2028-02-29T00:00:00Z")).ok(), Some(at("2029-02-28T00:00:00Z")));
        assert_eq!(expiry_from_preset("15d", jan31).ok(), Some(at("2026-02-15T12:00:00Z")));
        assert_eq!(expiry_from_preset("90d", jan31).ok(), Some(at("2026-05-01T12:00:00Z")));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "d", "0d", "15", "15x", "-1d", "1.5m", "99999d", "11y", "٣d"] {
            assert_eq!(
                expiry_from_preset(bad, at("2026-01-01T00:00:00Z")).err().map(|e| e.kind()),
                Some(ErrorKind::InvalidExpiry),
                "{bad}"
            );
        }
        for ok in EXPIRY_PRESETS {
            assert!(expiry_from_preset(ok, at("2026-01-01T00:00:00Z")).is_ok());
        }
    }
}
