//! Issuing access tokens from a key's record: the token endpoint's grant and the
//! backend's derived, restricted tokens (seed 004's SDK token). A token never
//! gains anything its key lacks: scopes, routes, networks, origins and kind only narrow,
//! and it never outlives its key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::claims::{AccessClaims, Audience};
use super::jwt::{b64url, signing_input, Header, ACCESS_TOKEN_TYP};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::format::CredentialKind;
use crate::ip::parse_allowlist_entry;
use crate::origin::OriginPattern;
use crate::record::KeyRecord;
use crate::scope::{grants, validate_scope};
use crate::secret::Secret;

/// Restrictions of a token, all optional: what is not given is the key's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenOptions {
    /// Scopes, each granted by the key (`admin` and `resource:*` grant narrower ones).
    pub scopes: Option<Vec<String>>,
    /// Paths of policy route rules the token may call (e.g. `/v1/api/sdk/session`).
    pub routes: Option<Vec<String>>,
    /// Networks the token may be used from, inside the key's allowlist.
    pub cidrs: Vec<String>,
    /// Websites a browser may use the token from, inside the key's origin
    /// allowlist (seed 004's SDK token, pinned to the customer's site).
    pub origins: Vec<String>,
    /// Credential kind: the key's, or a client-side kind (`sdk_token`,
    /// `publishable`) for a token a secret or restricted key hands to a browser.
    pub kind: Option<CredentialKind>,
    /// Lifetime in seconds, at most the configured `lifetime_seconds`.
    pub lifetime_seconds: Option<u32>,
}

impl crate::load::Load for TokenOptions {
    const KIND: ErrorKind = ErrorKind::InvalidTokenRequest;
}

impl TokenOptions {
    /// Loads options from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }
}

/// A signed token. `Debug` hides the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The compact JWS: a bearer credential, shown to its holder only.
    pub access_token: Secret,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The claims it carries.
    pub claims: AccessClaims,
    /// `kid` of the key that signed it.
    pub kid: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("claims", &self.claims)
            .field("kid", &self.kid)
            .finish()
    }
}

fn not_granted(msg: String) -> Error {
    Error::new(ErrorKind::ScopeNotGranted, msg)
}

/// The record is usable at `now`, as verification would see it.
pub(crate) fn check_usable(record: &KeyRecord, now: DateTime<Utc>) -> Result<()> {
    let (kind, what) = match record.effective_status(now) {
        "revoked" => (ErrorKind::KeyRevoked, "revoked"),
        "disabled" => (ErrorKind::KeyDisabled, "disabled"),
        "expired" => (ErrorKind::KeyExpired, "expired"),
        "rotated" => (ErrorKind::RotationGraceEnded, "rotated"),
        _ => return Ok(()),
    };
    Err(Error::new(kind, format!("key {} is {what}", record.id)))
}

fn narrowed_kind(key: CredentialKind, wanted: Option<CredentialKind>) -> Result<CredentialKind> {
    use CredentialKind as K;
    match wanted {
        None => Ok(key),
        Some(w) if w == key => Ok(w),
        Some(w @ (K::SdkToken | K::Publishable)) if matches!(key, K::Secret | K::Restricted) => Ok(w),
        Some(w) => Err(not_granted(format!("a {} key cannot issue {} tokens", key.as_str(), w.as_str()))),
    }
}

/// The token's origins: those asked for, each inside the key's allowlist, or the key's own.
fn narrowed_origins(own: &[OriginPattern], wanted: &[String]) -> Result<Vec<String>> {
    let wanted = crate::origin::parse_all(wanted)?;
    let wanted = if wanted.is_empty() { own } else { wanted.as_slice() };
    match wanted.iter().find(|w| !own.is_empty() && !own.iter().any(|o| o.covers(w))) {
        Some(outside) => Err(not_granted(format!("origin {outside} is outside the key's origin allowlist"))),
        None => Ok(wanted.iter().map(ToString::to_string).collect()),
    }
}

