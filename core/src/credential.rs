//! Credential extraction from request headers, given as (name, value) pairs with
//! case-insensitive names. Never panics; every malformed input has its own code.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// Default limit on any credential header value.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 4096;

/// A way of sending a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialMethod {
    /// `Authorization: Bearer <key>` (RFC 6750).
    Bearer,
    /// `X-API-KEY: <key>` with an optional `X-CLIENT-ID` (seed 004).
    ApiKeyHeader,
    /// `Authorization: Basic base64(client_id:client_secret)` (seed 002).
    Basic,
    /// `X-SDK-TOKEN: <token>` (seed 004).
    SdkToken,
}

impl CredentialMethod {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::ApiKeyHeader => "api_key_header",
            Self::Basic => "basic",
            Self::SdkToken => "sdk_token",
        }
    }
}

/// Which methods a deployment accepts and under which header names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ExtractionConfig {
    /// Accepted methods.
    pub methods: Vec<CredentialMethod>,
    /// Header carrying the API key.
    pub api_key_header: String,
    /// Header carrying the public client id.
    pub client_id_header: String,
    /// Header carrying the SDK token.
    pub sdk_token_header: String,
    /// Longest accepted credential header value, in bytes.
    pub max_header_bytes: usize,
}

impl Default for ExtractionConfig {
    fn default() -> Self {
        Self {
            methods: vec![CredentialMethod::Bearer],
            api_key_header: "x-api-key".into(),
            client_id_header: "x-client-id".into(),
            sdk_token_header: "x-sdk-token".into(),
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

impl crate::load::Load for ExtractionConfig {
    const KIND: ErrorKind = ErrorKind::InvalidPolicy;

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

impl ExtractionConfig {
    /// Loads and validates a config from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }

    /// The (lower-case) names of every header extraction reads: a binding passes
    /// only these across its boundary and ignores the rest of the request.
    pub fn header_names(&self) -> Vec<String> {
        let accepts = |m| self.methods.contains(&m);
        let mut names = Vec::with_capacity(4);
        if accepts(CredentialMethod::Bearer) || accepts(CredentialMethod::Basic) {
            names.push("authorization".to_string());
        }
        if accepts(CredentialMethod::ApiKeyHeader) {
            names.push(self.api_key_header.to_ascii_lowercase());
        }
        names.push(self.client_id_header.to_ascii_lowercase());
        if accepts(CredentialMethod::SdkToken) {
            names.push(self.sdk_token_header.to_ascii_lowercase());
        }
        names
    }

    /// Whether extraction reads the header `name` (any case): the test behind
    /// [`ExtractionConfig::header_names`], without allocating, so a binding can
    /// skip converting every other header of a request.
    pub fn reads_header(&self, name: &str) -> bool {
        let accepts = |m| self.methods.contains(&m);
        ((accepts(CredentialMethod::Bearer) || accepts(CredentialMethod::Basic))
            && name.eq_ignore_ascii_case("authorization"))
            || (accepts(CredentialMethod::ApiKeyHeader) && name.eq_ignore_ascii_case(&self.api_key_header))
            || name.eq_ignore_ascii_case(&self.client_id_header)
            || (accepts(CredentialMethod::SdkToken) && name.eq_ignore_ascii_case(&self.sdk_token_header))
    }

    /// Checks header names and the size limit.
    pub fn validate(&self) -> Result<()> {
        if self.methods.is_empty() {
            return Err(Error::new(ErrorKind::InvalidPolicy, "accept at least one credential method"));
        }
        for name in [&self.api_key_header, &self.client_id_header, &self.sdk_token_header] {
            if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
                return Err(Error::new(ErrorKind::InvalidPolicy, format!("{name:?} is not a valid header name")));
            }
        }
        if !(64..=65536).contains(&self.max_header_bytes) {
            return Err(Error::new(ErrorKind::InvalidPolicy, "max_header_bytes must be 64-65536"));
        }
        Ok(())
    }
}

/// A credential found in a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// How it was sent.
    pub method: CredentialMethod,
    /// The key, token or client secret.
    pub secret: Secret,
    /// The public client id sent with it, if any.
    pub client_id: Option<String>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("method", &self.method)
            .field("secret", &self.secret)
            .field("client_id", &self.client_id)
            .finish()
    }
}

#[derive(Default)]
struct Seen<'a> {
    authorization: Option<&'a str>,
    api_key: Option<&'a str>,
    client_id: Option<&'a str>,
    sdk_token: Option<&'a str>,
}

fn check_value<'a>(config: &ExtractionConfig, value: &'a str) -> Result<&'a str> {
    if value.len() > config.max_header_bytes {
        return Err(Error::fixed(
            ErrorKind::HeaderTooLarge,
            format!("credential headers are limited to {} bytes", config.max_header_bytes),
        ));
    }
    // Visible ASCII, space and tab only: no control characters, no obs-text.
    // Every byte looked at (no early exit): a branch-free loop, cheaper than `all` here.
    if value.bytes().fold(false, |bad, c| bad | (c != b'\t' && !(0x20..0x7f).contains(&c))) {
        return Err(Error::fixed(
            ErrorKind::InvalidHeaderValue,
            "a credential header has control or non-ASCII characters",
        ));
    }
    Ok(value.trim_matches(|c| c == ' ' || c == '\t'))
}

