//! Deciding a prepared request against its stored record, in the documented order:
//!
//! 1. request shape (method, path, client IP) → 400
//! 2. credential extraction → 401 `missing_credentials` / 400 malformed headers
//! 3. client id required → 401 `missing_client_id`
//! 4. key format: prefix, length, alphabet, checksum (no hashing before this) → 401
//! 5. record lookup by the host → 401 `unknown_key`
//! 6. constant-time hash match (and format) → 401 `key_mismatch`
//! 7. status → 401 `key_revoked` / `key_disabled`
//! 8. expiry → 401 `key_expired`
//! 9. rotation grace → 401 `rotation_grace_ended`
//! 10. environment → 401 `wrong_environment`
//! 11. client-id binding → 401 `client_id_mismatch`
//! 12. IP allowlist → 403 `ip_not_allowed`
//! 13. route known → 403 `route_not_allowed`
//! 14. credential kind → 403 `credential_kind_not_allowed`
//! 15. role → 403 `insufficient_role`
//! 16. scopes → 403 `insufficient_scope`
//! 17. feature → 400 `feature_not_enabled`
//! 18. rate limit → 429 `rate_limited` (only requests that pass everything else spend quota)

use chrono::{DateTime, Duration, Utc};

use crate::decision::{Decision, Principal, RateLimitDecision, Warning};
use crate::engine::{Engine, Prepared, Presented};
use crate::error::{Error, ErrorKind};
use crate::ip::ip_allowed;
use crate::policy::{RouteRateLimit, UnknownRoutes, DEFAULT_CREDENTIAL_KINDS};
use crate::ratelimit::{gcra, Quota, RateLimitState};
use crate::record::{KeyRecord, KeyStatus};
use crate::render::{problem_body, public_view, rate_limit_headers, rotation_headers, www_authenticate};
use crate::scope::missing_scope;
use crate::secret::ct_eq;

struct Deny {
    kind: ErrorKind,
    detail: String,
    missing_scope: Option<String>,
    rate_limit: Option<Box<RateLimitDecision>>,
}

fn deny(kind: ErrorKind, detail: impl Into<String>) -> Deny {
    Deny { kind, detail: detail.into(), missing_scope: None, rate_limit: None }
}

impl From<Error> for Deny {
    fn from(e: Error) -> Self {
        deny(e.kind(), e.message())
    }
}

