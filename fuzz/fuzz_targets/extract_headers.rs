//! Credential extraction alone (`keyproof::extract`) over fuzzed header lists,
//! under several extraction configs built once.
//!
//! Invariants: no panic; errors are credential-family codes; a credential found
//! uses an accepted method, is non-empty, trimmed, free of control characters
//! (bearer tokens: RFC 6750 `b64token`); the result does not change when the
//! headers are cut to `ExtractionConfig::header_names` (what bindings pass
//! across) or when header names change ASCII case.
#![no_main]

use std::sync::OnceLock;

use keyproof::{extract, Credential, CredentialMethod, ErrorFamily, ExtractionConfig, Result};
use keyproof_fuzz::Input;
use libfuzzer_sys::fuzz_target;

fn configs() -> &'static [ExtractionConfig] {
    static CELL: OnceLock<Vec<ExtractionConfig>> = OnceLock::new();
    CELL.get_or_init(|| {
        [
            r#"{}"#,
            r#"{"methods": ["bearer", "basic", "api_key_header", "sdk_token"]}"#,
            r#"{"methods": ["basic"]}"#,
            r#"{"methods": ["api_key_header", "sdk_token"], "api_key_header": "X-Key", "client_id_header": "X-App-Id",
                "sdk_token_header": "X-SDK"}"#,
            r#"{"methods": ["bearer", "api_key_header"], "max_header_bytes": 64}"#,
            r#"{"methods": ["sdk_token", "basic"], "client_id_header": "authorization_id", "max_header_bytes": 65536}"#,
        ]
        .iter()
        .map(|c| ExtractionConfig::from_json(c).expect("valid extraction config"))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = &configs()[input.choose(configs().len())];
    let mut headers: Vec<(String, String)> = Vec::new();
    while let Some(name) = input.next_field() {
        headers.push((name.into_owned(), input.field().into_owned()));
    }
    // Header values longer than the field allows, built from a short input.
    if let Some(i) = (!headers.is_empty()).then(|| input.choose(headers.len())) {
        let times = usize::from(input.u16() % 1024);
        if times > 1 {
            let v = headers[i].1.repeat(times.min(70_000 / headers[i].1.len().max(1)));
            headers[i].1 = v;
        }
    }
    let result = extract(config, &headers);
    match &result {
        Err(e) => assert_eq!(e.kind().family(), ErrorFamily::Credential, "{} from extraction", e.code()),
        Ok(c) => check_credential(config, c),
    }

    // Bindings pass only the headers core reads.
    let names = config.header_names();
    let kept: Vec<&(String, String)> =
        headers.iter().filter(|(n, _)| names.contains(&n.to_ascii_lowercase())).collect();
    let kept: Vec<(&str, &str)> = kept.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    same(&result, &extract(config, &kept), "cut to header_names()");

    // Header names are case-insensitive.
    let upper: Vec<(String, &str)> = headers.iter().map(|(n, v)| (n.to_ascii_uppercase(), v.as_str())).collect();
    same(&result, &extract(config, &upper), "upper-cased names");
});

fn same(a: &Result<Credential>, b: &Result<Credential>, what: &str) {
    match (a, b) {
        (Ok(x), Ok(y)) => assert!(x == y, "{what}: {x:?} vs {y:?}"),
        (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind(), "{what}"),
        _ => panic!("{what}: {:?} vs {:?}", a.as_ref().err().map(|e| e.code()), b.as_ref().err().map(|e| e.code())),
    }
}

fn check_credential(config: &ExtractionConfig, c: &Credential) {
    assert!(config.methods.contains(&c.method), "{:?} is not accepted", c.method);
    let secret = c.secret.expose();
    assert!(!secret.is_empty(), "empty secret");
    assert!(!secret.chars().any(char::is_control), "control character in the secret");
    if let Some(id) = &c.client_id {
        assert!(!id.is_empty() && !id.chars().any(char::is_control), "client id {id:?}");
    }
    match c.method {
        CredentialMethod::Basic => assert!(c.client_id.as_deref().is_some_and(|id| !id.contains(':'))),
        _ => {
            assert_eq!(secret, secret.trim_matches([' ', '\t']), "untrimmed secret");
            assert!(secret.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t'), "non-ASCII secret");
        }
    }
    if c.method == CredentialMethod::Bearer {
        let body = secret.trim_end_matches('=');
        assert!(!body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)));
    }
}
