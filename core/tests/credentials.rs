//! Credential extraction from request headers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use keyproof::credential::{extract, Credential, CredentialMethod, ExtractionConfig, DEFAULT_MAX_HEADER_BYTES};
use keyproof::{ErrorKind, Result};

const KEY: &str = "kp_live_3AHOVcjqx4BIPWdkry5CJQXelsz6DK2pvSoZ";
const OTHER_KEY: &str = "kp_test_GNUbipw3AHOVcjqx4BIPWdkry5CJQX0ERy6x";

fn all_methods() -> ExtractionConfig {
    ExtractionConfig {
        methods: vec![
            CredentialMethod::Bearer,
            CredentialMethod::ApiKeyHeader,
            CredentialMethod::Basic,
            CredentialMethod::SdkToken,
        ],
        ..ExtractionConfig::default()
    }
}

fn only(method: CredentialMethod) -> ExtractionConfig {
    ExtractionConfig { methods: vec![method], ..ExtractionConfig::default() }
}

fn run(config: &ExtractionConfig, headers: &[(&str, &str)]) -> Result<Credential> {
    extract(config, headers)
}

fn kind(config: &ExtractionConfig, headers: &[(&str, &str)]) -> Option<ErrorKind> {
    run(config, headers).err().map(|e| e.kind())
}

fn ok(config: &ExtractionConfig, headers: &[(&str, &str)]) -> Credential {
    run(config, headers).unwrap_or_else(|e| panic!("{headers:?}: {e}"))
}

#[test]
fn default_config_accepts_bearer_only() {
    let config = ExtractionConfig::default();
    assert!(config.validate().is_ok());
    assert_eq!(config.methods, vec![CredentialMethod::Bearer]);
    assert_eq!(config.max_header_bytes, 4096);
    assert_eq!(DEFAULT_MAX_HEADER_BYTES, 4096);
}

#[test]
fn bearer_scheme_is_case_insensitive_and_tolerates_spaces() {
    let config = ExtractionConfig::default();
    for value in [
        format!("Bearer {KEY}"),
        format!("bearer {KEY}"),
        format!("BEARER {KEY}"),
        format!("bEaReR {KEY}"),
        format!("Bearer    {KEY}"),
        format!("Bearer\t{KEY}"),
        format!("  Bearer {KEY}  "),
        format!("Bearer {KEY}\t"),
    ] {
        let c = ok(&config, &[("Authorization", &value)]);
        assert_eq!(c.method, CredentialMethod::Bearer, "{value:?}");
        assert_eq!(c.secret.expose(), KEY, "{value:?}");
        assert_eq!(c.client_id, None);
    }
}

#[test]
fn header_names_are_case_insensitive() {
    let config = all_methods();
    let bearer = format!("Bearer {KEY}");
    for name in ["authorization", "AUTHORIZATION", "AuThOrIzAtIoN"] {
        assert_eq!(ok(&config, &[(name, &bearer)]).secret.expose(), KEY, "{name}");
    }
    for name in ["x-api-key", "X-API-KEY", "X-Api-Key"] {
        let c = ok(&config, &[(name, KEY)]);
        assert_eq!(c.method, CredentialMethod::ApiKeyHeader, "{name}");
    }
    for name in ["x-sdk-token", "X-SDK-TOKEN"] {
        assert_eq!(ok(&config, &[(name, KEY)]).method, CredentialMethod::SdkToken, "{name}");
    }
    for name in ["x-client-id", "X-CLIENT-ID", "X-Client-Id"] {
        assert_eq!(ok(&config, &[("X-API-KEY", KEY), (name, "client_123")]).client_id.as_deref(), Some("client_123"));
    }
}

#[test]
fn api_key_header_with_client_id() {
    let config = only(CredentialMethod::ApiKeyHeader);
    let c = ok(&config, &[("X-API-KEY", KEY), ("X-CLIENT-ID", "acct_42")]);
    assert_eq!(c.method, CredentialMethod::ApiKeyHeader);
    assert_eq!(c.secret.expose(), KEY);
    assert_eq!(c.client_id.as_deref(), Some("acct_42"));
    // Surrounding whitespace is trimmed from both.
    let c = ok(&config, &[("x-api-key", &format!("  {KEY} ")), ("x-client-id", "\tacct_42 ")]);
    assert_eq!(c.secret.expose(), KEY);
    assert_eq!(c.client_id.as_deref(), Some("acct_42"));
    // Without a client id.
    assert_eq!(ok(&config, &[("X-API-KEY", KEY)]).client_id, None);
}

