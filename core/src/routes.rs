//! Route rules, the table they compile to (matchit, a radix-tree router), and
//! the path contract that keeps path tricks (`//`, `..`, `%2f`, `%3F`) from
//! skipping a rule.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::format::CredentialKind;
use crate::scope_template::{Filled, RuleTemplates};

/// Longest request path accepted.
pub const MAX_PATH_BYTES: usize = 2048;

/// Rate-limit settings of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteRateLimit {
    /// Class name: separate buckets and, optionally, separate quotas.
    #[serde(default = "default_class")]
    pub class: String,
    /// Units one request costs.
    #[serde(default = "one")]
    pub cost: u32,
}

fn default_class() -> String {
    "default".into()
}

fn one() -> u32 {
    1
}

impl Default for RouteRateLimit {
    fn default() -> Self {
        Self { class: default_class(), cost: 1 }
    }
}

/// One row of the route table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// `"GET"`, `["GET", "POST"]` or `"*"`.
    pub method: MethodSpec,
    /// Path pattern: `/v1/api-keys/{id}/rotate`, trailing wildcard `/v1/api/**` or `/v1/{*rest}`.
    pub path: String,
    /// Scopes that must all be held. A `{param}` part names a parameter of
    /// `path` and is filled from each request (`projects:{project}:read`):
    /// keys bound to resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<String>,
    /// Scopes of which one must be held (templates as in `all_of`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<String>,
    /// Minimum role: a name from the policy's `roles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Credential kinds allowed; empty means secret, restricted and client_secret keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_kinds: Vec<CredentialKind>,
    /// Feature the key's account must have (seed 004: 400 otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// Rate-limit class and cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RouteRateLimit>,
}

/// Methods a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum MethodSpec {
    /// One method, or `*` for all.
    One(String),
    /// Several methods.
    Many(Vec<String>),
}

impl MethodSpec {
    /// Names `method` explicitly (not through `*`).
    fn names(&self, method: &str) -> bool {
        match self {
            Self::One(m) => m.eq_ignore_ascii_case(method),
            Self::Many(ms) => ms.iter().any(|m| m.eq_ignore_ascii_case(method)),
        }
    }

    fn methods(&self) -> &[String] {
        match self {
            Self::One(m) => std::slice::from_ref(m),
            Self::Many(ms) => ms,
        }
    }

    /// Whether some request method is matched by both specs.
    fn overlaps(&self, other: &MethodSpec) -> bool {
        self.methods().iter().any(|a| other.methods().iter().any(|b| a == "*" || b == "*" || a.eq_ignore_ascii_case(b)))
    }

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
    /// Per rule, its scope templates (`None`: plain scopes, nothing to fill).
    templates: Vec<Option<RuleTemplates>>,
}

/// A templated rule's scopes for one path, out of line: most routes have none,
/// and the request path stays as short as before templates existed.
#[cold]
#[inline(never)]
fn filled(templates: &RuleTemplates, params: &matchit::Params<'_, '_>) -> Box<Filled> {
    Box::new(templates.fill(|name| params.get(name)))
}

