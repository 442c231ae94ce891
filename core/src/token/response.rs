//! Token endpoint answers: RFC 6749 §5.1 success and §5.2 errors, JSON with
//! `Cache-Control: no-store`; a failed client authentication is 401
//! `invalid_client` with a Basic challenge.

use serde::Serialize;

use super::issue::IssuedToken;
use crate::error::{ErrorFamily, ErrorKind};

/// What the token endpoint answers. `Debug` hides the body (it holds the token).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, in a fixed order.
    pub headers: Vec<(String, String)>,
    /// The JSON body, exact bytes.
    pub body: String,
    /// Internal code: `ok`, or the precise reason (for logs).
    pub code: &'static str,
    /// The RFC 6749 `error` of a failure.
    pub error: Option<&'static str>,
    /// Internal detail for logs (never a secret).
    pub detail: String,
    /// Key id the token was issued for (successes).
    pub key_id: Option<String>,
    /// `jti` of the issued token (successes).
    pub jti: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("error", &self.error)
            .field("detail", &self.detail)
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl TokenResponse {
    /// The response as JSON (what golden vectors pin).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn json_headers(headers: &mut Vec<(String, String)>) {
    headers.push(("Content-Type".into(), "application/json".into()));
    headers.push(("Cache-Control".into(), "no-store".into()));
    headers.push(("Pragma".into(), "no-cache".into()));
}

/// §5.1: the token, its type, lifetime and scope.
pub(crate) fn success(issued: &IssuedToken) -> TokenResponse {
    let mut body = serde_json::Map::new();
    body.insert("access_token".into(), issued.access_token.expose().into());
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), issued.expires_in.into());
    if let Some(scope) = &issued.claims.scope {
        body.insert("scope".into(), scope.as_str().into());
    }
    let mut headers = Vec::with_capacity(3);
    json_headers(&mut headers);
    TokenResponse {
        status: 200,
        headers,
        body: serde_json::Value::Object(body).to_string(),
        code: "ok",
        error: None,
        detail: String::new(),
        key_id: Some(issued.claims.key_id.clone()),
        jti: Some(issued.claims.jti.clone()),
    }
}

/// The RFC 6749 §5.2 status, `error` and description for an error kind.
pub fn oauth_error(kind: ErrorKind) -> (u16, &'static str, &'static str) {
    use ErrorKind as K;
    match kind {
        K::UnsupportedGrantType => (400, "unsupported_grant_type", "Only the client_credentials grant is supported."),
        K::ScopeNotGranted => {
            (400, "invalid_scope", "The requested scope is malformed or exceeds what the client holds.")
        }
        K::IpNotAllowed | K::OriginNotAllowed | K::CredentialKindNotAllowed => {
            (400, "unauthorized_client", "This client may not obtain tokens here.")
        }
        K::InvalidTokenRequest
        | K::DuplicateHeader
        | K::ConflictingCredentials
        | K::HeaderTooLarge
        | K::InvalidClientIp => (400, "invalid_request", "The token request is malformed."),
        k if matches!(k.family(), ErrorFamily::Config | ErrorFamily::Randomness) => {
            (500, "server_error", "The token could not be issued.")
        }
        _ => (401, "invalid_client", "Client authentication failed."),
    }
}

/// §5.2: an error answer; 401 `invalid_client` challenges with Basic.
pub(crate) fn failure(kind: ErrorKind, detail: String, realm: &str) -> TokenResponse {
    let (status, error, description) = oauth_error(kind);
    let mut headers = Vec::with_capacity(4);
    if status == 401 {
        headers.push(("WWW-Authenticate".into(), format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")));
    }
    json_headers(&mut headers);
    let body = serde_json::json!({"error": error, "error_description": description}).to_string();
    TokenResponse { status, headers, body, code: kind.code(), error: Some(error), detail, key_id: None, jti: None }
}
