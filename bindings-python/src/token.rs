//! Access tokens (issue 15) for Python: the token endpoint step
//! (`Engine.begin_token` → `TokenExchange` → `TokenResponse`), issuing derived
//! tokens, offline verification, JWKS export and JWK helpers. Every rule is
//! core's; verification of tokens presented to `Engine.begin` / `Verifier`
//! needs nothing here (core routes JWS-shaped credentials to token verification).

use keyproof::token::{self, AccessToken as CoreAccessToken, TokenOptions};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::convert::{headers_from_py, load, now_or, random_or_urandom, to_py, Text};
use crate::engine::{Decision, Engine};
use crate::errors::to_py_err;
use crate::record::record_arg;
use crate::verification::step_of;

/// A token request being answered without I/O: `next_step()` is `("lookup",
/// hash)` until `record()` answers it, then `("done", None)`; `finish()` renders
/// the RFC 6749 answer.
#[pyclass(name = "TokenExchange", module = "keyproof")]
pub struct TokenExchange {
    inner: Option<keyproof::TokenExchange>,
}

fn finished() -> PyErr {
    PyRuntimeError::new_err("this exchange is finished")
}

#[pymethods]
impl TokenExchange {
    /// `("lookup", hash)` or `("done", None)`.
    fn next_step(&self) -> PyResult<(&'static str, Option<String>)> {
        Ok(step_of(self.inner.as_ref().ok_or_else(finished)?.next_step()))
    }

    /// Answers the lookup step with the record stored under the hash, or None.
    fn record(&mut self, record: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let record = record_arg(record)?.map(std::sync::Arc::unwrap_or_clone);
        self.inner.as_mut().ok_or_else(finished)?.record(record);
        Ok(())
    }

    /// The answer: status, headers and JSON body. Ends the exchange.
    fn finish(&mut self) -> PyResult<TokenResponse> {
        Ok(TokenResponse { inner: self.inner.take().ok_or_else(finished)?.finish() })
    }

    fn __repr__(&self) -> String {
        let step = self.inner.as_ref().map(|x| step_of(x.next_step()).0);
        format!("TokenExchange(step={})", step.map_or("None".to_string(), |name| format!("'{name}'")))
    }
}

wrap! {
    /// The token endpoint's answer (RFC 6749 §5.1 / §5.2). `repr` hides the body.
    #[derive(PartialEq)]
    TokenResponse(keyproof::TokenResponse) [eq] repr(status, code)
        fields(status, body, code, error, detail, key_id, jti) |r| {
        headers: Vec<(String, String)> = r.headers.clone();
    }
}

dumps!(TokenResponse);

wrap! {
    /// An issued access token. `repr` never shows the token.
    IssuedToken(keyproof::IssuedToken) [] repr(kid, expires_in) fields(expires_in, kid, claims) |t| {
        /// The compact JWS: hand it to its holder only.
        access_token: &str = t.access_token.expose();
    }
}

wrap! {
    /// A token whose signature, claims and time window verified offline.
    AccessToken(CoreAccessToken) [] repr(kid, key_id) fields(kid, scopes, claims) |t| {
        key_id: &str = &t.claims.key_id;
    }
}

#[pymethods]
impl Engine {
    /// Starts answering a client-credentials token request (`body` is the raw
    /// form or JSON text). `random` (≥ 16 bytes, default `os.urandom`) makes the jti.
    #[pyo3(signature = (method, headers, body, client_ip=None, now=None, random=None))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, not a Rust API
    fn begin_token(
        &self,
        py: Python<'_>,
        method: Text,
        headers: &Bound<'_, PyAny>,
        body: Text,
        client_ip: Option<Text>,
        now: Option<&Bound<'_, PyAny>>,
        random: Option<Vec<u8>>,
    ) -> PyResult<TokenExchange> {
        let (headers, now, random) = (headers_from_py(headers)?, now_or(now)?, random_or_urandom(py, random)?);
        let inner = self.inner.begin_token(&method, &headers, &body, client_ip.as_deref(), now, &random);
        Ok(TokenExchange { inner: Some(inner) })
    }

    /// Issues a token for `record`, narrowed by `options` (dict or JSON: scopes,
    /// routes, cidrs, kind, lifetime_seconds): seed 004's SDK token.
    #[pyo3(signature = (record, options=None, *, now=None, random=None))]
    fn issue_token(
        &self,
        py: Python<'_>,
        record: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        random: Option<Vec<u8>>,
    ) -> PyResult<IssuedToken> {
        let record = record_arg(Some(record))?.ok_or_else(|| {
            to_py_err(keyproof::Error::new(keyproof::ErrorKind::InvalidRecord, "a record is required"))
        })?;
        let options: TokenOptions = options.map(load).transpose()?.unwrap_or_default();
        let (now, random) = (now_or(now)?, random_or_urandom(py, random)?);
        self.inner.issue_token(&record, &options, &random, now).map(|inner| IssuedToken { inner }).map_err(to_py_err)
    }

    /// Verifies a token offline at `now`: signature, claims, time window.
    #[pyo3(signature = (token, now=None))]
    fn verify_token(&self, token: Text, now: Option<&Bound<'_, PyAny>>) -> PyResult<AccessToken> {
        let now = now_or(now)?;
        self.inner.verify_token(&token, now).map(|inner| AccessToken { inner }).map_err(to_py_err)
    }

    /// The public JWKS (Ed25519 public keys only) to publish for verifiers.
    fn public_jwks(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.public_jwks())
    }
}

#[pymethods]
impl Decision {
    /// The accepted access token (`jti`, `kid`, `expires_at`, `record_confirmed`), or None.
    #[getter]
    fn token(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.inner.token.as_ref().map(|t| to_py(py, t)).transpose()
    }
}

/// A private Ed25519 JWK (dict) from 32 random bytes.
#[pyfunction]
pub(crate) fn ed25519_jwk(py: Python<'_>, seed: Vec<u8>, kid: Text) -> PyResult<Py<PyAny>> {
    to_py(py, &keyproof::Jwk::ed25519(&seed, &kid).map_err(to_py_err)?)
}

/// An HS256 JWK (dict) from a secret of at least 32 bytes.
#[pyfunction]
pub(crate) fn hs256_jwk(py: Python<'_>, secret: Vec<u8>, kid: Text) -> PyResult<Py<PyAny>> {
    to_py(py, &keyproof::Jwk::hs256(&secret, &kid).map_err(to_py_err)?)
}

/// Header and claims of a token, **not verified**: for debugging only.
#[pyfunction]
pub(crate) fn inspect_token(py: Python<'_>, token: Text) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let (header, claims) = token::inspect(&token).map_err(to_py_err)?;
    Ok((to_py(py, &header)?, to_py(py, &claims)?))
}