impl Engine {
    /// Issues an access token for `record` at `now`, restricted by `options`;
    /// `random` (≥ 16 bytes) makes the `jti`. The host has authenticated the
    /// key (the token endpoint does it through [`Engine::begin_token`]).
    pub fn issue_token(
        &self,
        record: &KeyRecord,
        options: &TokenOptions,
        random: &[u8],
        now: DateTime<Utc>,
    ) -> Result<IssuedToken> {
        let tokens =
            self.tokens().ok_or_else(|| Error::new(ErrorKind::InvalidTokenKey, "the engine has no tokens section"))?;
        let config = tokens.config();
        check_usable(record, now)?;
        let environments = &self.policy().environments;
        if !environments.is_empty() && !environments.contains(&record.environment) {
            return Err(Error::new(
                ErrorKind::WrongEnvironment,
                format!("{} keys are not accepted here", record.environment),
            ));
        }
        let scopes = match &options.scopes {
            None => record.scopes.clone(),
            Some(wanted) => {
                for s in wanted {
                    validate_scope(s).map_err(|e| not_granted(e.message().to_string()))?;
                    if !grants(&record.scopes, s) {
                        return Err(not_granted(format!("the key does not grant scope {s}")));
                    }
                }
                wanted.clone()
            }
        };
        if let Some(routes) = &options.routes {
            if routes.is_empty() {
                return Err(not_granted("a route restriction names at least one route".into()));
            }
            if let Some(unknown) = routes.iter().find(|r| !self.policy().routes.iter().any(|rule| &rule.path == *r)) {
                return Err(not_granted(format!("route {unknown} is not in the policy's route table")));
            }
        }
        let mut cidrs = Vec::with_capacity(options.cidrs.len());
        for text in &options.cidrs {
            let net = parse_allowlist_entry(text)?;
            if !record.allowed_ips.is_empty() && !record.allowed_ips.iter().any(|own| own.contains(&net)) {
                return Err(not_granted(format!("network {net} is outside the key's allowlist")));
            }
            cidrs.push(net.to_string());
        }
        if cidrs.is_empty() {
            cidrs = record.allowed_ips.iter().map(ToString::to_string).collect();
        }
        let origins = narrowed_origins(&record.allowed_origins, &options.origins)?;
        let kind = narrowed_kind(record.kind, options.kind)?;
        let lifetime = match options.lifetime_seconds {
            Some(l) if l == 0 || l > config.lifetime_seconds => {
                return Err(not_granted(format!("lifetimes are 1-{} seconds here", config.lifetime_seconds)))
            }
            Some(l) => l,
            None => config.lifetime_seconds,
        };
        let iat = now.timestamp();
        let mut exp = iat.saturating_add(i64::from(lifetime));
        // Never outlive the key: its expiry or the end of its rotation grace.
        for end in [record.expires_at, record.rotation.as_ref().map(|r| r.grace_until)].into_iter().flatten() {
            exp = exp.min(end.timestamp());
        }
        let jti = random
            .get(..16)
            .map(b64url)
            .ok_or_else(|| Error::new(ErrorKind::InsufficientRandomness, "a token id needs 16 random bytes"))?;
        let client_id = record.client_id.clone().unwrap_or_else(|| record.id.clone());
        let claims = AccessClaims {
            iss: config.issuer.clone(),
            sub: record.client_id.as_ref().map_or_else(|| record.id.clone(), |c| format!("{c}@clients")),
            aud: Audience::One(config.audience.clone()),
            exp,
            iat,
            nbf: Some(iat),
            jti,
            client_id,
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            gty: Some("client-credentials".into()),
            azp: record.client_id.clone(),
            key_id: record.id.clone(),
            environment: record.environment.clone(),
            kind,
            role: record.role.clone(),
            plan: record.plan.clone(),
            features: record.features.clone(),
            routes: options.routes.clone(),
            cidrs,
            origins,
        };
        let key = tokens.keyring().signer(config.signing_kid.as_deref())?;
        let header = Header {
            alg: key.algorithm().as_str().into(),
            typ: Some(ACCESS_TOKEN_TYP.into()),
            kid: Some(key.kid().into()),
            crit: None,
        };
        let mut token = signing_input(&header, &claims)?;
        let signature = key.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64url(&signature));
        Ok(IssuedToken {
            access_token: Secret::new(token),
            expires_in: exp.saturating_sub(iat),
            claims,
            kid: key.kid().to_string(),
        })
    }
}
