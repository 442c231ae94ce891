//! # keyproof
//!
//! One API-key verification engine with no I/O: key formats, minting, hashing,
//! credential extraction, key records, policy, decisions and their HTTP rendering,
//! rate limiting, and leak scanning. Time and randomness are always arguments, so
//! the same inputs give the same decision in every runtime (Rust, Python, Node, WASM).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::arithmetic_side_effects)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

pub mod alphabet;
pub mod answers;
pub mod cache;
pub mod checksum;
pub mod complete;
pub mod credential;
pub mod decision;
pub mod drive;
pub mod engine;
pub mod error;
pub mod expiry;
pub mod format;
pub mod hash;
pub mod headers;
pub mod host;
pub mod ids;
pub mod ip;
pub mod lifecycle;
pub mod load;
pub mod mint;
mod origin;
pub mod parse;
pub mod policy;
pub mod presets;
pub mod proxies;
pub mod random;
pub mod ratelimit;
pub mod record;
pub mod redaction;
pub mod render;
pub mod routes;
pub mod scan;
pub mod scope;
mod scope_template;
pub mod secret;
pub mod timestamp;
pub mod token;
pub mod wire;

pub use alphabet::Alphabet;
pub use answers::{RateLimitHeaders, RateStoreFailure};
pub use cache::{CacheConfig, CacheStats, RecordCache};
pub use checksum::Checksum;
pub use complete::{Action, Completion, MAX_WRITE_TRIES};
pub use credential::{extract, Credential, CredentialMethod, ExtractionConfig};
pub use decision::{Decision, Principal, RateLimitDecision, Warning};
pub use engine::{
    Charged, Engine, EngineConfig, FormatRef, HashingConfig, Outcome, Prepared, RateBucket, RateWrite, Request,
    Settlement, Step, Verification,
};
pub use error::{all_codes, Error, ErrorFamily, ErrorKind, Result};
pub use expiry::{expiry_from_preset, EXPIRY_PRESETS};
pub use format::{CredentialKind, FormatSet, KeyFormat, Layout};
pub use hash::{fingerprint, HashAlgorithm, HashCheck, Hasher, StoredHash};
pub use headers::Headers;
pub use ids::IdStyle;
pub use lifecycle::{RecordUpdate, DEFAULT_ROTATION_GRACE_HOURS};
pub use load::Load;
pub use mint::{mint, mint_with_rules, MintOptions, MintedKey};
pub use origin::OriginPattern;
pub use parse::{parse_key, parse_shared, parse_with, ParsedKey};
pub use policy::{Policy, UnknownRoutes};
pub use proxies::ClientIpConfig;
pub use ratelimit::{
    gcra, is_corrupt, Quota, RateLimitOutcome, RateLimitScope, RateLimitState, UsageLimit, UsageMeter, UsagePeriod,
};
pub use record::{KeyRecord, KeyStatus, NameRules, Owner, Rotation};
pub use routes::{MethodSpec, RouteRateLimit, RouteRule};
pub use scan::{redact, scan, Finding, Scanner};
pub use secret::Secret;
pub use token::{
    AccessClaims, AccessToken, IssuedToken, Jwk, TokenConfig, TokenExchange, TokenOptions, TokenResponse, TokenUse,
};
