//! Access tokens as a credential of the engine: what the verification step does
//! when the credential is a token instead of a key. Under `confirm_record` the
//! step asks the host for the key's record by key id and narrows it to the
//! token; otherwise the token alone stands in for the record (zero lookups).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::issue::check_usable;
use super::verify::AccessToken;
use crate::engine::{deny, Deny, Engine, Passed, Prepared, Presented};
use crate::error::{Error, ErrorKind, Result};
use crate::ip::ip_allowed;
use crate::origin::origin_allowed;
use crate::record::{KeyRecord, KeyStatus, Owner};
use crate::scope::grants;
use crate::secret::ct_eq;

/// How the step starts for a token credential.
pub(crate) enum Gate {
    /// Denied before any lookup (expired, not yet valid, no token keys).
    Denied(Deny),
    /// Ask the host for the record under the key id (`confirm_record`).
    Lookup,
    /// Zero lookups: decide on this record made from the token's claims.
    Offline(Arc<KeyRecord>),
}

impl Engine {
    /// Verifies an access token offline at `now` (signature, claims, time window);
    /// route and policy checks happen when a request is decided.
    pub fn verify_token(&self, token: &str, now: DateTime<Utc>) -> Result<AccessToken> {
        self.tokens()
            .ok_or_else(|| Error::new(ErrorKind::UnknownTokenKey, "the engine has no tokens section"))?
            .verify(token, now)
    }

    /// The public JWKS of the engine's token keys (`{"keys": []}` without tokens).
    pub fn public_jwks(&self) -> serde_json::Value {
        self.tokens().map_or_else(|| serde_json::json!({"keys": []}), |t| t.keyring().public_jwks())
    }

    /// `None` for a key credential; for a token, how its step starts.
    pub(crate) fn token_gate(&self, prepared: &Prepared, now: DateTime<Utc>) -> Option<Gate> {
        let presented = prepared.outcome.as_ref().ok()?;
        let token = presented.token()?;
        let Some(tokens) = self.tokens() else {
            return Some(Gate::Denied(deny(ErrorKind::UnknownTokenKey, "the engine has no tokens section")));
        };
        if let Err(e) = tokens.check_time(token, now) {
            // Its signature verified, so its claims name the key: expired and revoked tokens too.
            return Some(Gate::Denied(Deny::from(&e).of_key(&token.claims.key_id)));
        }
        if tokens.config().confirm_record {
            return Some(Gate::Lookup);
        }
        Some(Gate::Offline(Arc::new(offline_record(token, now))))
    }

