//! What crosses a host boundary, written once for every binding: the
//! finished-verification string ([`mod@decided`]), the plain views of core values
//! the bindings hand to their runtime ([`views`]), and the conversions of the
//! arguments every binding takes the same way (flat header lists, times in
//! milliseconds, grace periods in hours, format lists). A binding converts its
//! runtime's values to these and back; it holds no shape of its own.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::engine::FormatRef;
use crate::error::{Error, ErrorKind, Result};
use crate::format::FormatSet;
use crate::load::Load;

pub mod action;
pub mod decided;
pub mod views;

pub use action::{completion, ActionView};
pub use decided::{decided, RateWriteView};
pub use views::{
    error_codes, ChangedView, ErrorCodeView, InspectedTokenView, IssuedTokenView, MintedView, ParsedView, StepView,
    SuccessorView, VerifiedTokenView,
};

/// Header pairs from a flat `[name, value, name, value …]` list (the shape JS
/// hosts pass: one array, no object per header).
pub fn header_pairs<S: AsRef<str>>(flat: &[S]) -> Result<Vec<(&str, &str)>> {
    if flat.len() % 2 != 0 {
        return Err(Error::new(ErrorKind::InvalidJson, "headers are a flat list of name, value pairs"));
    }
    Ok(flat.chunks_exact(2).filter_map(|c| Some((c.first()?.as_ref(), c.get(1)?.as_ref()))).collect())
}

/// Milliseconds since the Unix epoch (a JS `Date`'s number) as a UTC instant;
/// not finite or outside the years 0001-9999 is `invalid_timestamp`.
pub fn instant_from_ms(ms: f64) -> Result<DateTime<Utc>> {
    if !ms.is_finite() {
        return Err(Error::new(ErrorKind::InvalidTimestamp, "the time is not a finite number of milliseconds"));
    }
    // `as` saturates; the range check below refuses anything out of the years 0001-9999.
    #[allow(clippy::cast_possible_truncation)]
    let whole = ms.floor() as i64;
    DateTime::from_timestamp_millis(whole)
        .ok_or_else(|| Error::new(ErrorKind::InvalidTimestamp, "the time is out of range"))
        .and_then(crate::timestamp::in_range)
}

/// An instant as milliseconds since the Unix epoch (exact for years 0001-9999).
pub fn instant_to_ms(at: DateTime<Utc>) -> f64 {
    // Milliseconds of years 0001-9999 fit a double exactly.
    #[allow(clippy::cast_precision_loss)]
    let ms = at.timestamp_millis() as f64;
    ms
}

/// A rotation grace period given in hours (a host number; absent: the default
/// grace). Not finite is `invalid_transition`; a negative or too long one is
/// left for the rotation to refuse.
pub fn grace_from_hours(hours: Option<f64>) -> Result<Duration> {
    match hours {
        None => Ok(crate::lifecycle::default_rotation_grace()),
        Some(h) if h.is_finite() => {
            // Milliseconds, saturating; the core refuses negative or out-of-range graces.
            #[allow(clippy::cast_possible_truncation)]
            let ms = (h * 3_600_000.0).round() as i64;
            Duration::try_milliseconds(ms)
                .ok_or_else(|| Error::new(ErrorKind::InvalidTimestamp, "the grace period is out of range"))
        }
        Some(_) => Err(Error::new(ErrorKind::InvalidTransition, "the grace period is not a number")),
    }
}

/// [`crate::Engine::begin`] with the host's price for the request's usage
/// ([`crate::Verification::set_usage_cost`]) as a JS number (`None`: its route's
/// cost): a whole number from 0 to 2^32 - 1, else `invalid_quota`.
pub fn begin_priced<N: AsRef<str>, V: AsRef<str>>(
    engine: &crate::Engine,
    request: (&str, &str, &[(N, V)], Option<&str>),
    now: DateTime<Utc>,
    usage_cost: Option<f64>,
) -> Result<crate::Verification> {
    let units = usage_cost.map(usage_units).transpose()?;
    let (method, path, headers, client_ip) = request;
    let mut v = engine.begin(method, path, headers, client_ip, now);
    if let Some(units) = units {
        v.set_usage_cost(units);
    }
    Ok(v)
}

