//! How a deployment shapes its answers beyond the defaults: per-code status
//! overrides and the rate-limit header dialects clients parse.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorFamily, ErrorKind, Result};

/// Rate-limit header dialects. Several may be sent at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum RateLimitHeaders {
    /// `RateLimit-Policy: "starter";q=60;w=60` and `RateLimit: "starter";r=9;t=10`
    /// (draft-ietf-httpapi-ratelimit-headers-11 structured fields; the policy is
    /// named after the plan, `plan.class` for non-default classes).
    Draft,
    /// The older trio `RateLimit-Limit` / `-Remaining` / `-Reset` plus
    /// `RateLimit-Policy: 60;w=60;burst=10` (drafts up to -06).
    Legacy,
    /// `X-RateLimit-Limit` / `X-RateLimit-Remaining` / `X-RateLimit-Reset` (seconds),
    /// the headers most client libraries still parse.
    XRateLimit,
}

/// The default dialect: the current draft.
pub fn default_rate_limit_headers() -> Vec<RateLimitHeaders> {
    vec![RateLimitHeaders::Draft]
}

/// What a verification answers when the host's rate-limit store failed
/// (unreachable, timed out, or its compare-and-set kept losing): the host calls
/// [`crate::Verification::rate_state_unavailable`] with this (or with `None`:
/// the policy's `rate_store_failure`), and core renders the answer, so every
/// runtime's store fails the same way.
///
/// JSON: `{"on_error": "fail_closed", "retry_after_seconds": 1}` or `{"on_error": "fail_open"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "on_error", rename_all = "snake_case", deny_unknown_fields, try_from = "FailureFields")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum RateStoreFailure {
    /// Deny with 503 `rate_limit_unavailable` and `Retry-After` (the safe default:
    /// a quota that cannot be checked is not granted).
    FailClosed {
        /// Seconds the client should wait (`Retry-After`, the body's `retry_after`); at least 1.
        #[serde(default = "one_second")]
        retry_after_seconds: u32,
    },
    /// Allow without rate-limit headers, with the warning `rate_limit_unavailable`
    /// (the request was not counted: the host should log it).
    FailOpen,
}

fn one_second() -> u32 {
    1
}

/// The JSON fields of a [`RateStoreFailure`], read flat: an internally tagged
/// enum buffers its input to find the tag (3 KB more of WASM, measured).
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct FailureFields {
    /// `fail_closed`: deny with 503 `rate_limit_unavailable` and `Retry-After`;
    /// `fail_open`: allow uncounted, with the warning `rate_limit_unavailable`.
    on_error: OnError,
    /// Fail closed only: seconds the client should wait (at least 1; default 1).
    #[serde(default)]
    retry_after_seconds: Option<u32>,
}

/// What a failed rate-limit store answers.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
enum OnError {
    /// Deny with 503 `rate_limit_unavailable`.
    FailClosed,
    /// Allow uncounted, with a warning.
    FailOpen,
}

impl TryFrom<FailureFields> for RateStoreFailure {
    type Error = &'static str;

    fn try_from(fields: FailureFields) -> std::result::Result<Self, Self::Error> {
        match (fields.on_error, fields.retry_after_seconds) {
            (OnError::FailClosed, seconds) => {
                Ok(Self::FailClosed { retry_after_seconds: seconds.unwrap_or_else(one_second) })
            }
            (OnError::FailOpen, None) => Ok(Self::FailOpen),
            (OnError::FailOpen, Some(_)) => Err("retry_after_seconds belongs to fail_closed only"),
        }
    }
}

impl Default for RateStoreFailure {
    fn default() -> Self {
        Self::FailClosed { retry_after_seconds: one_second() }
    }
}

impl crate::load::Load for RateStoreFailure {
    const KIND: ErrorKind = ErrorKind::InvalidPolicy;

    fn check(&self) -> Result<()> {
        match self {
            Self::FailClosed { retry_after_seconds: 0 } => {
                Err(Error::new(ErrorKind::InvalidPolicy, "retry_after_seconds must be at least 1"))
            }
            _ => Ok(()),
        }
    }
}

impl RateStoreFailure {
    /// From a host's two options: `on_error` (`"fail_closed"` or `"fail_open"`) and
    /// the seconds a fail-closed answer asks the client to wait (at least 1).
    pub fn new(on_error: &str, retry_after_seconds: u32) -> Result<Self> {
        let failure = match on_error {
            "fail_closed" => Self::FailClosed { retry_after_seconds },
            "fail_open" => Self::FailOpen,
            _ => return Err(Error::new(ErrorKind::InvalidPolicy, "on_error must be \"fail_closed\" or \"fail_open\"")),
        };
        crate::load::Load::check(&failure)?;
        Ok(failure)
    }

