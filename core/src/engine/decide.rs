//! Judging a prepared request against its stored record, in the documented order:
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
//! 13. origin allowlist → 403 `origin_not_allowed`
//! 14. route known → 403 `route_not_allowed`
//! 15. credential kind → 403 `credential_kind_not_allowed`
//! 16. role → 403 `insufficient_role`
//! 17. scopes → 403 `insufficient_scope`
//! 18. feature → 400 `feature_not_enabled`
//! 19. rate limit → 429 `rate_limited` (only requests that pass everything else spend quota)
//! 20. usage limit → 429 `usage_exceeded` (only requests the rate limit let through spend it)
//!
//! Steps 6–18 ([`Engine::check`]) need only the record; steps 19 and 20 need
//! stored counters, so they are separate and the host fetches state only for
//! requests that passed everything else.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::bucket::{usage_decision, RateBucket};
use super::deny::{deny, Deny};
use super::request::{Prepared, Presented};
use super::Engine;
use crate::decision::{Decision, Principal, Warning};
use crate::error::ErrorKind;
use crate::ip::ip_allowed;
use crate::origin::origin_allowed;
use crate::policy::{UnknownRoutes, DEFAULT_CREDENTIAL_KINDS};
use crate::ratelimit::{RateLimitOutcome, RateLimitState, UsageMeter};
use crate::record::{KeyRecord, KeyStatus};
use crate::render::{rate_limit_headers, rotation_headers, usage_headers};
use crate::scope::missing_scope;
use crate::secret::ct_eq;

/// A record that passed steps 6–18: what the allowed decision will carry.
#[derive(Clone, Debug, Default)]
pub(crate) struct Passed {
    pub(crate) warnings: Vec<Warning>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) should_rehash: bool,
    /// The access token, when the credential is one (boxed: most credentials are keys).
    pub(crate) token: Option<Box<crate::token::TokenUse>>,
}

impl Engine {
    /// Decides a prepared request in one call. `record` is what the host found
    /// under one of [`Prepared::lookup_hashes`] (or `None`); `rate_state` is the
    /// state stored under [`Engine::rate_limit_key`]. Pure: same inputs, same
    /// decision. It reads no usage counter, so a key's usage limit is not
    /// applied: hosts with I/O drive a [`super::Verification`] instead, which does.
    pub fn decide(
        &self,
        prepared: &Prepared,
        record: Option<&KeyRecord>,
        now: DateTime<Utc>,
        rate_state: Option<RateLimitState>,
    ) -> Decision {
        // An access token is judged on its key's record narrowed to it, or on its
        // claims alone when no record is confirmed.
        let record = match (self.token_gate(prepared, now), record) {
            (Some(crate::token::Gate::Denied(d)), _) => return self.render_denial(d),
            (Some(crate::token::Gate::Offline(own)), _) => Cow::Owned(Arc::unwrap_or_clone(own)),
            (_, Some(record)) => self.narrow_for_token(prepared, Cow::Borrowed(record)),
            (_, None) => return self.render_denial(self.no_record(prepared)),
        };
        match self.check(prepared, &record, now) {
            Err(d) => self.render_denial(d),
            Ok(passed) => {
                let rate = self.rate_bucket(prepared, &record).map(|mut b| {
                    let outcome = b.spend(rate_state, now);
                    (b, outcome)
                });
                // The principal shares the record: the one copy of a borrowed record.
                let record = Arc::new(record.into_owned());
                self.conclude(passed, record, rate.as_ref().map(|(b, o)| (b, o)), None)
            }
        }
    }

    /// The denial for a request with no record: its early error, or `unknown_key`.
    pub(crate) fn no_record(&self, prepared: &Prepared) -> Deny {
        match &prepared.outcome {
            Err(e) => Deny::from(e),
            Ok(_) => deny(ErrorKind::UnknownKey, "no stored record matches the key"),
        }
    }

    /// Steps 6–18 for a record the host found.
    pub(crate) fn check(&self, prepared: &Prepared, record: &KeyRecord, now: DateTime<Utc>) -> Result<Passed, Deny> {
        let presented = prepared.outcome.as_ref().map_err(Deny::from)?;
        let mut passed = Passed::default();
        let authenticated = match presented.token() {
            Some(token) => self.authenticate_token(presented, token, record, now, &mut passed),
            None => self.authenticate(presented, record, now, &mut passed),
        };
        authenticated.and_then(|()| self.authorize(prepared, presented, record)).map_err(|d| d.of(record))?;
        Ok(passed)
    }

