//! Offline verification of access tokens: signature under an algorithm
//! allowlist, `typ`, `kid`, issuer, audience and claims need no clock; `exp`,
//! `nbf` and `iat` are checked at the decision's instant with the leeway.

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::Serialize;

use super::claims::AccessClaims;
use super::config::Tokens;
use super::jwt::{decode, TokenAlgorithm, ACCESS_TOKEN_TYP};
use crate::error::{Error, ErrorKind, Result};
use crate::ip::parse_allowlist_entry;
use crate::origin::OriginPattern;
use crate::scope::validate_scope;

/// A token whose signature and claims checked out (its time window is checked
/// when a request is decided). `Debug` shows claims, never the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    /// The claims.
    pub claims: AccessClaims,
    /// `kid` of the key that signed it.
    pub kid: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Networks it may be used from (empty: anywhere).
    pub cidrs: Vec<IpNet>,
    /// Websites a browser may use it from (empty: any, and none).
    pub origins: Vec<OriginPattern>,
}

/// What an allowed decision says about the token it accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenUse {
    /// The token's `jti` (log it; revoke-lists key on it).
    pub jti: String,
    /// `kid` of the signing key.
    pub kid: String,
    /// When the token expires.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub expires_at: DateTime<Utc>,
    /// `true`: the key's record was looked up and checked (revocation is
    /// immediate); `false`: accepted with zero lookups, on the token alone.
    pub record_confirmed: bool,
}

fn fail(kind: ErrorKind, msg: &str) -> Error {
    Error::fixed(kind, msg.to_string())
}

impl Tokens {
    /// Everything that needs no clock: shape, algorithm allowlist, `typ`, `kid`,
    /// signature, issuer, audience and claims.
    pub fn verify_signed(&self, token: &str) -> Result<AccessToken> {
        let compact = decode(token)?;
        let header = &compact.header;
        let alg = TokenAlgorithm::from_name(&header.alg)
            .filter(|a| self.config().algorithms.contains(a))
            .ok_or_else(|| fail(ErrorKind::TokenAlgorithmNotAllowed, "the token's alg is not accepted here"))?;
        let typ = header.typ.as_deref().unwrap_or_default();
        if !typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYP) && !typ.eq_ignore_ascii_case("application/at+jwt") {
            return Err(fail(ErrorKind::MalformedToken, "the token's typ is not at+jwt (RFC 9068)"));
        }
        let kid = header.kid.as_deref().unwrap_or_default();
        let key =
            self.keyring().get(kid).ok_or_else(|| fail(ErrorKind::UnknownTokenKey, "no token key has this kid"))?;
        if key.algorithm() != alg {
            return Err(fail(ErrorKind::TokenAlgorithmNotAllowed, "the token's alg does not fit its key"));
        }
        if !key.verify(compact.signing_input.as_bytes(), &compact.signature) {
            return Err(fail(ErrorKind::BadTokenSignature, "the token's signature does not verify"));
        }
        let claims: AccessClaims = serde_json::from_slice(&compact.payload).map_err(|_| {
            fail(ErrorKind::MalformedToken, "the token's claims are not those of a keyproof access token")
        })?;
        if claims.iss != self.config().issuer {
            return Err(fail(ErrorKind::WrongTokenIssuer, "the token comes from another issuer"));
        }
        if !claims.aud.contains(&self.config().audience) {
            return Err(fail(ErrorKind::WrongTokenAudience, "the token is meant for another audience"));
        }
        crate::ids::validate_id(&claims.key_id)
            .map_err(|_| fail(ErrorKind::MalformedToken, "the token's key_id is not a record id"))?;
        let scopes = claims.scopes();
        if scopes.iter().any(|s| validate_scope(s).is_err()) {
            return Err(fail(ErrorKind::MalformedToken, "the token's scope claim is malformed"));
        }
        let cidrs = claims
            .cidrs
            .iter()
            .map(|c| parse_allowlist_entry(c))
            .collect::<Result<Vec<_>>>()
            .map_err(|_| fail(ErrorKind::MalformedToken, "the token's cidrs claim is malformed"))?;
        let origins = crate::origin::parse_all(&claims.origins)
            .map_err(|_| fail(ErrorKind::MalformedToken, "the token's origins claim is malformed"))?;
        Ok(AccessToken { claims, kid: kid.to_string(), scopes, cidrs, origins })
    }

    /// The time window at `now`, with the configured leeway, then revocation.
    pub fn check_time(&self, token: &AccessToken, now: DateTime<Utc>) -> Result<()> {
        let now = now.timestamp();
        let leeway = i64::from(self.config().leeway_seconds);
        if now >= token.claims.exp.saturating_add(leeway) {
            return Err(fail(ErrorKind::TokenExpired, "the token has expired"));
        }
        let start = token.claims.nbf.unwrap_or(token.claims.iat).max(token.claims.iat);
        if start > now.saturating_add(leeway) {
            return Err(fail(ErrorKind::TokenNotYetValid, "the token is not valid yet"));
        }
        if self.is_revoked(&token.claims.jti, &token.claims.key_id, token.claims.iat) {
            return Err(fail(
                ErrorKind::TokenRevoked,
                "the token was revoked (tokens.revoked_before, revoked_before_by_key or revoked_jtis)",
            ));
        }
        Ok(())
    }

    /// Full offline verification at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessToken> {
        let verified = self.verify_signed(token)?;
        self.check_time(&verified, now)?;
        Ok(verified)
    }
}

impl AccessToken {
    /// What a decision reports about this token.
    pub fn usage(&self, record_confirmed: bool) -> TokenUse {
        TokenUse {
            jti: self.claims.jti.clone(),
            kid: self.kid.clone(),
            expires_at: DateTime::from_timestamp(self.claims.exp, 0).unwrap_or_default(),
            record_confirmed,
        }
    }
}
