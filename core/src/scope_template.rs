//! Scope templates: resource-bound keys. A route scope may name a path
//! parameter of its rule (`projects:{project}:read` on
//! `/v1/projects/{project}/briefs`); each request fills it with the value the
//! path carries, so a key holding `projects:p_1:read` opens project `p_1` only
//! (a key holding `projects:*` or `admin` opens every project, as for any scope).
//!
//! Rules, checked when the policy compiles (`invalid_policy` otherwise): a
//! placeholder is a whole `:`-separated part of the scope, names a parameter of
//! the rule's path (not a catch-all), and the scope's first part is literal, so
//! a template can only ever ask for scopes of its own resource. A value that
//! cannot sit in a scope (`:`, `*`, spaces, quotes, non-ASCII, too long) asks
//! for a scope no key holds: only `admin` and the resource's wildcard grant it,
//! and the denial names the template, never the value.

use crate::error::{Error, ErrorKind, Result};
use crate::routes::RouteRule;
use crate::scope::{first_missing, grants, validate_scope};

/// One part of a scope between `:` separators.
#[derive(Clone, Debug)]
enum Part {
    Literal(String),
    Param(String),
}

/// One scope of a templated rule, split at `:` (a plain scope is all literal parts).
#[derive(Clone, Debug)]
struct Template {
    text: String,
    parts: Vec<Part>,
}

/// A rule's scopes with their templates parsed (plain scopes are one literal part).
#[derive(Clone, Debug)]
pub(crate) struct RuleTemplates {
    all_of: Vec<Template>,
    any_of: Vec<Template>,
}

/// A scope a request needs once its templates are filled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// A scope, as a key would hold it.
    Scope(String),
    /// A template whose value cannot sit in a scope: no key holds the filled
    /// scope; shown (in the denial) as the template itself.
    Unfillable(String),
}

impl Need {
    /// What a denial names as missing.
    fn shown(&self) -> &str {
        match self {
            Self::Scope(s) | Self::Unfillable(s) => s,
        }
    }

    /// Whether the scopes `held` grant this need. An unfillable template is
    /// granted by what grants its resource as a whole (`admin`, `projects:*`),
    /// never by a key holding the template's text itself.
    fn granted_by(&self, held: &[String]) -> bool {
        match self {
            Self::Scope(s) => grants(held, s),
            Self::Unfillable(t) => held.iter().any(|h| h != t && grants(std::slice::from_ref(h), t)),
        }
    }
}

/// The scopes one request needs: its rule's templates filled from its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Filled {
    all_of: Vec<Need>,
    any_of: Vec<Need>,
}

impl Filled {
    /// The first need of `all_of` not granted, or — when none of `any_of` is
    /// granted — all of `any_of` joined by spaces (as [`crate::scope::missing_scope`]).
    pub(crate) fn missing(&self, held: &[String]) -> Option<String> {
        first_missing(|n: &Need| n.granted_by(held), Need::shown, &self.all_of, &self.any_of)
    }
}

/// The named (not catch-all) parameters of a matchit route path.
fn path_params(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.starts_with('*') && !name.is_empty())
        .collect()
}

impl RuleTemplates {
    /// The templates of `rule`, `None` when none of its scopes names a parameter.
    pub(crate) fn of(rule: &RouteRule) -> Result<Option<Self>> {
        if !rule.all_of.iter().chain(&rule.any_of).any(|s| s.contains(['{', '}'])) {
            return Ok(None);
        }
        let params = path_params(&rule.path);
        let parse =
            |scopes: &[String]| scopes.iter().map(|s| Template::parse(s, &params, rule)).collect::<Result<Vec<_>>>();
        Ok(Some(Self { all_of: parse(&rule.all_of)?, any_of: parse(&rule.any_of)? }))
    }

    /// The scopes a request needs, given how to read a path parameter's value.
    pub(crate) fn fill<'v>(&self, param: impl Fn(&str) -> Option<&'v str>) -> Filled {
        let fill = |ts: &[Template]| ts.iter().map(|t| t.fill(&param)).collect();
        Filled { all_of: fill(&self.all_of), any_of: fill(&self.any_of) }
    }
}

