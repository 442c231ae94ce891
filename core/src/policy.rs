//! Declarative policy (JSON): deployment environment, accepted credentials,
//! route table, roles, plans and rate-limit classes. Validated and compiled once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answers::{RateLimitHeaders, RateStoreFailure};
use crate::credential::ExtractionConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::format::CredentialKind;
use crate::proxies::ClientIpConfig;
use crate::ratelimit::Quota;
use crate::record::NameRules;
use crate::routes::{RouteRule, RouteTable};
use crate::scope::validate_scope;

/// What to do with a request whose route the table does not name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownRoutes {
    /// Deny with `route_not_allowed` (403). Fail closed: the default.
    #[default]
    Deny,
    /// Authenticate the key (and rate limit it) but require no scope or role.
    Authenticate,
}

/// Kinds a route accepts when it names none: secret and restricted keys only.
/// Client secrets, SDK tokens and publishable keys reach only routes that name
/// them (a long-lived client secret must not call every API by default).
pub const DEFAULT_CREDENTIAL_KINDS: &[CredentialKind] = &[CredentialKind::Secret, CredentialKind::Restricted];

/// A deployment's policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// `realm` of the `WWW-Authenticate` challenge.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Key environments this deployment accepts (`["live"]`); empty accepts all.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Accepted credential methods and header names.
    #[serde(default)]
    pub credentials: ExtractionConfig,
    /// Every request must carry a client id (seed 004).
    #[serde(default)]
    pub require_client_id: bool,
    /// Requests to routes the table does not name.
    #[serde(default)]
    pub unknown_routes: UnknownRoutes,
    /// The route table.
    #[serde(default)]
    pub routes: Vec<RouteRule>,
    /// Roles from least to most privileged (`["member", "admin"]`); a route's role
    /// admits that role and every later one. Empty: roles must match exactly.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Quota per plan for the `default` class.
    #[serde(default)]
    pub plans: BTreeMap<String, Quota>,
    /// Quotas per plan for other classes.
    #[serde(default)]
    pub rate_limit_classes: BTreeMap<String, BTreeMap<String, Quota>>,
    /// Plan of keys whose record names none.
    #[serde(default)]
    pub default_plan: Option<String>,
    /// Whose requests a bucket counts: each key's (default), or all keys of one
    /// owner organization or workspace together.
    #[serde(default)]
    pub rate_limit_scope: crate::ratelimit::RateLimitScope,
    /// Warn this many days before a key expires.
    #[serde(default = "default_warning_days")]
    pub expiry_warning_days: u32,
    /// Grace period of rotations, in hours (seed 000: 24).
    #[serde(default = "default_grace_hours")]
    pub rotation_grace_hours: u32,
    /// Base URI of problem `type`s; the public code is appended.
    #[serde(default = "default_problem_base")]
    pub problem_base: String,
    /// Per-code HTTP statuses replacing the defaults (e.g. `{"route_not_allowed": 404}`).
    /// A challenge (`WWW-Authenticate`) is sent only when the status is 401.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_overrides: BTreeMap<String, u16>,
    /// Rate-limit header dialects to send (default: the current draft).
    #[serde(default = "crate::answers::default_rate_limit_headers")]
    pub rate_limit_headers: Vec<RateLimitHeaders>,
    /// Length limits of key names, applied at mint and update (default 1–200).
    #[serde(default)]
    pub names: NameRules,
    /// How stale a record's `last_used_at` may get before an allowed request asks
    /// the host to write it again (default 60 s; 0: every allowed request). Coarse,
    /// so a busy key does not write its record on every request (seed 001's dashboard).
    #[serde(default = "default_last_used_interval")]
    pub last_used_interval_seconds: u32,
    /// What a request answers when the host's rate-limit store fails and the host
    /// names no answer of its own (default: fail closed, `Retry-After: 1`). One
    /// setting for every runtime, so every store of a deployment fails the same way.
    #[serde(default)]
    pub rate_store_failure: RateStoreFailure,
    /// Which reverse proxies' forwarding header names the client's address
    /// (default: none; the address the host passes is the client's).
    #[serde(default)]
    pub client_ip: ClientIpConfig,
}

