//! HTTP rendering of decisions: status (RFC 6750 and the seeds), `WWW-Authenticate`,
//! RFC 9457 problem+json bodies, `RateLimit-*`/`Retry-After`, `Deprecation`/`Sunset`.

use chrono::{DateTime, Utc};

use crate::credential::CredentialMethod;
use crate::error::{ErrorFamily, ErrorKind};
use crate::policy::Policy;
use crate::ratelimit::RateLimitOutcome;

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
        K::RouteNotAllowed => view(403, "route_not_allowed", None, "Route not allowed", false),
        K::CredentialKindNotAllowed => {
            view(403, "credential_kind_not_allowed", None, "Credential not allowed here", false)
        }
        K::InsufficientRole => view(403, "insufficient_role", None, "Insufficient role", false),
        K::FeatureNotEnabled => view(400, "feature_not_enabled", None, "Feature not enabled", false),
        K::RateLimited => view(429, "rate_limited", None, "Too many requests", false),
        k => match k.family() {
            ErrorFamily::KeyFormat | ErrorFamily::Authentication => {
                view(401, "invalid_key", Some("invalid_token"), "Invalid API key", true)
            }
            ErrorFamily::Credential => view(400, k.code(), Some("invalid_request"), "Invalid request", true),
            _ => view(500, "server_error", None, "Server error", false),
        },
    }
}

/// Detail sentence for the body and `error_description` (fixed text: no secrets, RFC 6750 characters only).
pub fn public_detail(public_code: &str) -> &'static str {
    match public_code {
        "missing_credentials" => "The request carries no API key.",
        "missing_client_id" => "The request must carry a client id.",
        "invalid_key" => "The API key is invalid, expired or revoked.",
        "insufficient_scope" => "The API key lacks a scope this request needs.",
        "ip_not_allowed" => "The API key may not be used from this IP address.",
        "route_not_allowed" => "This route is not available to API keys.",
        "credential_kind_not_allowed" => "This kind of credential may not call this route.",
        "insufficient_role" => "The API key's role may not call this route.",
        "feature_not_enabled" => "This feature is not enabled for the account.",
        "rate_limited" => "The API key exceeded its rate limit.",
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

/// `RateLimit-*` headers (and `Retry-After` when denied).
pub fn rate_limit_headers(outcome: &RateLimitOutcome, limit: u32, period: u32, headers: &mut Vec<(String, String)>) {
    headers.push(("RateLimit-Limit".into(), outcome.limit.to_string()));
    headers.push(("RateLimit-Remaining".into(), outcome.remaining.to_string()));
    headers.push(("RateLimit-Reset".into(), outcome.reset_seconds.to_string()));
    headers.push(("RateLimit-Policy".into(), format!("{limit};w={period};burst={}", outcome.limit)));
    if let Some(retry) = outcome.retry_after_seconds {
        headers.push(("Retry-After".into(), retry.to_string()));
    }
}

/// `Deprecation` (RFC 9745, `@epoch`) and `Sunset` (RFC 8594, HTTP-date) for keys in rotation grace.
pub fn rotation_headers(rotated_at: DateTime<Utc>, grace_until: DateTime<Utc>, headers: &mut Vec<(String, String)>) {
    headers.push(("Deprecation".into(), format!("@{}", rotated_at.timestamp())));
    headers.push(("Sunset".into(), grace_until.format("%a, %d %b %Y %H:%M:%S GMT").to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_and_safe_description() {
        for kind in ErrorKind::ALL {
            let v = public_view(*kind);
            assert!([400, 401, 403, 429, 500].contains(&v.status), "{kind}");
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
