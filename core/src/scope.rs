//! Scopes: `resource:action` tokens; `admin` grants everything, `resource:*`
//! grants every action on one resource. A key never gains a scope it does not hold.

use crate::error::{Error, ErrorKind, Result};

/// The scope that grants every other scope (seeds 000 and 001).
pub const ADMIN_SCOPE: &str = "admin";

/// Checks a scope token: 1–128 characters allowed by RFC 6749 §3.3
/// (printable ASCII without space, `"` and `\`).
pub fn validate_scope(scope: &str) -> Result<()> {
    let ok = !scope.is_empty()
        && scope.len() <= 128
        && scope.bytes().all(|c| c == 0x21 || (0x23..=0x5B).contains(&c) || (0x5D..=0x7E).contains(&c));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidScope,
            "scopes are 1-128 printable ASCII characters without spaces, quotes or backslashes",
        ))
    }
}

/// Whether the scopes `held` grant `required`.
pub fn grants(held: &[String], required: &str) -> bool {
    held.iter().any(|h| grants_one(h, required))
}

fn grants_one(held: &str, required: &str) -> bool {
    if held == ADMIN_SCOPE || held == required {
        return true;
    }
    match held.strip_suffix(":*") {
        // `briefs:*` grants `briefs:read` but not `briefs` and not `briefs_x:read`.
        Some(resource) => required
            .strip_prefix(resource)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|action| !action.is_empty()),
        None => false,
    }
}

/// The first scope of `all_of` not granted, or — when none of `any_of` is
/// granted — all of `any_of` joined by spaces. `None` when the key may pass.
/// Long lists are checked through a set, so the cost stays linear.
pub fn missing_scope(held: &[String], all_of: &[String], any_of: &[String]) -> Option<String> {
    let pairs = held.len().saturating_mul(all_of.len().saturating_add(any_of.len()));
    if pairs > 256 {
        let index = HeldIndex::new(held);
        return first_missing(|s: &String| index.grants(s), String::as_str, all_of, any_of);
    }
    first_missing(|s: &String| grants(held, s), String::as_str, all_of, any_of)
}

/// The rule of [`missing_scope`] over any kind of requirement (plain scopes, or
/// filled templates): the first of `all_of` not `granted`, else — when none of
/// `any_of` is — all of `any_of`, each as `shown`, joined by spaces.
pub(crate) fn first_missing<T>(
    granted: impl Fn(&T) -> bool,
    shown: impl Fn(&T) -> &str,
    all_of: &[T],
    any_of: &[T],
) -> Option<String> {
    if let Some(missing) = all_of.iter().find(|s| !granted(s)) {
        return Some(shown(missing).to_string());
    }
    if !any_of.is_empty() && !any_of.iter().any(&granted) {
        return Some(any_of.iter().map(shown).collect::<Vec<_>>().join(" "));
    }
    None
}

/// Held scopes as sets: exact scopes, and the resources of `resource:*` wildcards.
struct HeldIndex<'a> {
    admin: bool,
    exact: std::collections::HashSet<&'a str>,
    wildcard: std::collections::HashSet<&'a str>,
}

impl<'a> HeldIndex<'a> {
    fn new(held: &'a [String]) -> Self {
        Self {
            admin: held.iter().any(|h| h == ADMIN_SCOPE),
            exact: held.iter().map(String::as_str).collect(),
            wildcard: held.iter().filter_map(|h| h.strip_suffix(":*")).collect(),
        }
    }

    fn grants(&self, required: &str) -> bool {
        self.admin
            || self.exact.contains(required)
            || required.match_indices(':').any(|(i, _)| {
                let has_action = required.len() > i.saturating_add(1);
                has_action && required.get(..i).is_some_and(|resource| self.wildcard.contains(resource))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_path_agrees_with_the_scan() {
        let held: Vec<String> =
            (0..300).map(|i| format!("r{i}:read")).chain(["docs:*".into(), "a:b:*".into()]).collect();
        for required in ["r7:read", "r7:write", "docs:read", "docs:", "docs", "a:b:c", "a:b", "a:bc:d", "r299:read"] {
            let want = grants(&held, required);
            assert_eq!(HeldIndex::new(&held).grants(required), want, "{required}");
            let via_set = missing_scope(&held, &[required.to_string()], &[]).is_none();
            assert_eq!(via_set, want, "{required}");
        }
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn admin_and_wildcards() {
        assert!(grants(&v(&["admin"]), "briefs:write"));
        assert!(grants(&v(&["briefs:*"]), "briefs:write"));
        assert!(!grants(&v(&["briefs:*"]), "briefsx:write"));
        assert!(!grants(&v(&["briefs:*"]), "briefs"));
        assert!(!grants(&v(&["briefs:*"]), "matches:read"));
        assert!(!grants(&v(&["briefs:read"]), "briefs:write"));
        assert!(!grants(&v(&["*"]), "briefs:read"));
        assert!(!grants(&[], "briefs:read"));
    }

    #[test]
    fn missing_reports_which() {
        let held = v(&["briefs:read"]);
        assert_eq!(missing_scope(&held, &v(&["briefs:read", "matches:read"]), &[]), Some("matches:read".into()));
        assert_eq!(missing_scope(&held, &[], &v(&["a:b", "c:d"])), Some("a:b c:d".into()));
        assert_eq!(missing_scope(&held, &v(&["briefs:read"]), &v(&["x:y", "briefs:read"])), None);
    }

    #[test]
    fn validation() {
        assert!(validate_scope("briefs:read").is_ok());
        for bad in ["", "a b", "a\"b", "a\\b", "é", &"x".repeat(129)] {
            assert!(validate_scope(bad).is_err(), "{bad}");
        }
    }
}