#[test]
fn custom_header_names() {
    let config = ExtractionConfig {
        methods: vec![CredentialMethod::ApiKeyHeader],
        api_key_header: "X-Matcraft-Key".into(),
        ..ExtractionConfig::default()
    };
    assert!(config.validate().is_ok());
    assert_eq!(ok(&config, &[("x-matcraft-key", KEY)]).secret.expose(), KEY);
    assert_eq!(kind(&config, &[("X-API-KEY", KEY)]), Some(ErrorKind::MissingCredentials));
}

#[test]
fn basic_credentials() {
    let config = only(CredentialMethod::Basic);
    // python3 -c 'import base64; print(base64.b64encode(b"client_abc:s3cr3t-value").decode())'
    let c = ok(&config, &[("Authorization", "Basic Y2xpZW50X2FiYzpzM2NyM3QtdmFsdWU=")]);
    assert_eq!(c.method, CredentialMethod::Basic);
    assert_eq!(c.client_id.as_deref(), Some("client_abc"));
    assert_eq!(c.secret.expose(), "s3cr3t-value");
    // Scheme is case-insensitive.
    let c = ok(&config, &[("authorization", "basic   Y2xpZW50X2FiYzpzM2NyM3QtdmFsdWU=")]);
    assert_eq!(c.secret.expose(), "s3cr3t-value");
    // Only the first ':' separates: b"id:se:cret".
    let c = ok(&config, &[("Authorization", "Basic aWQ6c2U6Y3JldA==")]);
    assert_eq!((c.client_id.as_deref(), c.secret.expose()), (Some("id"), "se:cret"));
    // A matching client id header is fine, a different one conflicts.
    let basic = "Basic Y2xpZW50X2FiYzpzM2NyM3QtdmFsdWU=";
    assert!(run(&config, &[("Authorization", basic), ("X-Client-Id", "client_abc")]).is_ok());
    assert_eq!(
        kind(&config, &[("Authorization", basic), ("X-Client-Id", "client_xyz")]),
        Some(ErrorKind::ConflictingCredentials)
    );
}

#[test]
fn bad_basic_credentials() {
    let config = only(CredentialMethod::Basic);
    for (value, why) in [
        ("Basic !!!notbase64!!!", "not base64"),
        ("Basic Y2xpZW50X2FiYzpzM2NyM3QtdmFsdWU", "missing padding"),
        ("Basic bm8tY29sb24taGVyZQ==", "b\"no-colon-here\""),
        ("Basic OnNlY3JldA==", "b\":secret\": empty id"),
        ("Basic aWQ6", "b\"id:\": empty secret"),
        ("Basic //46/w==", "b\"\\xff\\xfe:\\xff\": not UTF-8"),
        ("Basic aWQ6YQFi", "b\"id:a\\x01b\": control character"),
    ] {
        assert_eq!(kind(&config, &[("Authorization", value)]), Some(ErrorKind::InvalidBasicCredentials), "{why}");
    }
    assert_eq!(kind(&config, &[("Authorization", "Basic")]), Some(ErrorKind::EmptyToken));
    assert_eq!(kind(&config, &[("Authorization", "Basic   ")]), Some(ErrorKind::EmptyToken));
}

#[test]
fn sdk_token() {
    let config = only(CredentialMethod::SdkToken);
    let c = ok(&config, &[("X-SDK-TOKEN", KEY)]);
    assert_eq!(c.method, CredentialMethod::SdkToken);
    assert_eq!(c.secret.expose(), KEY);
    let c = ok(&config, &[("X-SDK-TOKEN", KEY), ("X-CLIENT-ID", "acct_1")]);
    assert_eq!(c.client_id.as_deref(), Some("acct_1"));
}

#[test]
fn missing_credentials() {
    let config = all_methods();
    let empty: [(&str, &str); 0] = [];
    assert_eq!(kind(&config, &empty), Some(ErrorKind::MissingCredentials));
    assert_eq!(
        kind(&config, &[("Content-Type", "application/json"), ("X-Api-Keys", KEY), ("Cookie", KEY)]),
        Some(ErrorKind::MissingCredentials)
    );
    // A client id alone is no credential.
    assert_eq!(kind(&config, &[("X-CLIENT-ID", "acct_1")]), Some(ErrorKind::MissingCredentials));
    // An Authorization scheme nobody accepts.
    assert_eq!(kind(&config, &[("Authorization", &format!("Token {KEY}"))]), Some(ErrorKind::MissingCredentials));
}