fn store<'a>(slot: &mut Option<&'a str>, value: &'a str, name: &str) -> Result<()> {
    if slot.replace(value).is_some() {
        return Err(Error::fixed(ErrorKind::DuplicateHeader, format!("the {name} header appears more than once")));
    }
    Ok(())
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    let token_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
    !body.is_empty() && body.bytes().fold(true, |ok, c| ok & token_char(c))
}

fn non_empty(value: &str, what: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::fixed(ErrorKind::EmptyToken, format!("the {what} is empty")));
    }
    Ok(())
}

/// Extracts the one credential a request carries.
pub fn extract<N: AsRef<str>, V: AsRef<str>>(config: &ExtractionConfig, headers: &[(N, V)]) -> Result<Credential> {
    let accepts = |m| config.methods.contains(&m);
    let mut seen = Seen::default();
    for (name, value) in headers {
        let name = name.as_ref();
        let uses_authorization = accepts(CredentialMethod::Bearer) || accepts(CredentialMethod::Basic);
        let is_authorization = uses_authorization && name.eq_ignore_ascii_case("authorization");
        let slot = if is_authorization {
            &mut seen.authorization
        } else if accepts(CredentialMethod::ApiKeyHeader) && name.eq_ignore_ascii_case(&config.api_key_header) {
            &mut seen.api_key
        } else if name.eq_ignore_ascii_case(&config.client_id_header) {
            &mut seen.client_id
        } else if accepts(CredentialMethod::SdkToken) && name.eq_ignore_ascii_case(&config.sdk_token_header) {
            &mut seen.sdk_token
        } else {
            continue;
        };
        let value = check_value(config, value.as_ref())?;
        // A tab may separate the Authorization scheme from its token, but a
        // key, client id or SDK token is one word: a tab inside is not part of it.
        if !is_authorization && value.contains('\t') {
            return Err(Error::fixed(ErrorKind::InvalidHeaderValue, "a credential header has a tab inside its value"));
        }
        store(slot, value, name)?;
    }

    let header_client_id = match seen.client_id {
        Some("") => return Err(Error::fixed(ErrorKind::EmptyToken, "the client id header is empty")),
        other => other,
    };
    // The first credential is kept; each later one only has to equal it. A
    // conflict is reported after every credential's own checks, as before.
    let mut first: Option<Credential> = None;
    let mut conflicting = false;
    let mut offer = |method: CredentialMethod, secret: &str, client_id: Option<&str>| match &first {
        None => {
            let client_id = client_id.map(str::to_string);
            first = Some(Credential { method, secret: Secret::new(secret), client_id });
        }
        Some(f) => {
            let same = crate::secret::ct_eq(f.secret.expose().as_bytes(), secret.as_bytes());
            conflicting |= !same || f.client_id.as_deref() != client_id;
        }
    };
    if let Some(auth) = seen.authorization {
        // The scheme ends at the first space or tab (a byte search: no char pattern).
        let split = auth.bytes().position(|c| c == b' ' || c == b'\t').unwrap_or(auth.len());
        let (scheme, rest) = (auth.get(..split).unwrap_or(auth), auth.get(split..).unwrap_or_default());
        let rest = rest.trim_matches(|c| c == ' ' || c == '\t');
        if scheme.eq_ignore_ascii_case("bearer") && accepts(CredentialMethod::Bearer) {
            non_empty(rest, "bearer token")?;
            if !is_b64token(rest) {
                return Err(Error::fixed(
                    ErrorKind::MalformedAuthorization,
                    "the bearer token has characters RFC 6750 does not allow",
                ));
            }
            offer(CredentialMethod::Bearer, rest, header_client_id);
        } else if scheme.eq_ignore_ascii_case("basic") && accepts(CredentialMethod::Basic) {
            let basic = basic(rest, header_client_id)?;
            offer(basic.method, basic.secret.expose(), basic.client_id.as_deref());
        }
    }
    if let Some(key) = seen.api_key {
        non_empty(key, "API key")?;
        offer(CredentialMethod::ApiKeyHeader, key, header_client_id);
    }
    if let Some(token) = seen.sdk_token {
        non_empty(token, "SDK token")?;
        offer(CredentialMethod::SdkToken, token, header_client_id);
    }
    if conflicting {
        return Err(Error::fixed(ErrorKind::ConflictingCredentials, "the request carries two different credentials"));
    }
    first.ok_or_else(|| Error::fixed(ErrorKind::MissingCredentials, "the request carries no credential"))
}

fn basic(encoded: &str, header_client_id: Option<&str>) -> Result<Credential> {
    let invalid = |why: &str| Error::fixed(ErrorKind::InvalidBasicCredentials, format!("Basic credentials {why}"));
    if encoded.is_empty() {
        return Err(Error::fixed(ErrorKind::EmptyToken, "the Basic credentials are empty"));
    }
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| invalid("are not valid base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("are not UTF-8"))?;
    let (id, secret) = text.split_once(':').ok_or_else(|| invalid("lack the ':' between client id and secret"))?;
    if id.is_empty() || secret.is_empty() {
        return Err(invalid("need both a client id and a secret"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid("contain control characters"));
    }
    if header_client_id.is_some_and(|h| h != id) {
        return Err(Error::fixed(
            ErrorKind::ConflictingCredentials,
            "the client id header differs from the Basic client id",
        ));
    }
    Ok(Credential { method: CredentialMethod::Basic, secret: Secret::new(secret), client_id: Some(id.to_string()) })
}