impl Template {
    fn parse(scope: &str, params: &[&str], rule: &RouteRule) -> Result<Self> {
        let refuse = |why: &str| {
            Error::new(ErrorKind::InvalidPolicy, format!("route {}: scope template {scope:?} {why}", rule.path))
        };
        let parts = scope
            .split(':')
            .enumerate()
            .map(|(i, part)| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                _ if !part.contains(['{', '}']) => Ok(Part::Literal(part.to_string())),
                Some(name) if i == 0 => Err(refuse(&format!("starts with {{{name}}}: its first part must be literal"))),
                Some(name) if params.contains(&name) => Ok(Part::Param(name.to_string())),
                Some(name) => Err(refuse(&format!("names {{{name}}}, which is no parameter of the path"))),
                None => Err(refuse("has a brace that is not a whole `{name}` part between colons")),
            })
            .collect::<Result<_>>()?;
        Ok(Self { text: scope.to_string(), parts })
    }

    fn fill<'v>(&self, param: &impl Fn(&str) -> Option<&'v str>) -> Need {
        let mut filled = String::with_capacity(self.text.len());
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                filled.push(':');
            }
            match part {
                Part::Literal(text) => filled.push_str(text),
                Part::Param(name) => match param(name).filter(|v| fits(v)) {
                    Some(value) => filled.push_str(value),
                    None => return Need::Unfillable(self.text.clone()),
                },
            }
        }
        match validate_scope(&filled) {
            Ok(()) => Need::Scope(filled),
            Err(_) => Need::Unfillable(self.text.clone()),
        }
    }
}

/// Whether a path value can fill a placeholder: scope characters, but no `:`
/// (it would move the scope's parts) and no `*` (a wildcard's meaning).
fn fits(value: &str) -> bool {
    !value.is_empty() && validate_scope(value).is_ok() && !value.contains([':', '*'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, all_of: &[&str], any_of: &[&str]) -> RouteRule {
        let (all_of, any_of): (Vec<_>, Vec<_>) = (all_of.to_vec(), any_of.to_vec());
        let rule = serde_json::json!({"method": "GET", "path": path, "all_of": all_of, "any_of": any_of});
        serde_json::from_value(rule).unwrap()
    }

    fn held(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| s.to_string()).collect()
    }

    fn filled(rule: &RouteRule, value: &str) -> Filled {
        let templates = RuleTemplates::of(rule).ok().flatten();
        templates.map(|t| t.fill(|_| Some(value))).unwrap_or(Filled { all_of: vec![], any_of: vec![] })
    }

    #[test]
    fn a_template_is_filled_from_the_path() {
        let r = rule("/v1/projects/{project}/briefs", &["projects:{project}:read"], &[]);
        let f = filled(&r, "p_1");
        assert_eq!(f.missing(&held(&["projects:p_1:read"])), None);
        assert_eq!(f.missing(&held(&["projects:p_2:read"])).as_deref(), Some("projects:p_1:read"));
        assert_eq!(f.missing(&held(&["projects:*"])), None);
        assert_eq!(f.missing(&held(&["admin"])), None);
    }

    #[test]
    fn a_value_that_cannot_sit_in_a_scope_is_granted_only_as_a_whole() {
        let r = rule("/v1/projects/{project}", &["projects:{project}:read"], &[]);
        for value in ["a:b", "*", "a b", "é", "a\"b", &"x".repeat(200)] {
            let f = filled(&r, value);
            assert_eq!(f.missing(&held(&["projects:{project}:read"])).as_deref(), Some("projects:{project}:read"));
            assert_eq!(
                f.missing(&held(&["projects:a:read", "projects:b:read"])).as_deref(),
                Some("projects:{project}:read")
            );
            assert_eq!(f.missing(&held(&["projects:*"])), None, "{value}");
            assert_eq!(f.missing(&held(&["admin"])), None, "{value}");
        }
    }

    #[test]
    fn any_of_mixes_templates_and_plain_scopes() {
        let r = rule("/v1/projects/{project}", &[], &["projects:{project}:read", "projects:read"]);
        let f = filled(&r, "p_1");
        assert_eq!(f.missing(&held(&["projects:read"])), None);
        assert_eq!(f.missing(&held(&["projects:p_1:read"])), None);
        assert_eq!(f.missing(&held(&["projects:p_9:read"])).as_deref(), Some("projects:p_1:read projects:read"));
    }

    #[test]
    fn bad_templates_are_refused() {
        for (path, scope) in [
            ("/v1/{project}", "{project}:read"),
            ("/v1/{project}", "projects:{other}:read"),
            ("/v1/{*rest}", "files:{rest}"),
            ("/v1/{project}", "projects:p-{project}"),
            ("/v1/{project}", "projects:{project"),
            ("/v1/{project}", "projects:}"),
        ] {
            let e = RuleTemplates::of(&rule(path, &[scope], &[])).err().map(|e| e.kind());
            assert_eq!(e, Some(ErrorKind::InvalidPolicy), "{path} {scope}");
        }
        assert!(RuleTemplates::of(&rule("/v1/{project}", &["projects:read"], &[])).is_ok_and(|t| t.is_none()));
        assert!(RuleTemplates::of(&rule("/v1/p{project}.json", &["p:{project}"], &[])).is_ok_and(|t| t.is_some()));
    }
}
