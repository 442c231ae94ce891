//! HTTP rendering of decisions: status (RFC 6750 and the seeds), `WWW-Authenticate`,
//! RFC 9457 problem+json bodies, `RateLimit-*`/`Retry-After`, `Deprecation`/`Sunset`.

use chrono::format::{Fixed, Item, Numeric, Pad};
use chrono::{DateTime, Utc};

use crate::answers::RateLimitHeaders;
use crate::credential::CredentialMethod;
use crate::error::{ErrorFamily, ErrorKind};
use crate::policy::Policy;
use crate::ratelimit::{Quota, RateLimitOutcome};
use crate::timestamp::CLOCK;

/// How a code appears to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicView {
    /// HTTP status.
    pub status: u16,
    /// Code in the body.
    pub public_code: &'static str,
    /// RFC 6750 `error` attribute, if any.
    pub oauth_error: Option<&'static str>,
    /// Problem title.
    pub title: &'static str,
    /// Whether a `WWW-Authenticate` challenge is sent.
    pub challenge: bool,
}

/// Status and public code for every error kind. Every key-level failure shares
/// one public code so callers cannot tell unknown, revoked, disabled, expired and
/// mismatched keys apart.
pub fn public_view(kind: ErrorKind) -> PublicView {
    use ErrorKind as K;
    let view = |status, public_code, oauth_error, title, challenge| PublicView {
        status,
        public_code,
        oauth_error,
        title,
        challenge,
    };
    match kind {
        K::MissingCredentials => view(401, "missing_credentials", None, "Authentication required", true),
        K::MissingClientId => view(401, "missing_client_id", None, "Client id required", true),
        K::InsufficientScope => view(403, "insufficient_scope", Some("insufficient_scope"), "Insufficient scope", true),
        K::IpNotAllowed => view(403, "ip_not_allowed", None, "IP address not allowed", false),
        K::OriginNotAllowed => view(403, "origin_not_allowed", None, "Origin not allowed", false),
        K::RouteNotAllowed => view(403, "route_not_allowed", None, "Route not allowed", false),
        K::CredentialKindNotAllowed => {
            view(403, "credential_kind_not_allowed", None, "Credential not allowed here", false)
        }
        K::InsufficientRole => view(403, "insufficient_role", None, "Insufficient role", false),
        K::FeatureNotEnabled => view(400, "feature_not_enabled", None, "Feature not enabled", false),
        K::TokenRouteNotAllowed => view(403, "route_not_allowed", None, "Route not allowed", false),
        K::ScopeNotGranted => view(400, "invalid_scope", Some("invalid_scope"), "Invalid scope", false),
        K::RateLimited => view(429, "rate_limited", None, "Too many requests", false),
        K::RateLimitUnavailable => view(503, "rate_limit_unavailable", None, "Service unavailable", false),
        K::UsageExceeded => view(429, "usage_exceeded", None, "Usage limit exceeded", false),
        k => match k.family() {
            ErrorFamily::KeyFormat | ErrorFamily::Authentication => {
                view(401, "invalid_key", Some("invalid_token"), "Invalid API key", true)
            }
            // A missing, empty or malformed token is an invalid token (RFC 6750 §3.1;
            // seeds 003 and 004 promise 401): the same answer as an unknown key.
            ErrorFamily::Credential if malformed_token(k) => {
                view(401, "invalid_key", Some("invalid_token"), "Invalid API key", true)
            }
            ErrorFamily::Credential => view(400, k.code(), Some("invalid_request"), "Invalid request", true),
            _ => view(500, "server_error", None, "Server error", false),
        },
    }
}

/// Credential faults of the token itself (401), as opposed to faults of the
/// request (duplicate or conflicting headers, oversized headers, bad path: 400).
fn malformed_token(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::EmptyToken
            | ErrorKind::MalformedAuthorization
            | ErrorKind::InvalidBasicCredentials
            | ErrorKind::InvalidHeaderValue
    )
}

