//! One error type for every failure in keyproof, each with a stable snake_case code.
//!
//! Codes are part of the public contract: bindings expose them as `.code`, golden
//! vectors pin them, and HTTP rendering maps them to statuses. Messages never carry
//! a key, secret or hash; at most a prefix or a masked preview.

use std::fmt;

/// Families group codes so bindings can offer one exception class per family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorFamily {
    /// The presented key is not a well-formed key of any configured format.
    KeyFormat,
    /// The request carried no usable credential, or a malformed one.
    Credential,
    /// The key is well formed but is not (or no longer) valid.
    Authentication,
    /// The key is valid but may not do this.
    Authorization,
    /// Too many requests.
    RateLimit,
    /// Configuration, records, policies or other caller-supplied data are invalid.
    Config,
    /// Not enough caller-supplied randomness.
    Randomness,
}

impl ErrorFamily {
    /// Stable snake_case name of the family.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyFormat => "key_format",
            Self::Credential => "credential",
            Self::Authentication => "authentication",
            Self::Authorization => "authorization",
            Self::RateLimit => "rate_limit",
            Self::Config => "config",
            Self::Randomness => "randomness",
        }
    }
}

macro_rules! error_kinds {
    ($( #[doc = $doc:literal] $variant:ident => $code:literal, $family:ident; )*) => {
        /// What went wrong. Each kind has a stable [`ErrorKind::code`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $( #[doc = $doc] $variant, )*
        }

        impl ErrorKind {
            /// Every kind, in catalogue order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant,)*];

            /// The stable snake_case code.
            pub fn code(self) -> &'static str {
                match self { $(ErrorKind::$variant => $code,)* }
            }

            /// The family this kind belongs to.
            pub fn family(self) -> ErrorFamily {
                match self { $(ErrorKind::$variant => ErrorFamily::$family,)* }
            }

            /// One sentence saying what the code means (its doc comment).
            pub fn description(self) -> &'static str {
                match self { $(ErrorKind::$variant => $doc.trim_ascii(),)* }
            }

            /// Looks a kind up by its code.
            pub fn from_code(code: &str) -> Option<ErrorKind> {
                match code { $($code => Some(ErrorKind::$variant),)* _ => None }
            }
        }
    };
}