    /// A host's optional choice: `None` for both leaves the answer to the policy's
    /// `rate_store_failure`; `"fail_closed"` without seconds waits 1 s; seconds
    /// alone mean fail closed with them (the only answer they belong to).
    pub fn chosen(on_error: Option<&str>, retry_after_seconds: Option<u32>) -> Result<Option<Self>> {
        match (on_error, retry_after_seconds) {
            (None, None) => Ok(None),
            (on_error, seconds) => {
                Self::new(on_error.unwrap_or("fail_closed"), seconds.unwrap_or_else(one_second)).map(Some)
            }
        }
    }

    /// Loads and validates one from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }
}

/// Statuses a deployment may give a denial code.
const ALLOWED_OVERRIDES: &[u16] = &[400, 401, 403, 404, 405, 409, 410, 422, 429, 451, 500, 503];

/// Checks `status_overrides`: known denial codes only, sensible statuses only.
pub(crate) fn validate_overrides(overrides: &BTreeMap<String, u16>) -> Result<()> {
    for (code, status) in overrides {
        let kind = ErrorKind::from_code(code)
            .filter(|k| !matches!(k.family(), ErrorFamily::Config | ErrorFamily::Randomness))
            .ok_or_else(|| {
                Error::new(ErrorKind::InvalidPolicy, format!("status_overrides: {code:?} is not a denial code"))
            })?;
        if !ALLOWED_OVERRIDES.contains(status) {
            return Err(Error::new(
                ErrorKind::InvalidPolicy,
                format!("status_overrides.{code}: {status} is not one of {ALLOWED_OVERRIDES:?}"),
            ));
        }
        if kind == ErrorKind::RateLimited && *status != 429 && *status != 503 {
            return Err(Error::new(ErrorKind::InvalidPolicy, "status_overrides.rate_limited: use 429 or 503"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    #[test]
    fn a_host_may_leave_the_store_failure_to_the_policy() {
        assert_eq!(RateStoreFailure::chosen(None, None).ok(), Some(None));
        assert_eq!(RateStoreFailure::chosen(Some("fail_open"), None).ok(), Some(Some(RateStoreFailure::FailOpen)));
        let closed = RateStoreFailure::chosen(Some("fail_closed"), Some(9)).ok().flatten();
        assert_eq!(closed, Some(RateStoreFailure::FailClosed { retry_after_seconds: 9 }));
        let seconds_alone = RateStoreFailure::chosen(None, Some(5)).ok().flatten();
        assert_eq!(seconds_alone, Some(RateStoreFailure::FailClosed { retry_after_seconds: 5 }));
        for (on_error, seconds) in [(None, Some(0)), (Some("fail_soft"), None), (Some("fail_closed"), Some(0))] {
            let refused = RateStoreFailure::chosen(on_error, seconds).err().map(|e| e.kind());
            assert_eq!(refused, Some(ErrorKind::InvalidPolicy), "{on_error:?} {seconds:?}");
        }
    }

    #[test]
    fn the_policy_default_fails_closed_and_is_validated() {
        assert_eq!(Policy::default().rate_store_failure, RateStoreFailure::FailClosed { retry_after_seconds: 1 });
        let open =
            Policy::from_json(r#"{"rate_store_failure": {"on_error": "fail_open"}}"#).map(|p| p.rate_store_failure);
        assert_eq!(open.ok(), Some(RateStoreFailure::FailOpen));
        for refused in [
            r#"{"on_error": "fail_closed", "retry_after_seconds": 0}"#,
            r#"{"on_error": "fail_open", "retry_after_seconds": 3}"#,
            r#"{"on_error": "fail_soft"}"#,
            r#"{"on_error": "fail_closed", "extra": 1}"#,
            r#"{"retry_after_seconds": 3}"#,
        ] {
            let policy = Policy::from_json(&format!(r#"{{"rate_store_failure": {refused}}}"#));
            assert_eq!(policy.err().map(|e| e.kind()), Some(ErrorKind::InvalidPolicy), "{refused}");
        }
        for failure in [RateStoreFailure::FailOpen, RateStoreFailure::FailClosed { retry_after_seconds: 7 }] {
            let json = serde_json::to_string(&failure).unwrap_or_default();
            assert_eq!(RateStoreFailure::from_json(&json).ok(), Some(failure), "{json}");
        }
        let closed = serde_json::to_string(&RateStoreFailure::default()).unwrap_or_default();
        assert_eq!(closed, r#"{"on_error":"fail_closed","retry_after_seconds":1}"#);
    }
}