#[test]
fn unaccepted_methods_are_ignored() {
    let bearer_only = ExtractionConfig::default();
    for headers in [
        vec![("X-API-KEY", KEY)],
        vec![("X-SDK-TOKEN", KEY)],
        vec![("Authorization", "Basic Y2xpZW50X2FiYzpzM2NyM3QtdmFsdWU=")],
    ] {
        assert_eq!(kind(&bearer_only, &headers), Some(ErrorKind::MissingCredentials), "{headers:?}");
    }
    // An ignored header does not conflict with the accepted one, even if different.
    let bearer = format!("Bearer {KEY}");
    let c = ok(&bearer_only, &[("Authorization", &bearer), ("X-API-KEY", OTHER_KEY), ("X-SDK-TOKEN", OTHER_KEY)]);
    assert_eq!(c.secret.expose(), KEY);
    // Nor is an ignored header checked for duplicates.
    assert!(run(&bearer_only, &[("Authorization", &bearer), ("X-API-KEY", "a"), ("X-API-KEY", "b")]).is_ok());
    // Bearer not accepted: an Authorization: Bearer is ignored.
    let api_only = only(CredentialMethod::ApiKeyHeader);
    assert_eq!(kind(&api_only, &[("Authorization", &bearer)]), Some(ErrorKind::MissingCredentials));
    let c = ok(&api_only, &[("Authorization", &format!("Bearer {OTHER_KEY}")), ("X-API-KEY", KEY)]);
    assert_eq!(c.secret.expose(), KEY);
}

#[test]
fn conflicting_credentials() {
    let config = all_methods();
    let bearer = format!("Bearer {KEY}");
    for headers in [
        vec![("Authorization", bearer.as_str()), ("X-API-KEY", OTHER_KEY)],
        vec![("Authorization", bearer.as_str()), ("X-SDK-TOKEN", OTHER_KEY)],
        vec![("X-API-KEY", KEY), ("X-SDK-TOKEN", OTHER_KEY)],
        vec![("Authorization", "Basic Y2xpZW50X2FiYzpzM2NyM3QtdmFsdWU="), ("X-API-KEY", KEY)],
    ] {
        assert_eq!(kind(&config, &headers), Some(ErrorKind::ConflictingCredentials), "{headers:?}");
    }
}

#[test]
fn the_same_credential_twice_is_fine() {
    let config = all_methods();
    let bearer = format!("Bearer {KEY}");
    let c = ok(&config, &[("Authorization", &bearer), ("X-API-KEY", KEY)]);
    assert_eq!(c.secret.expose(), KEY);
    let c = ok(&config, &[("X-API-KEY", KEY), ("Authorization", &bearer), ("X-SDK-TOKEN", KEY)]);
    assert_eq!(c.secret.expose(), KEY);
    let c = ok(&config, &[("Authorization", &bearer), ("X-API-KEY", KEY), ("X-Client-Id", "acct_9")]);
    assert_eq!(c.client_id.as_deref(), Some("acct_9"));
}

#[test]
fn duplicated_headers() {
    let config = all_methods();
    let bearer = format!("Bearer {KEY}");
    for headers in [
        vec![("Authorization", bearer.as_str()), ("authorization", bearer.as_str())],
        vec![("X-API-KEY", KEY), ("x-api-key", KEY)],
        vec![("X-SDK-TOKEN", KEY), ("X-SDK-TOKEN", OTHER_KEY)],
        vec![("X-API-KEY", KEY), ("X-CLIENT-ID", "a"), ("X-Client-Id", "a")],
    ] {
        assert_eq!(kind(&config, &headers), Some(ErrorKind::DuplicateHeader), "{headers:?}");
    }
}

#[test]
fn empty_tokens() {
    let config = all_methods();
    for headers in [
        vec![("Authorization", "Bearer")],
        vec![("Authorization", "Bearer ")],
        vec![("Authorization", "Bearer \t  ")],
        vec![("X-API-KEY", "")],
        vec![("X-API-KEY", "   ")],
        vec![("X-SDK-TOKEN", "")],
        vec![("X-API-KEY", KEY), ("X-CLIENT-ID", "")],
    ] {
        assert_eq!(kind(&config, &headers), Some(ErrorKind::EmptyToken), "{headers:?}");
    }
}