error_kinds! {
    /// No configured format has this key's prefix.
    UnknownPrefix => "unknown_prefix", KeyFormat;
    /// The key body has the wrong length for its format.
    WrongLength => "wrong_length", KeyFormat;
    /// The key contains a character outside its format's alphabet.
    BadCharacter => "bad_character", KeyFormat;
    /// The key's checksum does not match its body.
    BadChecksum => "bad_checksum", KeyFormat;
    /// The key does not have its format's layout (e.g. missing separator).
    MalformedKey => "malformed_key", KeyFormat;

    /// The request carries no credential the deployment accepts.
    MissingCredentials => "missing_credentials", Credential;
    /// A client id is required but was not sent.
    MissingClientId => "missing_client_id", Credential;
    /// Two different credentials were sent in one request.
    ConflictingCredentials => "conflicting_credentials", Credential;
    /// A credential header appears more than once.
    DuplicateHeader => "duplicate_header", Credential;
    /// Basic credentials are not valid base64 or lack the `id:secret` shape.
    InvalidBasicCredentials => "invalid_basic_credentials", Credential;
    /// The credential is empty.
    EmptyToken => "empty_token", Credential;
    /// A header value contains control or non-ASCII characters.
    InvalidHeaderValue => "invalid_header_value", Credential;
    /// A credential header is longer than the configured limit.
    HeaderTooLarge => "header_too_large", Credential;
    /// The Authorization header is not of the form `<scheme> <credentials>`.
    MalformedAuthorization => "malformed_authorization", Credential;
    /// The request path is not a normalized absolute path.
    InvalidPath => "invalid_path", Credential;
    /// The request method is not an HTTP token.
    InvalidMethod => "invalid_method", Credential;
    /// The client IP address could not be parsed.
    InvalidClientIp => "invalid_client_ip", Credential;
    /// A token request is malformed (method, content type, repeated or missing parameters).
    InvalidTokenRequest => "invalid_token_request", Credential;
    /// A token request asks for a grant other than `client_credentials`.
    UnsupportedGrantType => "unsupported_grant_type", Credential;

    /// No stored record matches the key.
    UnknownKey => "unknown_key", Authentication;
    /// A record was supplied but its hash does not match the key.
    KeyMismatch => "key_mismatch", Authentication;
    /// The key has been revoked.
    KeyRevoked => "key_revoked", Authentication;
    /// The key has been disabled.
    KeyDisabled => "key_disabled", Authentication;
    /// The key has expired.
    KeyExpired => "key_expired", Authentication;
    /// The key was rotated and its grace period is over.
    RotationGraceEnded => "rotation_grace_ended", Authentication;
    /// The key belongs to another environment than this deployment.
    WrongEnvironment => "wrong_environment", Authentication;
    /// The client id sent does not belong to the key.
    ClientIdMismatch => "client_id_mismatch", Authentication;
    /// The access token is not a well-formed RFC 9068 JWT.
    MalformedToken => "malformed_token", Authentication;
    /// The access token's `alg` is `none`, not accepted here, or does not fit its key.
    TokenAlgorithmNotAllowed => "token_algorithm_not_allowed", Authentication;
    /// No token key has the access token's `kid`.
    UnknownTokenKey => "unknown_token_key", Authentication;
    /// The access token's signature does not verify.
    BadTokenSignature => "bad_token_signature", Authentication;
    /// The access token has expired.
    TokenExpired => "token_expired", Authentication;
    /// The access token is not valid yet (`nbf` or `iat` in the future).
    TokenNotYetValid => "token_not_yet_valid", Authentication;
    /// The access token was revoked before it expired (`tokens.revoked_before`, `revoked_before_by_key`, `revoked_jtis`).
    TokenRevoked => "token_revoked", Authentication;
    /// The access token comes from another issuer.
    WrongTokenIssuer => "wrong_token_issuer", Authentication;
    /// The access token is meant for another audience.
    WrongTokenAudience => "wrong_token_audience", Authentication;

    /// The client IP is not in the key's allowlist.
    IpNotAllowed => "ip_not_allowed", Authorization;
    /// The request comes from a website (its `Origin`, else its `Referer`) outside the key's allowlist.
    OriginNotAllowed => "origin_not_allowed", Authorization;
    /// The route is not in the policy and the policy denies unknown routes.
    RouteNotAllowed => "route_not_allowed", Authorization;
    /// This kind of credential may not call this route.
    CredentialKindNotAllowed => "credential_kind_not_allowed", Authorization;
    /// The key's role is below the route's required role.
    InsufficientRole => "insufficient_role", Authorization;
    /// The key lacks a scope the route requires.
    InsufficientScope => "insufficient_scope", Authorization;
    /// The route needs a feature that the key's account does not have.
    FeatureNotEnabled => "feature_not_enabled", Authorization;
    /// The access token is restricted to other routes.
    TokenRouteNotAllowed => "token_route_not_allowed", Authorization;
    /// A token asks for a scope, route, network, origin, kind or lifetime its key does not grant.
    ScopeNotGranted => "scope_not_granted", Authorization;

    /// The key exceeded its rate limit.
    RateLimited => "rate_limited", RateLimit;
    /// The rate-limit store failed, so the key's quota could not be checked.
    RateLimitUnavailable => "rate_limit_unavailable", RateLimit;
    /// The key spent its usage limit for the period (or for good: credits).
    UsageExceeded => "usage_exceeded", RateLimit;

    /// A key format definition is invalid.
    InvalidFormat => "invalid_format", Config;
    /// A stored hash is malformed or uses an unknown algorithm.
    InvalidHash => "invalid_hash", Config;
    /// HMAC hashing was requested without a pepper.
    MissingPepper => "missing_pepper", Config;
    /// A key record is invalid.
    InvalidRecord => "invalid_record", Config;
    /// A key name is not 3–50 characters.
    InvalidName => "invalid_name", Config;
    /// A timestamp is not valid ISO 8601 / RFC 3339.
    InvalidTimestamp => "invalid_timestamp", Config;
    /// A CIDR range or IP address in an allowlist is invalid.
    InvalidCidr => "invalid_cidr", Config;
    /// An origin in an allowlist is not `scheme://host[:port]` (or `scheme://*.domain`).
    InvalidOrigin => "invalid_origin", Config;
    /// An expiry preset is not one of the supported values.
    InvalidExpiry => "invalid_expiry", Config;
    /// A scope is not a valid scope token.
    InvalidScope => "invalid_scope", Config;
    /// A policy is invalid.
    InvalidPolicy => "invalid_policy", Config;
    /// A rate-limit quota or state is invalid.
    InvalidQuota => "invalid_quota", Config;
    /// Input JSON could not be parsed.
    InvalidJson => "invalid_json", Config;
    /// A preset or format id is not known.
    UnknownFormat => "unknown_format", Config;
    /// A record id is malformed.
    InvalidId => "invalid_id", Config;
    /// A lifecycle change is not allowed from the key's state (e.g. rotating a revoked key).
    InvalidTransition => "invalid_transition", Config;
    /// A token key (JWK) is invalid, or no key can sign.
    InvalidTokenKey => "invalid_token_key", Config;
    /// A record cache setting is out of range.
    InvalidCache => "invalid_cache", Config;

    /// Fewer random bytes were supplied than the operation needs.
    InsufficientRandomness => "insufficient_randomness", Randomness;
}

