//! Why a request is denied and how a denial is answered: [`Deny`] before
//! rendering; each kind's status, headers and problem body rendered once per
//! engine ([`Rendered`]), from scratch only when the denial carries
//! request-specific parts (rate-limit and usage headers, `Retry-After`).

use std::sync::Arc;

use super::Engine;
use crate::decision::{Decision, RateLimitDecision};
use crate::error::{Error, ErrorFamily, ErrorKind};
use crate::headers::Headers;
use crate::policy::Policy;
use crate::ratelimit::Quota;
use crate::record::KeyRecord;
use crate::render::{problem_body, public_view, rate_limit_headers, usage_headers, www_authenticate};

/// Why a request is denied, before rendering.
#[derive(Clone, Debug)]
pub(crate) struct Deny {
    pub(crate) kind: ErrorKind,
    pub(crate) detail: String,
    pub(super) missing_scope: Option<String>,
    /// The limited bucket's decision and the quota it spent from (the key's own, or its plan's).
    pub(super) rate_limit: Option<Box<(RateLimitDecision, Quota)>>,
    /// The spent usage counter's decision and its period in seconds (none: credits).
    pub(super) usage: Option<Box<(RateLimitDecision, Option<u64>)>>,
    /// `Retry-After` of a denial without a rate-limit outcome (the rate-limit store failed).
    pub(super) retry_after: Option<u64>,
    /// The key the request presented, once it was identified (see [`Deny::of`]).
    pub(super) key_id: Option<String>,
}

pub(crate) fn deny(kind: ErrorKind, detail: impl Into<String>) -> Deny {
    let detail = detail.into();
    Deny { kind, detail, missing_scope: None, rate_limit: None, usage: None, retry_after: None, key_id: None }
}

impl Deny {
    /// This denial of the key stored in `record`, named by its id for the host's
    /// logs and counts, when the denial came after the key was identified (its
    /// hash matched, or its token's signed claims named it): every denial but a
    /// mismatch and a record core cannot read.
    pub(crate) fn of(self, record: &KeyRecord) -> Self {
        self.of_key(&record.id)
    }

    /// [`Deny::of`] the key with this record id (a verified token's `key_id` claim).
    pub(crate) fn of_key(self, key_id: &str) -> Self {
        let identified = self.kind != ErrorKind::KeyMismatch && self.kind.family() != ErrorFamily::Config;
        Self { key_id: identified.then(|| key_id.to_string()), ..self }
    }
}

/// The fail-closed answer when the rate-limit store failed: 503 `rate_limit_unavailable`.
pub(crate) fn store_unavailable(retry_after_seconds: u32) -> Deny {
    Deny {
        retry_after: Some(u64::from(retry_after_seconds)),
        ..deny(ErrorKind::RateLimitUnavailable, "the rate-limit store is unavailable")
    }
}

impl From<&Error> for Deny {
    fn from(e: &Error) -> Self {
        deny(e.kind(), e.message())
    }
}

/// A denial's answer, rendered once per engine and shared by every such denial.
#[derive(Clone, Debug)]
pub(crate) struct Rendered {
    pub(crate) public_code: &'static str,
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) body: Arc<str>,
}

impl Rendered {
    /// Renders the denial of `kind` (with its missing scope, no rate limit).
    pub(crate) fn new(policy: &Policy, kind: ErrorKind, missing_scope: Option<&str>) -> Self {
        let d = render(policy, Deny { missing_scope: missing_scope.map(str::to_string), ..deny(kind, String::new()) });
        let headers = Headers::shared(Arc::from(d.headers.into_vec()));
        Self { public_code: d.public_code, status: d.status, headers, body: d.body.unwrap_or_default() }
    }
}

impl Engine {
    pub(crate) fn render_denial(&self, d: Deny) -> Decision {
        // Most denials carry nothing request-specific: their status, headers and
        // body were rendered once when the engine was built.
        if d.rate_limit.is_none() && d.usage.is_none() && d.retry_after.is_none() {
            if let Some(cached) = self.rendered_denial(d.kind, d.missing_scope.as_deref()) {
                return Decision {
                    allowed: false,
                    code: d.kind.code(),
                    public_code: cached.public_code,
                    status: cached.status,
                    headers: cached.headers.clone(),
                    body: Some(Arc::clone(&cached.body)),
                    principal: None,
                    warnings: Vec::new(),
                    missing_scope: d.missing_scope,
                    rate_limit: None,
                    usage: None,
                    detail: d.detail,
                    token: None,
                    kind: Some(d.kind),
                    denied_key_id: d.key_id,
                };
            }
        }
        render(self.policy(), d)
    }
}

/// Renders a denial from scratch (status overrides, challenge, rate-limit headers, body).
fn render(policy: &Policy, d: Deny) -> Decision {
    let mut view = public_view(d.kind);
    if let Some(status) = policy.status_overrides.get(d.kind.code()) {
        // An overridden status challenges only when it is 401 (or 403 for a missing scope, RFC 6750 §3.1).
        view.challenge = *status == 401 || (*status == 403 && d.kind == ErrorKind::InsufficientScope);
        view.status = *status;
    }
    let mut headers = Vec::with_capacity(4);
    if view.challenge {
        let scope = d.missing_scope.as_deref().filter(|_| d.kind == ErrorKind::InsufficientScope);
        headers.push(("WWW-Authenticate".to_string(), www_authenticate(policy, &view, scope)));
    }
    let retry = d.rate_limit.as_ref().and_then(|r| r.0.outcome.retry_after_seconds);
    let retry = retry.or(d.usage.as_ref().and_then(|u| u.0.outcome.retry_after_seconds)).or(d.retry_after);
    if let Some((rl, quota)) = d.rate_limit.as_deref() {
        rate_limit_headers(policy, (&rl.plan, &rl.class), &rl.outcome, Some(quota), &mut headers);
    } else if let Some((usage, window)) = d.usage.as_deref() {
        usage_headers(policy, &usage.outcome, *window, &mut headers);
    } else if let Some(seconds) = d.retry_after {
        headers.push(("Retry-After".to_string(), seconds.to_string()));
    }
    headers.push(("Cache-Control".to_string(), "no-store".to_string()));
    headers.push(("Content-Type".to_string(), "application/problem+json".to_string()));
    Decision {
        allowed: false,
        code: d.kind.code(),
        public_code: view.public_code,
        status: view.status,
        headers: headers.into(),
        body: Some(problem_body(policy, &view, d.missing_scope.as_deref(), retry).into()),
        principal: None,
        warnings: Vec::new(),
        missing_scope: d.missing_scope,
        rate_limit: d.rate_limit.map(|b| b.0),
        usage: d.usage.map(|b| Box::new(b.0)),
        detail: d.detail,
        token: None,
        kind: Some(d.kind),
        denied_key_id: d.key_id,
    }
}