/// `GET /v1/x` for error messages.
fn describe(rule: &RouteRule) -> String {
    format!("{} {}", rule.method.methods().join(","), rule.path)
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
        // Grouped by pattern in one pass (a map, not a scan: 100k routes compile in linear time).
        let mut order: Vec<String> = Vec::new();
        let mut grouped: std::collections::HashMap<String, Vec<(MethodSpec, usize)>> = std::collections::HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            if !rule.path.starts_with('/') {
                return Err(Error::new(
                    ErrorKind::InvalidPolicy,
                    format!("route path {:?} must start with '/'", rule.path),
                ));
            }
            let pattern = to_matchit(&rule.path);
            let group = grouped.entry(pattern.clone()).or_insert_with(|| {
                order.push(pattern);
                Vec::new()
            });
            if let Some((_, j)) = group.iter().find(|(m, _)| m.overlaps(&rule.method)) {
                let first = rules.get(*j).map_or(String::new(), describe);
                return Err(Error::new(
                    ErrorKind::InvalidPolicy,
                    format!(
                        "routes overlap: rule {j} ({first}) and rule {i} ({}) match the same requests",
                        describe(rule)
                    ),
                ));
            }
            group.push((rule.method.clone(), i));
        }
        let templates = rules.iter().map(RuleTemplates::of).collect::<Result<Vec<_>>>()?;
        let mut router = matchit::Router::new();
        for pattern in order {
            let methods = grouped.remove(&pattern).unwrap_or_default();
            router
                .insert(pattern.clone(), methods)
                .map_err(|e| Error::new(ErrorKind::InvalidPolicy, format!("route {pattern:?}: {e}")))?;
        }
        Ok(Self { router, rules: rules.to_vec(), templates })
    }

    /// The rule for a normalized path and upper-case method, if any.
    pub fn find(&self, method: &str, path: &str) -> Option<&RouteRule> {
        self.find_index(method, path).and_then(|i| self.rules.get(i))
    }

    /// Index of the rule for a normalized path and method. `HEAD` is governed
    /// by the path's `GET` rule unless a rule names `HEAD` (frameworks answer
    /// HEAD with the GET handler); `OPTIONS` gets no such fallback: it needs a
    /// rule of its own (CORS preflights carry no credentials — answer them
    /// before keyproof).
    pub fn find_index(&self, method: &str, path: &str) -> Option<usize> {
        self.find_filled(method, path).map(|(index, _)| index)
    }

    /// [`RouteTable::find_index`], with the scopes the rule's templates ask of
    /// this path (`None` for a rule without templates: its scopes as written).
    pub(crate) fn find_filled(&self, method: &str, path: &str) -> Option<(usize, Option<Box<Filled>>)> {
        let matched = self.router.at(path).ok()?;
        let index = Self::pick(matched.value, method)?;
        let filled = match self.templates.get(index) {
            Some(Some(templates)) => Some(filled(templates, &matched.params)),
            _ => None,
        };
        Some((index, filled))
    }

    fn pick(rules: &[(MethodSpec, usize)], method: &str) -> Option<usize> {
        let named = |m: &str| rules.iter().find(|(spec, _)| spec.names(m)).map(|(_, i)| *i);
        let any = || rules.iter().find(|(spec, _)| spec.matches(method)).map(|(_, i)| *i);
        match method {
            "HEAD" => named("HEAD").or_else(|| named("GET")).or_else(any),
            _ => named(method).or_else(any),
        }
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
        Err(Error::fixed(ErrorKind::InvalidMethod, "the request method is not an HTTP token"))
    } else if method.bytes().any(|c| c.is_ascii_lowercase()) {
        Ok(std::borrow::Cow::Owned(method.to_ascii_uppercase()))
    } else {
        Ok(std::borrow::Cow::Borrowed(method))
    }
}

/// Normalizes the request target's path as sent on the wire (percent-encoded,
/// e.g. ASGI `raw_path`, WSGI `RAW_URI`): drops the query and fragment at the
/// first literal `?` / `#`, refuses encoded `/ ? # \ NUL` and dots (`%2f %3f
/// %23 %5c %00 %2e`), then percent-decodes once — the path frameworks route
/// on — and refuses control characters, invalid UTF-8, backslashes, empty and
/// dot segments. Drops one trailing slash. A decoded `?` or `#` can therefore
/// never cut the path short of the handler the framework picks.
pub fn normalize_path(path: &str) -> Result<std::borrow::Cow<'_, str>> {
    let invalid = |why: &str| Error::fixed(ErrorKind::InvalidPath, format!("the request path {why}"));
    let end = path.bytes().position(|c| c == b'?' || c == b'#').unwrap_or(path.len());
    let path = path.get(..end).unwrap_or_default();
    if path.len() > MAX_PATH_BYTES {
        return Err(invalid("is too long"));
    }
    if !path.starts_with('/') {
        return Err(invalid("must start with '/'"));
    }
    // One pass: every byte visible ASCII but a backslash, and whether any is `%`.
    let mut escaped = false;
    for c in path.bytes() {
        if !(0x21..0x7f).contains(&c) || c == b'\\' {
            return Err(invalid("has spaces, control, non-ASCII characters or backslashes"));
        }
        escaped |= c == b'%';
    }
    let decoded = if escaped { std::borrow::Cow::Owned(percent_decode(path)?) } else { path.into() };
    let trimmed_len =
        if decoded.len() > 1 && decoded.ends_with('/') { decoded.len().saturating_sub(1) } else { decoded.len() };
    let trimmed = decoded.get(..trimmed_len).unwrap_or_default();
    if trimmed.len() > 1
        && trimmed.as_bytes().split(|&c| c == b'/').skip(1).any(|seg| matches!(seg, b"" | b"." | b".."))
    {
        return Err(invalid("has empty or dot segments"));
    }
    Ok(match decoded {
        std::borrow::Cow::Borrowed(p) => std::borrow::Cow::Borrowed(p.get(..trimmed_len).unwrap_or_default()),
        std::borrow::Cow::Owned(mut p) => {
            p.truncate(trimmed_len);
            std::borrow::Cow::Owned(p)
        }
    })
}