fn default_realm() -> String {
    "api".into()
}
fn default_warning_days() -> u32 {
    7
}
fn default_grace_hours() -> u32 {
    crate::lifecycle::DEFAULT_ROTATION_GRACE_HOURS
}
fn default_last_used_interval() -> u32 {
    60
}
fn default_problem_base() -> String {
    "https://keyproof.dev/problems/".into()
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            realm: default_realm(),
            environments: Vec::new(),
            credentials: ExtractionConfig::default(),
            require_client_id: false,
            unknown_routes: UnknownRoutes::Deny,
            routes: Vec::new(),
            roles: Vec::new(),
            plans: BTreeMap::new(),
            rate_limit_classes: BTreeMap::new(),
            default_plan: None,
            rate_limit_scope: crate::ratelimit::RateLimitScope::Key,
            expiry_warning_days: default_warning_days(),
            rotation_grace_hours: default_grace_hours(),
            problem_base: default_problem_base(),
            status_overrides: BTreeMap::new(),
            rate_limit_headers: crate::answers::default_rate_limit_headers(),
            names: NameRules::default(),
            last_used_interval_seconds: default_last_used_interval(),
            rate_store_failure: RateStoreFailure::default(),
            client_ip: ClientIpConfig::default(),
        }
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidPolicy, msg)
}

fn quoted_string_ok(s: &str) -> bool {
    // Characters RFC 6750 allows in auth-param values: %x20-21 / %x23-5B / %x5D-7E.
    s.bytes().all(|c| c == 0x20 || c == 0x21 || (0x23..=0x5B).contains(&c) || (0x5D..=0x7E).contains(&c))
}

impl crate::load::Load for Policy {
    const KIND: ErrorKind = ErrorKind::InvalidPolicy;

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

impl Policy {
    /// Loads and validates a policy from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }

    /// Loads, validates and compiles a policy from JSON in one step.
    pub fn load(json: &str) -> Result<CompiledPolicy> {
        Self::from_json(json)?.compile()
    }