/// Usage units given as a JS number (a request's price, a charge): a whole
/// number from 0 to 2^32 - 1, else `invalid_quota`.
pub fn usage_units(n: f64) -> Result<u32> {
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        // Whole and in range: the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Ok(n as u32);
    }
    Err(Error::new(ErrorKind::InvalidQuota, "usage units must be a whole number from 0 to 4294967295"))
}

/// A list of formats, preset ids or full definitions, as a host passes it to
/// `parse_key`, `scan` and `redact`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct FormatList(pub Vec<FormatRef>);

impl Load for FormatList {
    const KIND: ErrorKind = ErrorKind::InvalidFormat;
}

/// The format set a host's format list names (`None`: every preset).
pub fn format_set(list: Option<FormatList>) -> Result<FormatSet> {
    let Some(FormatList(list)) = list else { return crate::presets::all_set() };
    let resolved = list
        .into_iter()
        .map(|f| match f {
            FormatRef::Preset(id) => crate::presets::get(&id),
            FormatRef::Custom(format) => Ok(format),
        })
        .collect::<Result<Vec<_>>>()?;
    FormatSet::new(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_pair_up_or_are_refused() {
        let flat = ["a", "1", "b", "2"];
        assert_eq!(header_pairs(&flat).unwrap(), vec![("a", "1"), ("b", "2")]);
        assert_eq!(header_pairs(&["a"]).unwrap_err().kind(), ErrorKind::InvalidJson);
        assert!(header_pairs::<String>(&[]).unwrap().is_empty());
    }

    #[test]
    fn milliseconds_are_instants_in_range() {
        let at = instant_from_ms(1_773_829_800_123.9).unwrap();
        assert_eq!(at.timestamp_millis(), 1_773_829_800_123);
        assert_eq!(instant_to_ms(at), 1_773_829_800_123.0);
        for bad in [f64::NAN, f64::INFINITY, -1e300, 1e300] {
            assert_eq!(instant_from_ms(bad).unwrap_err().kind(), ErrorKind::InvalidTimestamp, "{bad}");
        }
    }

    #[test]
    fn grace_hours_convert_or_are_refused() {
        assert_eq!(grace_from_hours(None).unwrap(), crate::lifecycle::default_rotation_grace());
        assert_eq!(grace_from_hours(Some(1.5)).unwrap(), Duration::minutes(90));
        assert_eq!(grace_from_hours(Some(f64::NAN)).unwrap_err().kind(), ErrorKind::InvalidTransition);
        assert_eq!(grace_from_hours(Some(-2.0)).unwrap(), Duration::hours(-2), "refused by the rotation, not here");
    }

    #[test]
    fn usage_costs_are_whole_numbers_in_range() {
        let engine = crate::Engine::from_json(r#"{"formats": ["matchii_live"]}"#).unwrap();
        let now = instant_from_ms(1_773_829_800_000.0).unwrap();
        let begin = |cost| begin_priced(&engine, ("GET", "/", &[] as &[(&str, &str)], None), now, cost);
        for fine in [None, Some(0.0), Some(7.0), Some(4_294_967_295.0)] {
            assert!(begin(fine).is_ok(), "{fine:?}");
        }
        for bad in [-1.0, 1.5, 4_294_967_296.0, f64::NAN, f64::INFINITY] {
            assert_eq!(begin(Some(bad)).unwrap_err().kind(), ErrorKind::InvalidQuota, "{bad}");
        }
    }

    #[test]
    fn format_lists_resolve_presets_and_definitions() {
        let all = format_set(None).unwrap();
        assert_eq!(all.formats().len(), crate::presets::all().len());
        let one: FormatList = FormatList::load_json(r#"["matchii_live"]"#).unwrap();
        assert_eq!(format_set(Some(one)).unwrap().formats().len(), 1);
        let unknown = FormatList::load_json(r#"["no_such_preset"]"#).unwrap();
        assert!(format_set(Some(unknown)).is_err());
        assert_eq!(FormatList::load_json("3").unwrap_err().kind(), ErrorKind::InvalidFormat);
    }
}