#[test]
fn bearer_tokens_follow_rfc_6750() {
    let config = ExtractionConfig::default();
    for token in ["abc def", "abc,def", "a\"b", "==", "a=b"] {
        let value = format!("Bearer {token}");
        assert_eq!(kind(&config, &[("Authorization", &value)]), Some(ErrorKind::MalformedAuthorization), "{token}");
    }
    for token in ["abc-._~+/", "abc==", "A"] {
        let value = format!("Bearer {token}");
        assert_eq!(ok(&config, &[("Authorization", &value)]).secret.expose(), token);
    }
}

#[test]
fn control_and_non_ascii_characters_are_invalid() {
    let config = all_methods();
    for bad in [
        format!("Bearer {KEY}\r\nX-Evil: 1"),
        format!("Bearer {KEY}\n"),
        format!("Bearer {KEY}\0"),
        format!("Bearer \x01{KEY}"),
        format!("Bearer {KEY}\x7f"),
        format!("Bearer {KEY}é"),
        format!("Bearer {KEY}\u{2028}"),
    ] {
        assert_eq!(kind(&config, &[("Authorization", &bad)]), Some(ErrorKind::InvalidHeaderValue), "{bad:?}");
        // The same value in other credential headers.
        let raw = bad.trim_start_matches("Bearer ");
        assert_eq!(kind(&config, &[("X-API-KEY", raw)]), Some(ErrorKind::InvalidHeaderValue), "{raw:?}");
        assert_eq!(kind(&config, &[("X-SDK-TOKEN", raw)]), Some(ErrorKind::InvalidHeaderValue), "{raw:?}");
        assert_eq!(
            kind(&config, &[("X-API-KEY", KEY), ("X-CLIENT-ID", raw)]),
            Some(ErrorKind::InvalidHeaderValue),
            "{raw:?}"
        );
    }
}

#[test]
fn oversized_headers() {
    let config = all_methods();
    let at_limit = "a".repeat(4096);
    let over = "a".repeat(4097);
    assert_eq!(ok(&config, &[("X-API-KEY", &at_limit)]).secret.len(), 4096);
    assert_eq!(kind(&config, &[("X-API-KEY", &over)]), Some(ErrorKind::HeaderTooLarge));
    assert_eq!(kind(&config, &[("Authorization", &format!("Bearer {over}"))]), Some(ErrorKind::HeaderTooLarge));
    assert_eq!(kind(&config, &[("X-SDK-TOKEN", &over)]), Some(ErrorKind::HeaderTooLarge));
    assert_eq!(kind(&config, &[("X-API-KEY", KEY), ("X-CLIENT-ID", &over)]), Some(ErrorKind::HeaderTooLarge));
    // The size check comes before the character check.
    let over_bad = format!("{over}\n");
    assert_eq!(kind(&config, &[("X-API-KEY", &over_bad)]), Some(ErrorKind::HeaderTooLarge));

    let small = ExtractionConfig { max_header_bytes: 100, ..all_methods() };
    assert!(small.validate().is_ok());
    assert_eq!(ok(&small, &[("X-API-KEY", &"k".repeat(100))]).secret.len(), 100);
    assert_eq!(kind(&small, &[("X-API-KEY", &"k".repeat(101))]), Some(ErrorKind::HeaderTooLarge));
    // `Bearer ` counts towards the limit.
    assert_eq!(
        kind(&small, &[("Authorization", &format!("Bearer {}", "k".repeat(94)))]),
        Some(ErrorKind::HeaderTooLarge)
    );
    assert!(run(&small, &[("Authorization", &format!("Bearer {}", "k".repeat(93)))]).is_ok());
    // A limit outside 64-65536 is an invalid configuration.
    for bad in [0, 63, 65537] {
        let config = ExtractionConfig { max_header_bytes: bad, ..ExtractionConfig::default() };
        assert_eq!(config.validate().err().map(|e| e.kind()), Some(ErrorKind::InvalidPolicy), "{bad}");
    }
}

