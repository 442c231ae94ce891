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
