//! Access tokens (issue 15): the token endpoint step (`Engine#beginToken` →
//! `TokenExchange` → the RFC 6749 answer), derived tokens, offline
//! verification, the public JWKS and JWK helpers — the same surface as the Node
//! binding (`js/NATIVE.md`). Every rule is core's; a token presented to
//! `Engine#begin` / `verify` needs nothing here.

use wasm_bindgen::prelude::*;

use keyproof::wire::{InspectedTokenView, IssuedTokenView, StepView, VerifiedTokenView};
use keyproof::{ErrorKind, TokenOptions};

use crate::engine::{pairs, Engine};
use crate::{
    core_error, error_of, instant, invalid_arg, load_optional, optional_bytes, optional_text, record_from, text,
};
use crate::{to_js, Result};

/// One token request being answered (see `keyproof::TokenExchange`).
#[wasm_bindgen]
pub struct TokenExchange {
    inner: Option<keyproof::TokenExchange>,
}

fn finished() -> JsValue {
    invalid_arg("this token exchange is already finished")
}

/// A required bytes argument (random bytes are drawn by the JS layer).
fn bytes_arg(value: &JsValue, what: &str) -> Result<Vec<u8>> {
    optional_bytes(value, what)?.ok_or_else(|| invalid_arg(&format!("{what} must be a Uint8Array")))
}

#[wasm_bindgen]
impl Engine {
    /// Starts answering a client-credentials token request (`body`: the raw form
    /// or JSON text; `random`: ≥ 16 bytes for the token's `jti`).
    #[wasm_bindgen(js_name = beginToken)]
    pub fn begin_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
        headers: Vec<String>,
        #[wasm_bindgen(unchecked_param_type = "string")] body: JsValue,
        #[wasm_bindgen(js_name = clientIp, unchecked_param_type = "string | null | undefined")] client_ip: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] random: JsValue,
    ) -> Result<TokenExchange> {
        let now = instant(now_ms)?;
        let (method, body) = (text(&method, "method")?, text(&body, "body")?);
        let client_ip = optional_text(&client_ip, "clientIp")?;
        let random = bytes_arg(&random, "random")?;
        let inner = self.inner.begin_token(&method, &pairs(&headers)?, &body, client_ip.as_deref(), now, &random);
        Ok(TokenExchange { inner: Some(inner) })
    }

    /// Issues a token for `record`, narrowed by `options` (`TokenOptions` or `null`).
    #[wasm_bindgen(js_name = issueToken)]
    pub fn issue_token(
        &self,
        record: JsValue,
        options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] random: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let record = record_from(&record)?.ok_or_else(|| error_of(ErrorKind::InvalidRecord, "a record is required"))?;
        let options: TokenOptions = load_optional(&options)?.unwrap_or_default();
        let random = bytes_arg(&random, "random")?;
        let t = self.inner.issue_token(&record, &options, &random, instant(now_ms)?).map_err(core_error)?;
        to_js(&IssuedTokenView::from(&t))
    }

    /// Verifies a token offline at `nowMs`: signature, claims, time window.
    #[wasm_bindgen(js_name = verifyToken)]
    pub fn verify_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<JsValue> {
        let token = text(&token, "token")?;
        let t = self.inner.verify_token(&token, instant(now_ms)?).map_err(core_error)?;
        to_js(&VerifiedTokenView::from(&t))
    }

    /// The public JWKS (`{keys: [...]}`: Ed25519 public keys only).
    #[wasm_bindgen(js_name = publicJwks)]
    pub fn public_jwks(&self) -> Result<JsValue> {
        to_js(&self.inner.public_jwks())
    }
}

#[wasm_bindgen]
impl TokenExchange {
    /// `{kind: 'lookup_record', value: hash}` or `{kind: 'done'}`.
    #[wasm_bindgen(js_name = nextStep)]
    pub fn next_step(&self) -> Result<JsValue> {
        to_js(&StepView::from(self.inner.as_ref().ok_or_else(finished)?.next_step()))
    }

    /// Answers the lookup step: a `NativeRecord`, a record object, or `null`.
    pub fn record(&mut self, record: JsValue) -> Result<()> {
        let record = record_from(&record)?.map(std::sync::Arc::unwrap_or_clone);
        self.inner.as_mut().ok_or_else(finished)?.record(record);
        Ok(())
    }

    /// The answer `{status, headers, body, code, error, detail, key_id, jti}`; ends the exchange.
    pub fn finish(&mut self) -> Result<JsValue> {
        let x = self.inner.take().ok_or_else(finished)?;
        to_js(&x.finish())
    }
}

/// A private signing JWK: `alg` `EdDSA` from a 32-byte seed, or `HS256` from a
/// secret of at least 32 bytes.
#[wasm_bindgen(js_name = tokenJwk)]
pub fn token_jwk(
    #[wasm_bindgen(unchecked_param_type = "string")] alg: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] kid: JsValue,
) -> Result<JsValue> {
    let (bytes, kid) = (bytes_arg(&bytes, "bytes")?, text(&kid, "kid")?);
    let jwk = match text(&alg, "alg")?.as_str() {
        "EdDSA" => keyproof::Jwk::ed25519(&bytes, &kid),
        "HS256" => keyproof::Jwk::hs256(&bytes, &kid),
        _ => return Err(error_of(ErrorKind::InvalidTokenKey, "alg is EdDSA or HS256")),
    };
    to_js(&jwk.map_err(core_error)?)
}

/// `{header, claims}` of a token, **not verified**: for debugging only.
#[wasm_bindgen(js_name = inspectToken)]
pub fn inspect_token(#[wasm_bindgen(unchecked_param_type = "string")] token: JsValue) -> Result<JsValue> {
    to_js(&InspectedTokenView::of(&text(&token, "token")?).map_err(core_error)?)
}