/// Detail sentence for the body and `error_description` (fixed text: no secrets, RFC 6750 characters only).
pub fn public_detail(public_code: &str) -> &'static str {
    match public_code {
        "missing_credentials" => "The request carries no API key.",
        "missing_client_id" => "The request must carry a client id.",
        "invalid_key" => "The API key is invalid, expired or revoked.",
        "insufficient_scope" => "The API key lacks a scope this request needs.",
        "ip_not_allowed" => "The API key may not be used from this IP address.",
        "origin_not_allowed" => "The API key may not be used from this website.",
        "route_not_allowed" => "This route is not available to API keys.",
        "invalid_scope" => "The requested scope exceeds what the API key grants.",
        "credential_kind_not_allowed" => "This kind of credential may not call this route.",
        "insufficient_role" => "The API key's role may not call this route.",
        "feature_not_enabled" => "This feature is not enabled for the account.",
        "rate_limited" => "The API key exceeded its rate limit.",
        "rate_limit_unavailable" => "The rate limit could not be checked.",
        "usage_exceeded" => "The API key used up its usage limit.",
        "server_error" => "The key could not be checked.",
        _ => "The request is malformed.",
    }
}

fn challenge_scheme(policy: &Policy) -> &'static str {
    let methods = &policy.credentials.methods;
    if methods.contains(&CredentialMethod::Bearer) {
        "Bearer"
    } else if methods.contains(&CredentialMethod::Basic) {
        "Basic"
    } else {
        "ApiKey"
    }
}

/// The `WWW-Authenticate` value (RFC 6750 §3).
pub fn www_authenticate(policy: &Policy, view: &PublicView, scope: Option<&str>) -> String {
    let scheme = challenge_scheme(policy);
    let mut out = format!("{scheme} realm=\"{}\"", policy.realm);
    if scheme == "Basic" {
        // RFC 7617 defines only realm and charset for Basic; the body carries the code.
        out.push_str(", charset=\"UTF-8\"");
        return out;
    }
    if let Some(error) = view.oauth_error {
        out.push_str(&format!(", error=\"{error}\""));
        out.push_str(&format!(", error_description=\"{}\"", public_detail(view.public_code)));
    }
    if let Some(scope) = scope {
        out.push_str(&format!(", scope=\"{scope}\""));
    }
    out
}

/// The RFC 9457 body.
pub fn problem_body(policy: &Policy, view: &PublicView, missing_scope: Option<&str>, retry: Option<u64>) -> String {
    let mut body = serde_json::Map::new();
    body.insert("type".into(), format!("{}{}", policy.problem_base, view.public_code).into());
    body.insert("title".into(), view.title.into());
    body.insert("status".into(), view.status.into());
    body.insert("detail".into(), public_detail(view.public_code).into());
    body.insert("code".into(), view.public_code.into());
    if let Some(scope) = missing_scope {
        body.insert("missing_scope".into(), scope.into());
    }
    if let Some(retry) = retry {
        body.insert("retry_after".into(), retry.into());
    }
    serde_json::Value::Object(body).to_string()
}

/// Rate-limit headers in the policy's dialects (and `Retry-After` when denied).
///
/// The draft dialect states the GCRA bucket as the window it is equivalent to:
/// `limit` per `period` with `burst` is `burst` requests per `burst × period / limit`
/// seconds, so `q` is the burst, `r` what is left of it and `t` the seconds until
/// the bucket is full again.
pub fn rate_limit_headers(
    policy: &Policy,
    bucket: (&str, &str),
    outcome: &RateLimitOutcome,
    quota: Option<&Quota>,
    headers: &mut Vec<(String, String)>,
) {
    let (limit, period) = quota.map_or((0, 0), |q| (q.limit, q.period_seconds));
    for dialect in &policy.rate_limit_headers {
        match dialect {
            RateLimitHeaders::Draft => {
                let name = policy_name(bucket);
                let window =
                    u64::from(outcome.limit).saturating_mul(u64::from(period)).div_ceil(u64::from(limit.max(1))).max(1);
                headers.push(("RateLimit-Policy".into(), format!("{name};q={};w={window}", outcome.limit)));
                headers
                    .push(("RateLimit".into(), format!("{name};r={};t={}", outcome.remaining, outcome.reset_seconds)));
            }
            RateLimitHeaders::Legacy => {
                headers.push(("RateLimit-Limit".into(), outcome.limit.to_string()));
                headers.push(("RateLimit-Remaining".into(), outcome.remaining.to_string()));
                headers.push(("RateLimit-Reset".into(), outcome.reset_seconds.to_string()));
                // Both dialects name a `RateLimit-Policy`; when the draft's is sent, it wins.
                if !policy.rate_limit_headers.contains(&RateLimitHeaders::Draft) {
                    headers.push(("RateLimit-Policy".into(), format!("{limit};w={period};burst={}", outcome.limit)));
                }
            }
            RateLimitHeaders::XRateLimit => {
                headers.push(("X-RateLimit-Limit".into(), outcome.limit.to_string()));
                headers.push(("X-RateLimit-Remaining".into(), outcome.remaining.to_string()));
                headers.push(("X-RateLimit-Reset".into(), outcome.reset_seconds.to_string()));
            }
        }
    }
    if let Some(retry) = outcome.retry_after_seconds {
        headers.push(("Retry-After".into(), retry.to_string()));
    }
}

