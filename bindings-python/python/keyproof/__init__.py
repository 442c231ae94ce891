"""keyproof: API-key verification with a Rust core.

Every rule lives in the core; this package converts types and errors. Time and
randomness are injectable (``now=``, ``random_bytes=``) and default to the current
UTC time and ``os.urandom(32)``. Framework integration: ``keyproof.verifier``
(framework-neutral loop over core's verification step), ``keyproof.asgi``
(middleware), ``keyproof.fastapi`` (dependency), ``keyproof.flask`` (extension,
decorator) and ``keyproof.django`` (middleware, DRF authentication); each hands
core the raw request target (``keyproof.wire``).
"""

from __future__ import annotations

from keyproof._keyproof import (
    EXPIRY_PRESETS,
    AccessToken,
    AuthenticationError,
    AuthorizationError,
    Charge,
    ConfigError,
    Credential,
    CredentialError,
    Decision,
    Engine,
    ExtractionConfig,
    Finding,
    Format,
    FormatSet,
    HashCheck,
    Hasher,
    IssuedToken,
    KeyFormatError,
    KeyproofError,
    KeyRecord,
    MintedKey,
    Outcome,
    Owner,
    ParsedKey,
    Policy,
    Prepared,
    Principal,
    Quota,
    RandomnessError,
    RateLimitDecision,
    RateLimitError,
    RateLimitOutcome,
    RateLimitState,
    RateWrite,
    Rotation,
    TokenExchange,
    TokenResponse,
    Verification,
    __version__,
    all_codes,
    ed25519_jwk,
    expiry_from_preset,
    extract,
    fingerprint,
    gcra,
    hs256_jwk,
    inspect_token,
    is_record_id,
    mint,
    parse_key,
    presets,
    redact,
    scan,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads the name)
if TYPE_CHECKING:  # imported on first use (see __getattr__): `import keyproof` stays cheap
    from keyproof.stores import MemoryRateLimitStore, RateLimitStore
    from keyproof.tokens import TokenEndpoint
    from keyproof.verifier import Verifier

#: The pure-Python parts, each imported from its module on first use (PEP 562).
_LAZY = {
    "MemoryRateLimitStore": "keyproof.stores",
    "RateLimitStore": "keyproof.stores",
    "TokenEndpoint": "keyproof.tokens",
    "Verifier": "keyproof.verifier",
}


#: Submodules `import keyproof` used to import eagerly: `keyproof.stores` still works.
_SUBMODULES = ("stores", "tokens", "verifier")


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        return __import__(f"keyproof.{name}", fromlist=("_",))
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'keyproof' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=(name,)), name)
    globals()[name] = value
    return value


__all__ = [
    "EXPIRY_PRESETS",
    "AccessToken",
    "AuthenticationError",
    "AuthorizationError",
    "Charge",
    "ConfigError",
    "Credential",
    "CredentialError",
    "Decision",
    "Engine",
    "ExtractionConfig",
    "Finding",
    "Format",
    "FormatSet",
    "HashCheck",
    "Hasher",
    "IssuedToken",
    "KeyFormatError",
    "KeyRecord",
    "KeyproofError",
    "MemoryRateLimitStore",
    "MintedKey",
    "Outcome",
    "Owner",
    "ParsedKey",
    "Policy",
    "Prepared",
    "Principal",
    "Quota",
    "RandomnessError",
    "RateLimitDecision",
    "RateLimitError",
    "RateLimitOutcome",
    "RateLimitState",
    "RateLimitStore",
    "RateWrite",
    "Rotation",
    "TokenEndpoint",
    "TokenExchange",
    "TokenResponse",
    "Verification",
    "Verifier",
    "__version__",
    "all_codes",
    "ed25519_jwk",
    "expiry_from_preset",
    "extract",
    "fingerprint",
    "gcra",
    "hs256_jwk",
    "inspect_token",
    "is_record_id",
    "mint",
    "parse_key",
    "presets",
    "redact",
    "scan",
]