/// Decodes `%XX` escapes once; separators, dots and NUL must stay encoded-free.
fn percent_decode(path: &str) -> Result<String> {
    let invalid = |why: &str| Error::fixed(ErrorKind::InvalidPath, format!("the request path {why}"));
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&c) = bytes.get(i) {
        if c != b'%' {
            out.push(c);
            i = i.saturating_add(1);
            continue;
        }
        let hex = bytes.get(i.saturating_add(1)..i.saturating_add(3)).ok_or_else(|| invalid("has a bad % escape"))?;
        let value = std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| invalid("has a bad % escape"))?;
        if matches!(value, b'/' | b'?' | b'#' | b'\\' | b'.' | 0) {
            return Err(invalid("has an encoded slash, dot, backslash, '?', '#' or NUL"));
        }
        if value < 0x20 || value == 0x7f {
            return Err(invalid("has an encoded control character"));
        }
        out.push(value);
        i = i.saturating_add(3);
    }
    String::from_utf8(out).map_err(|_| invalid("decodes to invalid UTF-8"))
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
    fn templates_are_filled_from_the_matched_parameters() {
        let scoped = |method: &str, path: &str, scope: &str| {
            serde_json::from_value(serde_json::json!({"method": method, "path": path, "all_of": [scope]})).unwrap()
        };
        let table = RouteTable::new(&[
            scoped("GET", "/v1/p{project}.json", "projects:{project}:read"),
            scoped("GET", "/v1/orgs/{org}/projects/{project}", "orgs:{org}:projects:{project}"),
            rule("GET", "/v1/plain/{id}"),
        ])
        .unwrap();
        let need = |path: &str| {
            let (_, filled) = table.find_filled("GET", path).unwrap();
            filled.and_then(|f| f.missing(&[]))
        };
        assert_eq!(need("/v1/p42.json").as_deref(), Some("projects:42:read"));
        assert_eq!(need("/v1/orgs/acme/projects/p_1").as_deref(), Some("orgs:acme:projects:p_1"));
        assert_eq!(need("/v1/plain/x"), None, "a rule without templates fills nothing");
        assert_eq!(table.find_filled("HEAD", "/v1/p7.json").map(|(i, f)| (i, f.is_some())), Some((0, true)));
    }

    #[test]
    fn path_normalization() {
        assert_eq!(normalize_path("/v1/briefs/?x=1").ok().as_deref(), Some("/v1/briefs"));
        assert_eq!(normalize_path("/").ok().as_deref(), Some("/"));
        assert_eq!(normalize_path("/v1/caf%C3%A9/%41").ok().as_deref(), Some("/v1/café/A"));
        assert_eq!(normalize_path("/v1/orgs/acme%20co/").ok().as_deref(), Some("/v1/orgs/acme co"));
        for bad in [
            "v1",
            "/v1//a",
            "/v1/../admin",
            "/v1/./a",
            "/v1/%2e%2e/a",
            "/a%2Fb",
            "/a b",
            "/a\\b",
            "/é",
            "/v1/orgs/acme%3F/billing",
            "/v1/orgs/acme%23/billing",
            "/a%5cb",
            "/a%00",
            "/a%0a",
            "/a%zz",
            "/a%4",
            "/a%ff",
            "/%2E%2E/admin",
        ] {
            assert_eq!(normalize_path(bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidPath), "{bad}");
        }
        assert_eq!(normalize_method("get").ok().as_deref(), Some("GET"));
        assert_eq!(normalize_method("POST").ok().as_deref(), Some("POST"));
        assert!(normalize_method("GE T").is_err());
    }
}