    /// Serializes the policy.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// How long a rotated key keeps working (`rotation_grace_hours`, default 24).
    pub fn rotation_grace(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.rotation_grace_hours))
    }

    /// How stale `last_used_at` may get before it is written again.
    pub fn last_used_interval(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.last_used_interval_seconds))
    }

    /// The quota of `plan` for rate-limit `class` (the class's own, else the plan's).
    pub fn quota(&self, plan: &str, class: &str) -> Option<&Quota> {
        self.rate_limit_classes.get(class).and_then(|c| c.get(plan)).or_else(|| self.plans.get(plan))
    }

    /// Position of `role` in the role ladder.
    pub fn role_rank(&self, role: &str) -> Option<usize> {
        self.roles.iter().position(|r| r == role)
    }

    /// Checks everything that does not need compiling.
    pub fn validate(&self) -> Result<()> {
        if self.realm.is_empty() || self.realm.len() > 128 || !quoted_string_ok(&self.realm) {
            return Err(invalid("realm must be 1-128 characters RFC 6750 allows in a quoted string"));
        }
        self.credentials.validate()?;
        self.client_ip.trusted()?;
        for quota in self.plans.values().chain(self.rate_limit_classes.values().flat_map(|c| c.values())) {
            quota.validate()?;
        }
        let plan_names = self.plans.keys().chain(self.rate_limit_classes.values().flat_map(BTreeMap::keys));
        if plan_names.into_iter().any(|p| p == crate::engine::OWN_QUOTA || p == crate::engine::USAGE) {
            return Err(invalid(
                "the plan names \"key\" and \"usage\" are reserved: they name a key's own quota and usage limit",
            ));
        }
        if let Some(plan) = &self.default_plan {
            if !self.plans.contains_key(plan) {
                return Err(invalid(format!("default_plan {plan:?} is not in plans")));
            }
        }
        if self.rotation_grace_hours > crate::lifecycle::MAX_ROTATION_GRACE_HOURS || self.expiry_warning_days > 3660 {
            return Err(invalid("rotation_grace_hours or expiry_warning_days out of range"));
        }
        if !self.problem_base.is_ascii()
            || self.problem_base.contains(['"', ' ', '\\'])
            || self.problem_base.bytes().any(|c| c.is_ascii_control())
        {
            return Err(invalid("problem_base must be an ASCII URI"));
        }
        crate::answers::validate_overrides(&self.status_overrides)?;
        crate::load::Load::check(&self.rate_store_failure)?;
        self.names.validate()?;
        for route in &self.routes {
            for s in route.all_of.iter().chain(&route.any_of) {
                validate_scope(s).map_err(|e| invalid(format!("route {}: {}", route.path, e.message())))?;
            }
            if let (Some(role), false) = (&route.role, self.roles.is_empty()) {
                if self.role_rank(role).is_none() {
                    return Err(invalid(format!("route {}: role {role:?} is not in roles", route.path)));
                }
            }
            if let Some(rl) = &route.rate_limit {
                if rl.cost == 0 {
                    return Err(invalid(format!("route {}: rate-limit cost must be at least 1", route.path)));
                }
                for plan in self.plans.keys() {
                    if self.quota(plan, &rl.class).is_some_and(|q| q.burst < rl.cost) {
                        return Err(invalid(format!("route {}: cost exceeds the burst of plan {plan}", route.path)));
                    }
                }
            }
        }
        Ok(())
    }

    /// Validates and compiles the route table.
    pub fn compile(self) -> Result<CompiledPolicy> {
        self.validate()?;
        let routes = RouteTable::new(&self.routes)?;
        let trusted_proxies = self.client_ip.trusted()?;
        Ok(CompiledPolicy { policy: self, routes, trusted_proxies })
    }

    /// Whether verification reads the header named `name` (any case): a
    /// credential header, the client-address header of trusted proxies, or
    /// `Origin` / `Referer` (for keys restricted to websites). A host may leave
    /// every other header out.
    pub fn reads_header(&self, name: &str) -> bool {
        self.credentials.reads_header(name)
            || self.client_ip.reads_header(name)
            || ORIGIN_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h))
    }

    /// The lowercase names of every header verification reads ([`Policy::reads_header`]).
    pub fn header_names(&self) -> Vec<String> {
        let mut names = self.credentials.header_names();
        if !self.client_ip.trusted_proxies.is_empty() {
            names.push(self.client_ip.header.to_ascii_lowercase());
        }
        names.extend(ORIGIN_HEADERS.iter().map(|h| h.to_string()));
        names
    }
}

/// The headers an origin allowlist reads (see [`crate::OriginPattern`]).
const ORIGIN_HEADERS: [&str; 2] = ["origin", "referer"];

/// A validated policy with its compiled router; build once, share for every request.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    policy: Policy,
    routes: RouteTable,
    trusted_proxies: Vec<ipnet::IpNet>,
}

impl CompiledPolicy {
    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Gives the policy back.
    pub fn into_policy(self) -> Policy {
        self.policy
    }

    /// The compiled routes.
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The client's address for a request from `peer` with these headers
    /// (see [`crate::proxies`]).
    pub fn client_ip<N: AsRef<str>, V: AsRef<str>>(
        &self,
        peer: Option<&str>,
        headers: &[(N, V)],
    ) -> Result<Option<std::net::IpAddr>> {
        let peer = peer.map(crate::ip::parse_client_ip).transpose()?;
        crate::proxies::client_ip(&self.policy.client_ip, &self.trusted_proxies, peer, headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_equals_empty_json() {
        assert_eq!(Policy::from_json("{}").ok(), Some(Policy::default()));
    }
}