/// Plan, class, quota and cost that apply to a request and record.
pub(crate) fn quota_for<'a>(
    engine: &'a Engine,
    prepared: &'a Prepared,
    record: &'a KeyRecord,
) -> Option<(String, String, &'a Quota, u32)> {
    let policy = engine.policy();
    let plan = record.plan.as_ref().or(policy.default_plan.as_ref())?;
    let default_rl = RouteRateLimit::default();
    let rl = engine.route_of(prepared).and_then(|r| r.rate_limit.as_ref()).unwrap_or(&default_rl);
    let quota = policy.quota(plan, &rl.class)?;
    Some((plan.clone(), rl.class.clone(), quota, rl.cost))
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl Engine {
    /// Decides a prepared request. `record` is what the host found under one of
    /// [`Prepared::lookup_hashes`] (or `None`); `rate_state` is the state stored
    /// under [`Engine::rate_limit_key`]. Pure: same inputs, same decision.
    pub fn decide(
        &self,
        prepared: &Prepared,
        record: Option<&KeyRecord>,
        now: DateTime<Utc>,
        rate_state: Option<RateLimitState>,
    ) -> Decision {
        let mut warnings = Vec::new();
        let mut headers = Vec::new();
        match self.judge(prepared, record, now, rate_state, &mut warnings, &mut headers) {
            Ok((principal, rate_limit)) => Decision {
                allowed: true,
                code: "ok",
                public_code: "ok",
                status: 200,
                headers,
                body: None,
                principal: Some(principal),
                warnings,
                missing_scope: None,
                rate_limit,
                detail: String::new(),
                kind: None,
            },
            Err(d) => self.render_denial(d),
        }
    }

    fn render_denial(&self, d: Deny) -> Decision {
        let policy = self.policy();
        let view = public_view(d.kind);
        let mut headers = Vec::new();
        if view.challenge {
            let scope = d.missing_scope.as_deref().filter(|_| d.kind == ErrorKind::InsufficientScope);
            headers.push(("WWW-Authenticate".to_string(), www_authenticate(policy, &view, scope)));
        }
        let retry = d.rate_limit.as_ref().and_then(|r| r.outcome.retry_after_seconds);
        if let Some(rl) = &d.rate_limit {
            let quota = policy.quota(&rl.plan, &rl.class);
            let (limit, period) = quota.map_or((0, 0), |q| (q.limit, q.period_seconds));
            rate_limit_headers(&rl.outcome, limit, period, &mut headers);
        }
        headers.push(("Cache-Control".to_string(), "no-store".to_string()));
        headers.push(("Content-Type".to_string(), "application/problem+json".to_string()));
        Decision {
            allowed: false,
            code: d.kind.code(),
            public_code: view.public_code,
            status: view.status,
            headers,
            body: Some(problem_body(policy, &view, d.missing_scope.as_deref(), retry)),
            principal: None,
            warnings: Vec::new(),
            missing_scope: d.missing_scope,
            rate_limit: d.rate_limit.map(|b| *b),
            detail: d.detail,
            kind: Some(d.kind),
        }
    }

    fn judge(
        &self,
        prepared: &Prepared,
        record: Option<&KeyRecord>,
        now: DateTime<Utc>,
        rate_state: Option<RateLimitState>,
        warnings: &mut Vec<Warning>,
        headers: &mut Vec<(String, String)>,
    ) -> Result<(Principal, Option<RateLimitDecision>), Deny> {
        let presented = prepared.outcome.as_ref().map_err(|e| Deny::from(e.clone()))?;
        let record = record.ok_or_else(|| deny(ErrorKind::UnknownKey, "no stored record matches the key"))?;
        self.authenticate(presented, record, now, warnings, headers)?;
        self.authorize(prepared, presented, record)?;
        let rate_limit = match quota_for(self, prepared, record) {
            Some((plan, class, quota, cost)) => {
                let outcome = gcra(rate_state, micros(now), quota, cost);
                let decision = RateLimitDecision { key: format!("{}:{class}", record.id), plan, class, outcome };
                if !outcome.allowed {
                    return Err(Deny {
                        rate_limit: Some(Box::new(decision)),
                        ..deny(ErrorKind::RateLimited, "quota exhausted")
                    });
                }
                rate_limit_headers(&outcome, quota.limit, quota.period_seconds, headers);
                Some(decision)
            }
            None => None,
        };
        Ok((principal(record, self.policy().default_plan.as_ref()), rate_limit))
    }

    /// Steps 6–11: is this the record's key, and is the key live here?
    fn authenticate(
        &self,
        presented: &Presented,
        record: &KeyRecord,
        now: DateTime<Utc>,
        warnings: &mut Vec<Warning>,
        headers: &mut Vec<(String, String)>,
    ) -> Result<(), Deny> {
        let parsed = &presented.parsed;
        let format = self.format_of(parsed)?;
        let check = self.hasher.verify_precomputed(format, parsed, &presented.lookup_hashes, &record.hash)?;
        if !check.matched || record.format != parsed.format_id {
            return Err(deny(ErrorKind::KeyMismatch, "the key does not match the record's hash"));
        }
        match record.status {
            KeyStatus::Revoked => return Err(deny(ErrorKind::KeyRevoked, format!("key {} is revoked", record.id))),
            KeyStatus::Disabled => return Err(deny(ErrorKind::KeyDisabled, format!("key {} is disabled", record.id))),
            KeyStatus::Active => {}
        }
        if let Some(expires_at) = record.expires_at {
            if now >= expires_at {
                return Err(deny(ErrorKind::KeyExpired, format!("key {} expired", record.id)));
            }
            let warn_days = i64::from(self.policy().expiry_warning_days);
            if expires_at - now <= Duration::days(warn_days) {
                warnings.push(Warning::ExpiresSoon { expires_at });
            }
        }
        if let Some(rotation) = &record.rotation {
            if now >= rotation.grace_until {
                return Err(deny(ErrorKind::RotationGraceEnded, format!("key {} was rotated", record.id)));
            }
            warnings.push(Warning::RotationGrace {
                until: rotation.grace_until,
                replaced_by: rotation.replaced_by.clone(),
            });
            rotation_headers(rotation.rotated_at.unwrap_or(record.updated_at), rotation.grace_until, headers);
        }
        let environments = &self.policy().environments;
        if !environments.is_empty() && !environments.contains(&parsed.environment) {
            return Err(deny(
                ErrorKind::WrongEnvironment,
                format!("{} keys are not accepted here", parsed.environment),
            ));
        }
        if let Some(bound) = &record.client_id {
            let sent = presented.client_id.as_deref().unwrap_or_default();
            if !ct_eq(bound.as_bytes(), sent.as_bytes()) {
                return Err(deny(ErrorKind::ClientIdMismatch, "the client id does not belong to the key"));
            }
        }
        if check.should_rehash {
            warnings.push(Warning::ShouldRehash);
        }
        Ok(())
    }

    /// Steps 12–17: may this key do this?
    fn authorize(&self, prepared: &Prepared, presented: &Presented, record: &KeyRecord) -> Result<(), Deny> {
        let policy = self.policy();
        if !ip_allowed(&record.allowed_ips, presented.client_ip) {
            return Err(deny(ErrorKind::IpNotAllowed, "the client IP is not in the key's allowlist"));
        }
        let route = self.route_of(prepared);
        if route.is_none() && policy.unknown_routes == UnknownRoutes::Deny {
            return Err(deny(ErrorKind::RouteNotAllowed, "no route rule matches"));
        }
        let kinds = route.map(|r| r.credential_kinds.as_slice()).filter(|k| !k.is_empty());
        let kinds = kinds.unwrap_or(DEFAULT_CREDENTIAL_KINDS);
        if !kinds.contains(&presented.parsed.kind) {
            return Err(deny(
                ErrorKind::CredentialKindNotAllowed,
                format!("{} credentials may not call this route", presented.parsed.kind.as_str()),
            ));
        }
        let Some(route) = route else { return Ok(()) };
        if let Some(required) = &route.role {
            let held = record.role.as_deref().unwrap_or_default();
            let ok = match (policy.role_rank(required), policy.role_rank(held)) {
                _ if policy.roles.is_empty() => held == required,
                (Some(need), Some(have)) => have >= need,
                _ => false,
            };
            if !ok {
                return Err(deny(ErrorKind::InsufficientRole, format!("the route needs role {required}")));
            }
        }
        if let Some(missing) = missing_scope(&record.scopes, &route.all_of, &route.any_of) {
            return Err(Deny {
                missing_scope: Some(missing.clone()),
                ..deny(ErrorKind::InsufficientScope, format!("missing scope {missing}"))
            });
        }
        if let Some(feature) = &route.feature {
            if !record.features.contains(feature) {
                return Err(deny(ErrorKind::FeatureNotEnabled, format!("feature {feature} is not enabled")));
            }
        }
        Ok(())
    }
}

fn principal(record: &KeyRecord, default_plan: Option<&String>) -> Principal {
    Principal {
        key_id: record.id.clone(),
        name: record.name.clone(),
        owner: record.owner.clone(),
        environment: record.environment.clone(),
        kind: record.kind,
        format: record.format.clone(),
        scopes: record.scopes.clone(),
        role: record.role.clone(),
        plan: record.plan.clone().or_else(|| default_plan.cloned()),
        client_id: record.client_id.clone(),
        features: record.features.clone(),
        metadata: record.metadata.clone(),
    }
}
