//! Compact JWS (RFC 7515) as access tokens use it: base64url segments, a small
//! header (`alg`, `typ`, `kid`) and an algorithm allowlist. `none` never passes,
//! and an algorithm must match its key's type (no HS256 with an Ed25519 key).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// Longest token accepted, in bytes: bounds the work an attacker can cause.
pub const MAX_TOKEN_BYTES: usize = 8192;

/// `typ` of RFC 9068 access tokens.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// A signature algorithm keyproof signs and verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum TokenAlgorithm {
    /// Ed25519 (RFC 8037): public keys verify, so edges need no secret. The default.
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// HMAC-SHA256 with a shared secret: only for verifiers that may also sign.
    #[serde(rename = "HS256")]
    Hs256,
}

impl TokenAlgorithm {
    /// The JOSE name (`EdDSA`, `HS256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Hs256 => "HS256",
        }
    }

    /// The algorithm named `alg`, if keyproof knows it (`none` it never does).
    pub fn from_name(alg: &str) -> Option<Self> {
        match alg {
            "EdDSA" => Some(Self::EdDsa),
            "HS256" => Some(Self::Hs256),
            _ => None,
        }
    }
}

/// The JOSE header of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Signature algorithm.
    pub alg: String,
    /// Media type; `at+jwt` for access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Id of the signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Critical extensions: keyproof understands none, so any makes the token invalid.
    #[serde(default, skip_serializing)]
    pub crit: Option<serde_json::Value>,
}

/// A compact JWS split into its parts; nothing is verified yet.
#[derive(Clone, Debug)]
pub struct Compact<'t> {
    /// The decoded header.
    pub header: Header,
    /// The decoded payload bytes (claims JSON).
    pub payload: Vec<u8>,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: &'t str,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

fn malformed(why: &str) -> Error {
    Error::fixed(ErrorKind::MalformedToken, format!("the token {why}"))
}

/// Whether `text` has the shape of a compact JWS (three base64url segments),
/// so the engine routes it to token verification rather than key parsing.
pub fn looks_like_jws(text: &str) -> bool {
    let mut parts = text.split('.');
    let shaped = parts.by_ref().take(3).all(|p| p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    shaped && parts.next().is_none() && text.bytes().filter(|c| *c == b'.').count() == 2
}

fn b64(segment: &str, what: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).map_err(|_| malformed(&format!("{what} is not unpadded base64url")))
}

/// Base64url without padding (RFC 7515 §2).
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Splits and decodes a compact JWS.
pub fn decode(token: &str) -> Result<Compact<'_>> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed(&format!("is longer than {MAX_TOKEN_BYTES} bytes")));
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or_else(|| malformed("is not a compact JWS"))?;
    let (header, payload) = signing_input.split_once('.').ok_or_else(|| malformed("is not a compact JWS"))?;
    if payload.contains('.') || header.is_empty() || payload.is_empty() {
        return Err(malformed("is not a compact JWS"));
    }
    let header: Header = serde_json::from_slice(&b64(header, "the header")?)
        .map_err(|_| malformed("header is not a JSON object with a string alg"))?;
    if header.crit.is_some() {
        return Err(malformed("names critical header extensions"));
    }
    Ok(Compact {
        header,
        payload: b64(payload, "the payload")?,
        signing_input,
        signature: b64(signature, "the signature")?,
    })
}

/// The signing input for `header` and `claims` (both serialized as JSON).
pub fn signing_input<H: Serialize, C: Serialize>(header: &H, claims: &C) -> Result<String> {
    let json = |v: serde_json::Result<Vec<u8>>| v.map_err(|e| Error::new(ErrorKind::InvalidJson, e.to_string()));
    let mut out = b64url(&json(serde_json::to_vec(header))?);
    out.push('.');
    out.push_str(&b64url(&json(serde_json::to_vec(claims))?));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(looks_like_jws("eyJh.eyJi.c2ln"));
        assert!(!looks_like_jws("mk_live_abc"));
        assert!(!looks_like_jws("a.b.c.d"));
        assert!(!looks_like_jws("a.b"));
        // `alg: none` with no signature splits fine: refusing it is verification's job.
        assert_eq!(decode("eyJhbGciOiJub25lIn0.e30.").map(|c| c.header.alg).ok().as_deref(), Some("none"));
        assert_eq!(decode("a..b").err().map(|e| e.code()), Some("malformed_token"));
        let crit = format!("{}.e30.AA", b64url(br#"{"alg":"EdDSA","crit":["x"]}"#));
        assert_eq!(decode(&crit).err().map(|e| e.code()), Some("malformed_token"));
    }
}