#[test]
fn invalid_configurations() {
    let none = ExtractionConfig { methods: vec![], ..ExtractionConfig::default() };
    assert_eq!(none.validate().err().map(|e| e.kind()), Some(ErrorKind::InvalidPolicy));
    for name in ["", "x api key", "x:api", "é"] {
        let config = ExtractionConfig { api_key_header: name.into(), ..ExtractionConfig::default() };
        assert_eq!(config.validate().err().map(|e| e.kind()), Some(ErrorKind::InvalidPolicy), "{name:?}");
    }
}

#[test]
fn debug_never_shows_the_secret() {
    let config = all_methods();
    let bearer = format!("Bearer {KEY}");
    let body = &KEY["kp_live_".len()..];
    let credentials = [
        ok(&config, &[("Authorization", bearer.as_str())]),
        ok(&config, &[("X-API-KEY", KEY), ("X-CLIENT-ID", "acct_1")]),
        ok(&config, &[("X-SDK-TOKEN", KEY)]),
        ok(&config, &[("Authorization", "Basic Y2xpZW50X2FiYzpzM2NyM3QtdmFsdWU=")]),
    ];
    for c in &credentials {
        for text in [format!("{c:?}"), format!("{c:#?}"), format!("{:?}", c.secret), format!("{}", c.secret)] {
            assert!(!text.contains(body), "{text}");
            assert!(!text.contains("s3cr3t-value"), "{text}");
        }
    }
    // The public client id may be shown.
    assert!(format!("{:?}", credentials[1]).contains("acct_1"));
}

#[test]
fn errors_never_echo_the_secret() {
    let config = all_methods();
    let bearer = format!("Bearer {KEY}");
    let errors = [
        run(&config, &[("Authorization", bearer.as_str()), ("X-API-KEY", OTHER_KEY)]),
        run(&config, &[("Authorization", bearer.as_str()), ("Authorization", bearer.as_str())]),
        run(&config, &[("X-API-KEY", &format!("{KEY}\n"))]),
        run(&config, &[("Authorization", &format!("Bearer {KEY},x"))]),
    ];
    for e in errors {
        let e = e.err().unwrap();
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains(&KEY[8..]) && !text.contains(&OTHER_KEY[8..]), "{text}");
        }
    }
}

#[test]
fn an_authorization_header_is_ignored_when_no_authorization_method_is_accepted() {
    let api_only = only(CredentialMethod::ApiKeyHeader);
    // e.g. a gateway's session JWT, larger than the 4 KiB credential limit.
    let jwt = format!("Bearer {}", "e".repeat(5000));
    let c = run(&api_only, &[("Authorization", jwt.as_str()), ("X-API-KEY", KEY)]);
    assert_eq!(c.map(|c| c.secret.expose().to_string()).ok().as_deref(), Some(KEY));
    let twice = [("Authorization", "Bearer a"), ("Authorization", "Bearer b"), ("X-API-KEY", KEY)];
    assert_eq!(run(&api_only, &twice).map(|c| c.method).ok(), Some(CredentialMethod::ApiKeyHeader));
}

#[test]
fn header_names_list_what_extraction_reads() {
    let config = keyproof::ExtractionConfig::from_json(
        r#"{"methods": ["bearer", "api_key_header"], "api_key_header": "X-Key"}"#,
    )
    .unwrap();
    assert_eq!(config.header_names(), ["authorization", "x-key", "x-client-id"]);
    let sdk = keyproof::ExtractionConfig::from_json(r#"{"methods": ["sdk_token"]}"#).unwrap();
    assert_eq!(sdk.header_names(), ["x-client-id", "x-sdk-token"]);
    // reads_header answers the same question for one name, in any case.
    for name in ["authorization", "X-KEY", "x-Client-Id"] {
        assert!(config.reads_header(name), "{name}");
    }
    for name in ["x-sdk-token", "x-api-key", "host", "authorizations"] {
        assert!(!config.reads_header(name), "{name}");
    }
    assert!(sdk.reads_header("X-SDK-Token") && !sdk.reads_header("Authorization"));
    // Headers outside the list change nothing.
    let key = "kp_live_hL07WIAUqDgXwre6jJgREro4mszkS12RDewB";
    let with_junk = [("Authorization", format!("Bearer {key}")), ("X-Other", "x".into())];
    let only_read = [("Authorization", format!("Bearer {key}"))];
    assert_eq!(keyproof::extract(&config, &with_junk), keyproof::extract(&config, &only_read));
}