    /// The final decision for a checked record, with the outcomes of its rate-limit
    /// bucket (a GCRA step) and of its usage counter, when they apply.
    pub(crate) fn conclude(
        &self,
        mut passed: Passed,
        record: Arc<KeyRecord>,
        rate: Option<(&RateBucket, &RateLimitOutcome)>,
        usage: Option<(&UsageMeter, &RateLimitOutcome)>,
    ) -> Decision {
        let rate_limit = match rate {
            Some((bucket, outcome)) if !outcome.allowed => {
                let detail = if bucket.corrupt_state {
                    "quota exhausted (the stored rate-limit state lay beyond the bucket and was clamped)"
                } else {
                    "quota exhausted"
                };
                return self.render_denial(
                    Deny {
                        rate_limit: Some(Box::new((bucket.decision(*outcome), bucket.quota))),
                        ..deny(ErrorKind::RateLimited, detail)
                    }
                    .of(&record),
                );
            }
            Some((bucket, outcome)) => {
                let names = (bucket.plan.as_str(), bucket.class.as_str());
                rate_limit_headers(self.policy(), names, outcome, Some(&bucket.quota), &mut passed.headers);
                Some(bucket.decision(*outcome))
            }
            None => None,
        };
        let usage = match usage {
            Some((meter, outcome)) if !outcome.allowed => {
                let detail = if meter.reset_seconds.is_some() {
                    "usage limit spent for this period"
                } else {
                    "usage limit spent"
                };
                return self.render_denial(
                    Deny {
                        usage: Some(Box::new((usage_decision(meter, *outcome), meter.window_seconds))),
                        ..deny(ErrorKind::UsageExceeded, detail)
                    }
                    .of(&record),
                );
            }
            Some((meter, outcome)) => {
                usage_headers(self.policy(), outcome, meter.window_seconds, &mut passed.headers);
                Some(Box::new(usage_decision(meter, *outcome)))
            }
            None => None,
        };
        Decision {
            allowed: true,
            code: "ok",
            public_code: "ok",
            status: 200,
            headers: passed.headers.into(),
            body: None,
            principal: Some(Principal::new(record, self.policy().default_plan.as_ref())),
            warnings: passed.warnings,
            missing_scope: None,
            rate_limit,
            usage,
            detail: String::new(),
            token: passed.token.map(|t| *t),
            kind: None,
            denied_key_id: None,
        }
    }

    pub(crate) fn authenticate(
        &self,
        presented: &Presented,
        record: &KeyRecord,
        now: DateTime<Utc>,
        passed: &mut Passed,
    ) -> Result<(), Deny> {
        let Some(parsed) = presented.parsed() else {
            return Err(deny(ErrorKind::KeyMismatch, "the credential is not a key"));
        };
        let format = parsed.format();
        let check = self
            .hasher()
            .verify_precomputed(format, parsed, &presented.lookup_hashes, &record.hash)
            .map_err(|e| Deny::from(&e))?;
        if !check.matched || record.format != parsed.format_id() {
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
            if expires_at.signed_duration_since(now) <= Duration::days(warn_days) {
                passed.warnings.push(Warning::ExpiresSoon { expires_at });
            }
        }
        if let Some(rotation) = &record.rotation {
            if now >= rotation.grace_until {
                return Err(deny(ErrorKind::RotationGraceEnded, format!("key {} was rotated", record.id)));
            }
            passed.warnings.push(Warning::RotationGrace {
                until: rotation.grace_until,
                replaced_by: rotation.replaced_by.clone(),
            });
            rotation_headers(
                rotation.rotated_at.unwrap_or(record.updated_at),
                rotation.grace_until,
                &mut passed.headers,
            );
        }
        let environments = &self.policy().environments;
        if !environments.is_empty() && !environments.iter().any(|e| e == parsed.environment()) {
            return Err(deny(
                ErrorKind::WrongEnvironment,
                format!("{} keys are not accepted here", parsed.environment()),
            ));
        }
        if let Some(bound) = &record.client_id {
            let sent = presented.client_id.as_deref().unwrap_or_default();
            if !ct_eq(bound.as_bytes(), sent.as_bytes()) {
                return Err(deny(ErrorKind::ClientIdMismatch, "the client id does not belong to the key"));
            }
        }
        if check.should_rehash {
            passed.should_rehash = true;
            passed.warnings.push(Warning::ShouldRehash);
        }
        Ok(())
    }

    /// Steps 12–18: may this key do this?
    fn authorize(&self, prepared: &Prepared, presented: &Presented, record: &KeyRecord) -> Result<(), Deny> {
        let policy = self.policy();
        if let Some(token) = presented.token() {
            self.authorize_token(prepared, presented, token)?;
        }
        if !ip_allowed(&record.allowed_ips, presented.client_ip) {
            return Err(deny(ErrorKind::IpNotAllowed, "the client IP is not in the key's allowlist"));
        }
        if !origin_allowed(&record.allowed_origins, presented.origin.as_deref()) {
            return Err(deny(ErrorKind::OriginNotAllowed, "the request's origin is not in the key's allowlist"));
        }
        let route = self.route_of(prepared);
        if route.is_none() && policy.unknown_routes == UnknownRoutes::Deny {
            return Err(deny(ErrorKind::RouteNotAllowed, "no route rule matches"));
        }
        let kinds = route.map(|r| r.credential_kinds.as_slice()).filter(|k| !k.is_empty());
        let kinds = kinds.unwrap_or(DEFAULT_CREDENTIAL_KINDS);
        let kind = presented.kind();
        if !kinds.contains(&kind) {
            return Err(deny(
                ErrorKind::CredentialKindNotAllowed,
                format!("{} credentials may not call this route", kind.as_str()),
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
        let missing = match &prepared.filled {
            Some(filled) => filled.missing(&record.scopes),
            None => missing_scope(&record.scopes, &route.all_of, &route.any_of),
        };
        if let Some(missing) = missing {
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