/// A usage counter's headers: in the draft dialect a second policy named
/// `usage` (`q` the limit, `w` the period in seconds; `t` the seconds until the
/// period ends; neither for credits that never restart), then `Retry-After`
/// when denied within a period. The legacy and `X-` dialects state one limit
/// only: theirs stays the rate limit.
pub fn usage_headers(
    policy: &Policy,
    outcome: &RateLimitOutcome,
    window_seconds: Option<u64>,
    headers: &mut Vec<(String, String)>,
) {
    if policy.rate_limit_headers.contains(&RateLimitHeaders::Draft) {
        let (limit, remaining) = (outcome.limit, outcome.remaining);
        let (policy_value, value) = match window_seconds {
            Some(w) => {
                (format!("\"usage\";q={limit};w={w}"), format!("\"usage\";r={remaining};t={}", outcome.reset_seconds))
            }
            None => (format!("\"usage\";q={limit}"), format!("\"usage\";r={remaining}")),
        };
        headers.push(("RateLimit-Policy".into(), policy_value));
        headers.push(("RateLimit".into(), value));
    }
    if let Some(retry) = outcome.retry_after_seconds {
        headers.push(("Retry-After".into(), retry.to_string()));
    }
}

/// The policy's name as a structured-field string: the plan, `plan.class` for
/// other classes; `"` and `\` escaped (RFC 9651 §3.3.3).
fn policy_name((plan, class): (&str, &str)) -> String {
    let raw = if class == "default" { plan.to_string() } else { format!("{plan}.{class}") };
    let mut out = String::with_capacity(raw.len().saturating_add(2));
    out.push('"');
    for c in raw.chars().filter(|c| (' '..='~').contains(c)) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `Deprecation` (RFC 9745, `@epoch`) and `Sunset` (RFC 8594, HTTP-date) for keys in rotation grace.
pub fn rotation_headers(rotated_at: DateTime<Utc>, grace_until: DateTime<Utc>, headers: &mut Vec<(String, String)>) {
    headers.push(("Deprecation".into(), format!("@{}", rotated_at.timestamp())));
    headers.push((
        "Sunset".into(),
        grace_until.format_with_items(HTTP_DATE.iter().chain(&CLOCK).chain([&Item::Literal(" GMT")])).to_string(),
    ));
}

/// `%a, %d %b %Y ` (then [`CLOCK`] and ` GMT`: an IMF-fixdate) as chrono's
/// items, so the strftime parser stays out of the binary (a WASM size cut).
const HTTP_DATE: [Item<'static>; 8] = [
    Item::Fixed(Fixed::ShortWeekdayName),
    Item::Literal(", "),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Literal(" "),
    Item::Fixed(Fixed::ShortMonthName),
    Item::Literal(" "),
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal(" "),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_and_safe_description() {
        for kind in ErrorKind::ALL {
            let v = public_view(*kind);
            assert!([400, 401, 403, 429, 500, 503].contains(&v.status), "{kind}");
            let d = public_detail(v.public_code);
            assert!(d
                .bytes()
                .all(|c| c == 0x20 || c == 0x21 || (0x23..=0x5B).contains(&c) || (0x5D..=0x7E).contains(&c)));
        }
        for k in [ErrorKind::UnknownKey, ErrorKind::KeyRevoked, ErrorKind::KeyDisabled, ErrorKind::KeyMismatch] {
            assert_eq!(public_view(k), public_view(ErrorKind::KeyExpired));
        }
    }
}
