//! The route table, compiled with matchit (a radix-tree router), and the
//! normalization that keeps path tricks (`//`, `..`, `%2f`) from skipping a rule.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::policy::RouteRule;

/// Longest request path accepted.
pub const MAX_PATH_BYTES: usize = 2048;

/// Methods a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MethodSpec {
    /// One method, or `*` for all.
    One(String),
    /// Several methods.
    Many(Vec<String>),
}

impl MethodSpec {
    fn matches(&self, method: &str) -> bool {
        match self {
            Self::One(m) => m == "*" || m.eq_ignore_ascii_case(method),
            Self::Many(ms) => ms.iter().any(|m| m == "*" || m.eq_ignore_ascii_case(method)),
        }
    }
}

/// Compiled routes: one matchit router of path → rules for that path.
#[derive(Clone, Debug)]
pub struct RouteTable {
    router: matchit::Router<Vec<(MethodSpec, usize)>>,
    rules: Vec<RouteRule>,
}

/// Turns `/a/**` or `/a/*` into matchit's catch-all `/a/{*rest}`.
fn to_matchit(path: &str) -> String {
    for suffix in ["/**", "/*"] {
        if let Some(base) = path.strip_suffix(suffix) {
            return format!("{base}/{{*rest}}");
        }
    }
    path.to_string()
}

impl RouteTable {
    /// Compiles rules; overlapping or malformed patterns are policy errors.
    pub fn new(rules: &[RouteRule]) -> Result<Self> {
        let mut grouped: Vec<(String, Vec<(MethodSpec, usize)>)> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if !rule.path.starts_with('/') {
                return Err(Error::new(
                    ErrorKind::InvalidPolicy,
                    format!("route path {:?} must start with '/'", rule.path),
                ));
            }
            let pattern = to_matchit(&rule.path);
            match grouped.iter_mut().find(|(p, _)| *p == pattern) {
                Some((_, v)) => v.push((rule.method.clone(), i)),
                None => grouped.push((pattern, vec![(rule.method.clone(), i)])),
            }
        }
        let mut router = matchit::Router::new();
        for (pattern, methods) in grouped {
            router
                .insert(pattern.clone(), methods)
                .map_err(|e| Error::new(ErrorKind::InvalidPolicy, format!("route {pattern:?}: {e}")))?;
        }
        Ok(Self { router, rules: rules.to_vec() })
    }

    /// The rule for a normalized path and upper-case method, if any.
    pub fn find(&self, method: &str, path: &str) -> Option<&RouteRule> {
        self.find_index(method, path).and_then(|i| self.rules.get(i))
    }

    /// Index of the rule for a normalized path and method.
    pub fn find_index(&self, method: &str, path: &str) -> Option<usize> {
        let matched = self.router.at(path).ok()?;
        matched.value.iter().find(|(m, _)| m.matches(method)).map(|(_, i)| *i)
    }

    /// The rule at `index`.
    pub fn rule(&self, index: usize) -> Option<&RouteRule> {
        self.rules.get(index)
    }
}

/// Normalizes a request method: an HTTP token, upper-cased (borrowed when it already is).
pub fn normalize_method(method: &str) -> Result<std::borrow::Cow<'_, str>> {
    let ok = !method.is_empty()
        && method.len() <= 32
        && method.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c));
    if !ok {
        Err(Error::new(ErrorKind::InvalidMethod, "the request method is not an HTTP token"))
    } else if method.bytes().any(|c| c.is_ascii_lowercase()) {
        Ok(std::borrow::Cow::Owned(method.to_ascii_uppercase()))
    } else {
        Ok(std::borrow::Cow::Borrowed(method))
    }
}

/// Normalizes a request path: drops the query, refuses dot segments, empty
/// segments, encoded slashes/dots/backslashes and control characters (so a
/// route rule cannot be dodged), and drops one trailing slash.
pub fn normalize_path(path: &str) -> Result<&str> {
    let invalid = |why: &str| Error::new(ErrorKind::InvalidPath, format!("the request path {why}"));
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if path.len() > MAX_PATH_BYTES {
        return Err(invalid("is too long"));
    }
    if !path.starts_with('/') {
        return Err(invalid("must start with '/'"));
    }
    if !path.bytes().all(|c| (0x21..0x7f).contains(&c) && c != b'\\') {
        return Err(invalid("has spaces, control, non-ASCII characters or backslashes"));
    }
    let encoded_separator = path.match_indices('%').any(|(i, _)| {
        let hex = path.get(i + 1..i + 3).unwrap_or_default().to_ascii_lowercase();
        matches!(hex.as_str(), "2f" | "2e" | "5c" | "00")
    });
    if encoded_separator {
        return Err(invalid("has an encoded slash, dot, backslash or NUL"));
    }
    let trimmed = if path.len() > 1 { path.strip_suffix('/').unwrap_or(path) } else { path };
    if trimmed.len() > 1 && trimmed.split('/').skip(1).any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err(invalid("has empty or dot segments"));
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(method: &str, path: &str) -> RouteRule {
        serde_json::from_value(serde_json::json!({"method": method, "path": path})).unwrap()
    }

    #[test]
    fn params_wildcards_and_methods() {
        let table = RouteTable::new(&[
            rule("POST", "/v1/api-keys/{id}/rotate"),
            rule("GET", "/v1/api/**"),
            rule("*", "/v1/api/sdk/session"),
            rule("GET", "/v1/briefs"),
        ])
        .unwrap();
        assert_eq!(
            table.find("POST", "/v1/api-keys/key_1/rotate").map(|r| r.path.as_str()),
            Some("/v1/api-keys/{id}/rotate")
        );
        assert!(table.find("GET", "/v1/api-keys/key_1/rotate").is_none());
        assert_eq!(table.find("GET", "/v1/api/verify/x").map(|r| r.path.as_str()), Some("/v1/api/**"));
        assert_eq!(table.find("DELETE", "/v1/api/sdk/session").map(|r| r.path.as_str()), Some("/v1/api/sdk/session"));
        assert!(table.find("GET", "/v1/briefsx").is_none());
    }

    #[test]
    fn path_normalization() {
        assert_eq!(normalize_path("/v1/briefs/?x=1").ok(), Some("/v1/briefs"));
        assert_eq!(normalize_path("/").ok(), Some("/"));
        for bad in ["v1", "/v1//a", "/v1/../admin", "/v1/./a", "/v1/%2e%2e/a", "/a%2Fb", "/a b", "/a\\b", "/é"] {
            assert_eq!(normalize_path(bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidPath), "{bad}");
        }
        assert_eq!(normalize_method("get").ok().as_deref(), Some("GET"));
        assert_eq!(normalize_method("POST").ok().as_deref(), Some("POST"));
        assert!(normalize_method("GE T").is_err());
    }
}