    /// The record a token acts with: under `confirm_record`, the stored record
    /// narrowed to the token (scopes, features, kind), never widened. A borrowed
    /// record is copied only when a token narrows it.
    pub(crate) fn narrow_for_token<'r>(&self, prepared: &Prepared, record: Cow<'r, KeyRecord>) -> Cow<'r, KeyRecord> {
        match self.narrowing_token(prepared) {
            None => record,
            Some(token) => {
                let mut record = record.into_owned();
                narrow(token, &mut record);
                Cow::Owned(record)
            }
        }
    }

    /// [`Engine::narrow_for_token`] of a shared record: copied only when a token
    /// narrows it and the host still holds it too.
    pub(crate) fn narrow_shared_for_token(&self, prepared: &Prepared, record: &mut Arc<KeyRecord>) {
        if let Some(token) = self.narrowing_token(prepared) {
            narrow(token, Arc::make_mut(record));
        }
    }

    /// The token whose grants narrow its stored record's (under `confirm_record`).
    fn narrowing_token<'p>(&self, prepared: &'p Prepared) -> Option<&'p AccessToken> {
        let token = prepared.outcome.as_ref().ok().and_then(|p| p.token())?;
        self.tokens().is_some_and(|t| t.config().confirm_record).then_some(token)
    }

    /// Authentication of a token credential against its (stored or offline) record.
    pub(crate) fn authenticate_token(
        &self,
        presented: &Presented,
        token: &AccessToken,
        record: &KeyRecord,
        now: DateTime<Utc>,
        passed: &mut Passed,
    ) -> std::result::Result<(), Deny> {
        let tokens =
            self.tokens().ok_or_else(|| deny(ErrorKind::UnknownTokenKey, "the engine has no tokens section"))?;
        tokens.check_time(token, now).map_err(|e| Deny::from(&e))?;
        let confirm = tokens.config().confirm_record;
        if confirm {
            if record.id != token.claims.key_id {
                return Err(deny(ErrorKind::KeyMismatch, "the record is not the token's key"));
            }
            check_usable(record, now).map_err(|e| Deny::from(&e))?;
        }
        let environments = &self.policy().environments;
        let environment = &token.claims.environment;
        if record.environment != *environment || (!environments.is_empty() && !environments.contains(environment)) {
            return Err(deny(ErrorKind::WrongEnvironment, format!("{environment} tokens are not accepted here")));
        }
        if let Some(sent) = &presented.client_id {
            let bound = token.claims.azp.as_deref().unwrap_or(&token.claims.client_id);
            if !ct_eq(bound.as_bytes(), sent.as_bytes()) {
                return Err(deny(ErrorKind::ClientIdMismatch, "the client id does not belong to the token"));
            }
        }
        passed.token = Some(Box::new(token.usage(confirm)));
        Ok(())
    }

    /// The token's own restrictions: networks, origins and routes.
    pub(crate) fn authorize_token(
        &self,
        prepared: &Prepared,
        presented: &Presented,
        token: &AccessToken,
    ) -> std::result::Result<(), Deny> {
        if !ip_allowed(&token.cidrs, presented.client_ip) {
            return Err(deny(ErrorKind::IpNotAllowed, "the client IP is not in the token's networks"));
        }
        if !origin_allowed(&token.origins, presented.origin.as_deref()) {
            return Err(deny(ErrorKind::OriginNotAllowed, "the request's origin is not in the token's origins"));
        }
        if let Some(routes) = &token.claims.routes {
            let path = self.route_of(prepared).map(|r| r.path.as_str());
            if !path.is_some_and(|p| routes.iter().any(|r| r == p)) {
                return Err(deny(ErrorKind::TokenRouteNotAllowed, "the token is restricted to other routes"));
            }
        }
        Ok(())
    }
}

/// The record a token stands in for when nothing is looked up: identity,
/// grants and restrictions from the claims; name, owner, format and metadata
/// are unknown (empty) without a lookup. `last_used_at` is `now`, so a
/// zero-lookup decision asks the host for no last-used write either.
fn offline_record(token: &AccessToken, now: DateTime<Utc>) -> KeyRecord {
    let c = &token.claims;
    let issued = DateTime::from_timestamp(c.iat, 0).unwrap_or_default();
    KeyRecord {
        id: c.key_id.clone(),
        name: String::new(),
        hash: String::new(),
        fingerprint: String::new(),
        preview: String::new(),
        format: String::new(),
        environment: c.environment.clone(),
        kind: c.kind,
        owner: Owner::default(),
        client_id: c.azp.clone(),
        scopes: token.scopes.clone(),
        role: c.role.clone(),
        status: KeyStatus::Active,
        created_at: issued,
        updated_at: issued,
        expires_at: None,
        revoked_at: None,
        rotation: None,
        allowed_ips: token.cidrs.clone(),
        allowed_origins: token.origins.clone(),
        plan: c.plan.clone(),
        // The claims carry the plan, not the key's own quotas: a zero-lookup token spends the plan's.
        rate_limits: Default::default(),
        // Nor its usage limit: counting usage needs the key's record (`confirm_record`).
        usage_limit: None,
        features: c.features.clone(),
        metadata: Default::default(),
        last_used_at: Some(now),
        request_count: 0,
    }
}

/// What `record` grants, narrowed to what `token` carries.
fn narrow(token: &AccessToken, record: &mut KeyRecord) {
    record.scopes = token.scopes.iter().filter(|s| grants(&record.scopes, s)).cloned().collect();
    record.features.retain(|f| token.claims.features.contains(f));
    record.kind = token.claims.kind;
}
