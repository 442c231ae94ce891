//! Access tokens: an OAuth 2.0 client-credentials grant (RFC 6749 §4.4) that
//! exchanges a key for a short-lived JWT access token (RFC 9068), and offline
//! verification of those tokens as a credential of the engine.
//!
//! Everything is I/O-free like the rest of core: signing keys arrive as JWKs in
//! the engine configuration's `tokens` section, time and random bytes are
//! arguments, and the token endpoint is a step the host drives
//! ([`TokenExchange`]) exactly like a verification.
//!
//! A signed, short-lived token can be verified with no record lookup at all (an
//! edge worker, a service without database access): set `confirm_record` to
//! `false`. With `true` (the default) each use still asks the host for the key's
//! record by key id, so a revoked key's tokens stop working at once.

mod claims;
mod config;
mod engine;
mod exchange;
mod grant;
mod issue;
mod jwk;
mod jwt;
mod response;
mod verify;

pub use claims::{AccessClaims, Audience};
pub use config::{TokenConfig, Tokens, MAX_TOKEN_LIFETIME_SECONDS};
pub(crate) use engine::Gate;
pub use exchange::TokenExchange;
pub use grant::{parse_token_request, TokenRequest, MAX_TOKEN_BODY_BYTES};
pub use issue::{IssuedToken, TokenOptions};
pub use jwk::{Jwk, Keyring, TokenKey, MIN_HMAC_SECRET_BYTES};
pub use jwt::{b64url, decode, looks_like_jws, Compact, Header, TokenAlgorithm, ACCESS_TOKEN_TYP, MAX_TOKEN_BYTES};
pub use response::{oauth_error, TokenResponse};
pub use verify::{AccessToken, TokenUse};

/// Header and claims of a token, decoded **without** verifying anything: for
/// inspection and debugging only, never for a decision.
pub fn inspect(token: &str) -> crate::Result<(Header, serde_json::Value)> {
    let compact = decode(token)?;
    let claims = serde_json::from_slice(&compact.payload)
        .map_err(|_| crate::Error::new(crate::ErrorKind::MalformedToken, "the token's payload is not JSON"))?;
    Ok((compact.header, claims))
}
