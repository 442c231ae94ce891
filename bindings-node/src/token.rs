//! Access tokens (issue 15): the token endpoint step (`Engine#beginToken` →
//! `TokenExchange` → the RFC 6749 answer), derived tokens, offline
//! verification, the public JWKS and JWK helpers. Every rule is core's; a token
//! presented to `Engine#begin` / `verify` needs nothing here (core treats a
//! JWS-shaped credential as a token).

use napi::bindgen_prelude::{Uint8Array, Unknown};
use napi::Env;
use napi_derive::napi;

use keyproof::wire::{InspectedTokenView, IssuedTokenView, StepView, VerifiedTokenView};
use keyproof::{ErrorKind, TokenOptions};

use crate::engine::{pairs, Engine};
use crate::verification::StepInfo;
use crate::{bytes, core_error, error_of, instant, load_optional, record_from, to_js, Result};

/// One token request being answered (see `keyproof::TokenExchange`).
#[napi]
pub struct TokenExchange {
    inner: Option<keyproof::TokenExchange>,
}

fn finished() -> crate::Error {
    napi::Error::new(crate::Code::Napi(napi::Status::InvalidArg), "this token exchange is already finished")
}

#[napi]
impl Engine {
    /// Starts answering a client-credentials token request (`body`: the raw form
    /// or JSON text; `random`: ≥ 16 bytes for the token's `jti`).
    #[napi]
    pub fn begin_token(
        &self,
        method: String,
        headers: Vec<String>,
        body: String,
        client_ip: Option<String>,
        now_ms: f64,
        random: Uint8Array,
    ) -> Result<TokenExchange> {
        let now = instant(now_ms)?;
        let inner =
            self.inner.begin_token(&method, &pairs(&headers)?, &body, client_ip.as_deref(), now, bytes(&random));
        Ok(TokenExchange { inner: Some(inner) })
    }

    /// Issues a token for `record`, narrowed by `options` (`TokenOptions` or `null`).
    #[napi]
    pub fn issue_token<'env>(
        &self,
        env: &'env Env,
        record: Unknown<'_>,
        options: Unknown<'_>,
        random: Uint8Array,
        now_ms: f64,
    ) -> Result<Unknown<'env>> {
        let record = record_from(record)?.ok_or_else(|| error_of(ErrorKind::InvalidRecord, "a record is required"))?;
        let options: TokenOptions = load_optional(options)?.unwrap_or_default();
        let t = self.inner.issue_token(&record, &options, bytes(&random), instant(now_ms)?).map_err(core_error)?;
        to_js(env, &IssuedTokenView::from(&t))
    }

    /// Verifies a token offline at `now_ms`: signature, claims, time window.
    #[napi]
    pub fn verify_token<'env>(&self, env: &'env Env, token: String, now_ms: f64) -> Result<Unknown<'env>> {
        let t = self.inner.verify_token(&token, instant(now_ms)?).map_err(core_error)?;
        to_js(env, &VerifiedTokenView::from(&t))
    }

    /// The public JWKS (`{keys: [...]}`: Ed25519 public keys only).
    #[napi]
    pub fn public_jwks<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_js(env, &self.inner.public_jwks())
    }
}

#[napi]
impl TokenExchange {
    /// `{kind: 'lookup_record', value: hash}` or `{kind: 'done'}`.
    #[napi]
    pub fn next_step(&self) -> Result<StepInfo> {
        Ok(StepView::from(self.inner.as_ref().ok_or_else(finished)?.next_step()).into())
    }

    /// Answers the lookup step: a `NativeRecord`, a record object, or `null`.
    #[napi]
    pub fn record(&mut self, record: Unknown<'_>) -> Result<()> {
        let record = record_from(record)?.map(std::sync::Arc::unwrap_or_clone);
        self.inner.as_mut().ok_or_else(finished)?.record(record);
        Ok(())
    }

    /// The answer `{status, headers, body, code, error, detail, key_id, jti}`; ends the exchange.
    #[napi]
    pub fn finish<'env>(&mut self, env: &'env Env) -> Result<Unknown<'env>> {
        let x = self.inner.take().ok_or_else(finished)?;
        to_js(env, &x.finish())
    }
}

/// A private signing JWK: `alg` `EdDSA` from a 32-byte seed, or `HS256` from a
/// secret of at least 32 bytes.
#[napi]
pub fn token_jwk<'env>(env: &'env Env, alg: String, bytes: Uint8Array, kid: String) -> Result<Unknown<'env>> {
    let jwk = match alg.as_str() {
        "EdDSA" => keyproof::Jwk::ed25519(crate::bytes(&bytes), &kid),
        "HS256" => keyproof::Jwk::hs256(crate::bytes(&bytes), &kid),
        _ => return Err(error_of(ErrorKind::InvalidTokenKey, "alg is EdDSA or HS256")),
    };
    to_js(env, &jwk.map_err(core_error)?)
}

/// `{header, claims}` of a token, **not verified**: for debugging only.
#[napi]
pub fn inspect_token<'env>(env: &'env Env, token: String) -> Result<Unknown<'env>> {
    to_js(env, &InspectedTokenView::of(&token).map_err(core_error)?)
}
