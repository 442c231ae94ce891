//! Reading a token request (RFC 6749 §4.4.2): `grant_type=client_credentials`,
//! an optional `scope`, and client authentication by HTTP Basic (§2.3.1) or by
//! `client_id`/`client_secret` in the body, as a form or as JSON.

use crate::credential::{extract, CredentialMethod, ExtractionConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// Largest token request body read, in bytes.
pub const MAX_TOKEN_BODY_BYTES: usize = 8192;

/// A well-formed client-credentials request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// How the client authenticated (`basic`, or `None` for body parameters).
    pub method: Option<CredentialMethod>,
    /// The client id.
    pub client_id: String,
    /// The client secret (the API key).
    pub secret: Secret,
    /// The requested scopes; `None` asks for all of the key's.
    pub scopes: Option<Vec<String>>,
}

fn invalid(msg: &str) -> Error {
    Error::fixed(ErrorKind::InvalidTokenRequest, msg.to_string())
}

fn header<'h, N: AsRef<str>, V: AsRef<str>>(headers: &'h [(N, V)], name: &str) -> Result<Option<&'h str>> {
    let mut found = headers.iter().filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref());
    let first = found.next();
    if found.next().is_some() {
        return Err(Error::fixed(ErrorKind::DuplicateHeader, format!("the {name} header appears more than once")));
    }
    Ok(first)
}

fn params(content_type: &str, body: &str) -> Result<Vec<(String, String)>> {
    let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match media.as_str() {
        "application/x-www-form-urlencoded" => {
            Ok(form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        }
        "application/json" => {
            // Every member, duplicates kept (a map would keep only the last), so a
            // repeated parameter is refused like a repeated form field.
            let JsonPairs(pairs) = serde_json::from_str(body).map_err(|_| invalid("the JSON body is not an object"))?;
            pairs
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => Ok((k, s)),
                    _ => Err(invalid("token request parameters are strings")),
                })
                .collect()
        }
        _ => Err(invalid("token requests are application/x-www-form-urlencoded or application/json")),
    }
}

/// A JSON object's members in order, duplicates included.
struct JsonPairs(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for JsonPairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = JsonPairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<JsonPairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(JsonPairs(pairs))
            }
        }
        d.deserialize_map(Members)
    }
}

/// Undoes the form encoding RFC 6749 §2.3.1 applies to a client id and secret
/// before they go into a Basic header (`%XX`, `+` for space). Key and id
/// alphabets hold neither `%` nor `+`, so unencoded credentials pass unchanged.
fn form_decoded(text: &str) -> Result<String> {
    if !text.contains(['%', '+']) {
        return Ok(text.to_string());
    }
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().map(std::borrow::Cow::into_owned).map_err(|_| {
        Error::fixed(ErrorKind::MalformedAuthorization, "the Basic credentials are not UTF-8 once decoded")
    })
}

/// Parses a token request. Errors: `invalid_token_request`,
/// `unsupported_grant_type`, `scope_not_granted` (malformed scope), the
/// credential codes of a bad Basic header, `missing_credentials`.
pub fn parse_token_request<N: AsRef<str>, V: AsRef<str>>(
    method: &str,
    headers: &[(N, V)],
    body: &str,
) -> Result<TokenRequest> {
    if !method.eq_ignore_ascii_case("POST") {
        return Err(invalid("token requests are POST"));
    }
    if body.len() > MAX_TOKEN_BODY_BYTES {
        return Err(invalid("the token request body is too large"));
    }
    let content_type = header(headers, "content-type")?.unwrap_or_default();
    let mut grant_type = None;
    let mut scope = None;
    let mut body_id = None;
    let mut body_secret = None;
    for (name, value) in params(content_type, body)? {
        let slot = match name.as_str() {
            "grant_type" => &mut grant_type,
            "scope" => &mut scope,
            "client_id" => &mut body_id,
            "client_secret" => &mut body_secret,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(invalid("a token request parameter appears more than once"));
        }
    }
    match grant_type.as_deref() {
        None | Some("") => return Err(invalid("grant_type is missing")),
        Some("client_credentials") => {}
        Some(_) => {
            return Err(Error::fixed(ErrorKind::UnsupportedGrantType, "only the client_credentials grant is supported"))
        }
    }
    let basic_config = ExtractionConfig { methods: vec![CredentialMethod::Basic], ..ExtractionConfig::default() };
    let authorization: Vec<(&str, &str)> =
        header(headers, "authorization")?.map(|v| ("authorization", v)).into_iter().collect();
    let basic = match extract(&basic_config, &authorization) {
        Ok(credential) => Some(credential),
        Err(e) if e.kind() == ErrorKind::MissingCredentials => None,
        Err(e) => return Err(e),
    };
    let (method, client_id, secret) = match (basic, body_secret) {
        (Some(_), Some(_)) => return Err(invalid("use one client authentication method, not Basic and the body")),
        (Some(c), None) => {
            let id = form_decoded(&c.client_id.unwrap_or_default())?;
            let secret = Secret::new(form_decoded(c.secret.expose())?);
            if body_id.as_ref().is_some_and(|b| *b != id) {
                return Err(invalid("client_id in the body differs from the Basic client id"));
            }
            (Some(CredentialMethod::Basic), id, secret)
        }
        (None, Some(secret)) => match body_id {
            Some(id) if !id.is_empty() && !secret.is_empty() => (None, id, Secret::new(secret)),
            _ => return Err(Error::fixed(ErrorKind::EmptyToken, "client_id and client_secret must both be non-empty")),
        },
        (None, None) => {
            return Err(Error::fixed(ErrorKind::MissingCredentials, "the token request carries no client credentials"))
        }
    };
    let scopes = match scope {
        None => None,
        Some(text) => {
            let list: Vec<String> = text.split(' ').map(str::to_string).collect();
            if list.iter().any(|s| crate::scope::validate_scope(s).is_err()) {
                return Err(Error::fixed(ErrorKind::ScopeNotGranted, "the scope parameter is malformed"));
            }
            Some(list)
        }
    };
    Ok(TokenRequest { method, client_id, secret, scopes })
}