/// Every stable error code, in catalogue order.
pub fn all_codes() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.code()).collect()
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A keyproof error: a kind with a stable code and a message free of secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Builds an error. `message` must never contain a secret.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message = message.into();
        // Messages may echo caller input; a key pasted into the wrong place shows as its preview.
        let message = match crate::redaction::redact_keys(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(redacted) => redacted,
        };
        Self(Box::new(Inner { kind, message }))
    }

    /// An error whose message is built only from core's own text and
    /// configuration (format ids, limits), never from caller input: it needs no
    /// redaction, which keeps the hot denial paths cheap.
    pub(crate) fn fixed(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner { kind, message: message.into() }))
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        self.0.kind.code()
    }

    /// A human-readable message without secrets.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.0.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error").field("code", &self.code()).field("message", &self.0.message).finish()
    }
}

impl std::error::Error for Error {}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind, kind.code().replace('_', " "))
    }
}

/// Maps a serde error to a keyproof error: custom deserializers prefix their
/// message with a code (`invalid_timestamp: …`), everything else is `fallback`.
pub(crate) fn serde_error(fallback: ErrorKind, e: &serde_json::Error) -> Error {
    if e.is_syntax() || e.is_eof() {
        return Error::new(ErrorKind::InvalidJson, e.to_string());
    }
    deserialize_error(fallback, e.to_string())
}

/// [`serde_error`] for any deserializer's error text (pythonize, serde-wasm-bindgen …).
pub(crate) fn deserialize_error(fallback: ErrorKind, text: String) -> Error {
    let kind = text.split_once(':').and_then(|(code, _)| ErrorKind::from_code(code)).unwrap_or(fallback);
    let message = match kind {
        k if k == fallback => text,
        _ => text.split_once(": ").map_or(text.clone(), |(_, rest)| rest.to_string()),
    };
    Error::new(kind, message)
}

/// Result alias used throughout keyproof.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = HashSet::new();
        for kind in ErrorKind::ALL {
            let code = kind.code();
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{code}");
            assert_eq!(ErrorKind::from_code(code), Some(*kind));
        }
        assert_eq!(all_codes().len(), ErrorKind::ALL.len());
    }

    #[test]
    fn display_has_code_and_message() {
        let e = Error::new(ErrorKind::WrongLength, "expected 32 characters");
        assert_eq!(e.to_string(), "wrong_length: expected 32 characters");
        assert_eq!(e.kind().family(), ErrorFamily::KeyFormat);
    }
}
