//! The command line: every subcommand's arguments, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// API keys you can prove: mint, inspect, rotate, revoke, verify and scan.
#[derive(Parser, Debug)]
#[command(name = "keyproof", version, about, propagate_version = true)]
pub struct Cli {
    /// Print JSON instead of human-readable tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// SQLite store file (created by the first command that writes), or a PostgreSQL URL
    /// (postgresql://user@host:port/db; tables created on first use).
    #[arg(
        long,
        global = true,
        env = "KEYPROOF_STORE",
        hide_env_values = true,
        default_value = "keyproof.db",
        value_name = "PATH|URL"
    )]
    pub store: PathBuf,
    /// Extra key formats: a JSON array of format definitions (or one format object).
    #[arg(long, global = true, value_name = "FILE.json")]
    pub formats: Option<PathBuf>,
    /// Pretend the current time is this RFC 3339 instant (for tests and replays).
    #[arg(long, global = true, hide = true, value_name = "TIME")]
    pub now: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Mint a new key, store its record and print the key once.
    Mint(MintArgs),
    /// Describe a key (format, environment, kind, checksum, preview) without revealing it.
    Inspect {
        /// The key, or `-` to read it from stdin.
        key: String,
    },
    /// List stored keys.
    List(ListArgs),
    /// Show one stored record.
    Show {
        /// Record id.
        id: String,
    },
    /// Replace a key with a new one; the old key stays valid through the grace period.
    Rotate(RotateArgs),
    /// Change a stored record: name, scopes, role, IP allowlist, expiry, plan, quotas, usage limit, features, client id, metadata.
    Update(UpdateArgs),
    /// Revoke a key permanently.
    Revoke {
        /// Record id.
        id: String,
    },
    /// Disable a key (it can be enabled again).
    Disable {
        /// Record id.
        id: String,
    },
    /// Re-enable a disabled key.
    Enable {
        /// Record id.
        id: String,
    },
    /// Find keys in files, directories (recursively) or stdin; exit 1 when any is found.
    Scan(ScanArgs),
    /// Print a file with every key replaced by its preview.
    Redact(RedactArgs),
    /// List the built-in key formats (and any from --formats).
    Formats,
    /// Decide one HTTP request with a policy: exit 0 when allowed, 1 when denied.
    Verify(VerifyArgs),
    /// Charge units to a key's usage limit after the fact (what was left is spent, the rest reported unpaid).
    Charge {
        /// Record id.
        id: String,
        /// Units to charge.
        units: u32,
    },
    /// Give back units of what a key spent this period (at most that; the rest reported unpaid).
    Refund {
        /// Record id.
        id: String,
        /// Units to give back.
        units: u32,
    },
    /// Build a Matchii-like demo (store, policy, keys) and show decisions for sample requests.
    Demo(DemoArgs),
    /// Access tokens: issue one for a stored key, inspect or verify one.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the public JWKS of a config's token keys (or --generate a new Ed25519 key).
    Jwks(JwksArgs),
}

/// `token` subcommands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue an access token for a stored key (narrowed by the options).
    Issue(TokenIssueArgs),
    /// Decode a token's header and claims WITHOUT verifying it.
    Inspect {
        /// The token, or `-` to read it from stdin.
        token: String,
    },
    /// Verify a token offline (signature, claims, time): exit 0 when valid, 1 when not.
    Verify(TokenVerifyArgs),
}

/// `token issue` options.
#[derive(Args, Debug)]
pub struct TokenIssueArgs {
    /// Record id of the key the token is for.
    pub id: String,
    /// Engine config with a `tokens` section.
    #[arg(long, env = "KEYPROOF_POLICY", value_name = "FILE.json")]
    pub policy: PathBuf,
    /// Scope (repeatable; default: the key's scopes).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Path of a policy route rule the token may call (repeatable; default: every route).
    #[arg(long = "route", value_name = "PATH")]
    pub routes: Vec<String>,
    /// Network the token may be used from (repeatable; inside the key's allowlist).
    #[arg(long = "cidr", value_name = "CIDR")]
    pub cidrs: Vec<String>,
    /// Website the token may be used from (repeatable; inside the key's origin allowlist).
    #[arg(long = "origin", value_name = "ORIGIN")]
    pub origins: Vec<String>,
    /// Credential kind of the token (sdk_token or publishable from a secret key).
    #[arg(long)]
    pub kind: Option<String>,
    /// Lifetime in seconds (at most the configured one).
    #[arg(long, value_name = "SECONDS")]
    pub lifetime: Option<u32>,
}

/// `token verify` options.
#[derive(Args, Debug)]
pub struct TokenVerifyArgs {
    /// The token, or `-` to read it from stdin.
    pub token: String,
    /// Engine config with a `tokens` section.
    #[arg(long, env = "KEYPROOF_POLICY", value_name = "FILE.json")]
    pub policy: PathBuf,
}

/// `jwks` options.
#[derive(Args, Debug)]
pub struct JwksArgs {
    /// Engine config with a `tokens` section.
    #[arg(long, env = "KEYPROOF_POLICY", value_name = "FILE.json", required_unless_present = "generate")]
    pub policy: Option<PathBuf>,
    /// Print a new private Ed25519 JWK with this kid instead (OS randomness).
    #[arg(long, value_name = "KID")]
    pub generate: Option<String>,
}

/// How new record ids look.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum IdStyleArg {
    /// A UUID v4.
    #[default]
    Uuid,
    /// `key_` plus 8 hex characters (see --id-prefix).
    Prefixed,
}

/// `mint` options.
#[derive(Args, Debug)]
pub struct MintArgs {
    /// Format (preset id, or an id from --formats).
    #[arg(long, value_name = "ID")]
    pub format: String,
    /// Human name, 3-50 characters.
    #[arg(long)]
    pub name: String,
    /// Scope to grant (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Role or tier.
    #[arg(long)]
    pub role: Option<String>,
    /// Expiry preset: 15d, 90d, 6m, 1y, …
    #[arg(long, value_name = "PRESET", conflicts_with = "expires_at")]
    pub expires: Option<String>,
    /// Explicit expiry, RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<String>,
    /// IP address or CIDR range allowed to use the key (repeatable).
    #[arg(long = "allow-ip", value_name = "CIDR")]
    pub allow_ips: Vec<String>,
    /// Website a browser may use the key from, e.g. https://app.example.com or https://*.example.com (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Rate-limit plan.
    #[arg(long)]
    pub plan: Option<String>,
    /// The key's own quotas by class, as JSON: '{"default": {"limit": 100, "burst": 20}}'.
    #[arg(long, value_name = "JSON")]
    pub rate_limits: Option<String>,
    /// Units the key may spend per day, per month or in all, as JSON: '{"limit": 1000, "period": "month"}'.
    #[arg(long, value_name = "JSON")]
    pub usage_limit: Option<String>,
    /// Enabled feature (repeatable).
    #[arg(long = "feature", value_name = "FEATURE")]
    pub features: Vec<String>,
    /// Bind an existing public client id.
    #[arg(long, value_name = "ID", conflicts_with = "generate_client_id")]
    pub client_id: Option<String>,
    /// Generate a fresh public client id.
    #[arg(long)]
    pub generate_client_id: bool,
    /// Owning organization id.
    #[arg(long, value_name = "ID")]
    pub organization: Option<String>,
    /// Owning workspace id.
    #[arg(long, value_name = "ID")]
    pub workspace: Option<String>,
    /// Owning user profile id.
    #[arg(long, value_name = "ID")]
    pub profile: Option<String>,
    /// Record id style.
    #[arg(long, value_enum, default_value_t = IdStyleArg::Uuid)]
    pub id_style: IdStyleArg,
    /// Prefix of prefixed ids.
    #[arg(long, default_value = "key_", value_name = "PREFIX")]
    pub id_prefix: String,
}

/// `list` filters.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only keys of this format.
    #[arg(long, value_name = "ID")]
    pub format: Option<String>,
    /// Only keys with this effective status (active, disabled, revoked, expired, rotating, rotated).
    #[arg(long)]
    pub status: Option<String>,
}

/// `rotate` options.
#[derive(Args, Debug)]
pub struct RotateArgs {
    /// Record id of the key to replace (with --resume: the key whose rotation is resumed).
    pub id: String,
    /// How long the old key keeps working (help text set in `parse_args`: it names core's default).
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// Expiry preset for the new key (default: the old key's lifetime, counted from now).
    #[arg(long, value_name = "PRESET")]
    pub expires: Option<String>,
    /// Recover a rotation of ID whose new key never reached you (interrupted, lost output):
    /// the unseen successor is replaced by a fresh key with the same settings and stops
    /// working at once (or after --grace); ID keeps its own grace period.
    #[arg(long)]
    pub resume: bool,
}

/// `update` options: each flag replaces one field; flags left out leave fields alone.
#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Record id.
    pub id: String,
    /// New name.
    #[arg(long)]
    pub name: Option<String>,
    /// New scopes, comma-separated (replaces the list; "" clears it).
    #[arg(long, value_name = "A,B")]
    pub scopes: Option<String>,
    /// New role.
    #[arg(long, conflicts_with = "clear_role")]
    pub role: Option<String>,
    /// Remove the role.
    #[arg(long)]
    pub clear_role: bool,
    /// New IP allowlist, comma-separated addresses or CIDR ranges ("" allows every address).
    #[arg(long, value_name = "CIDR,CIDR")]
    pub allowed_ips: Option<String>,
    /// New origin allowlist, comma-separated origins ("" allows every website).
    #[arg(long, value_name = "ORIGIN,ORIGIN")]
    pub allowed_origins: Option<String>,
    /// New expiry, RFC 3339.
    #[arg(long, value_name = "TIME", conflicts_with = "no_expiry")]
    pub expires_at: Option<String>,
    /// Make the key never expire.
    #[arg(long)]
    pub no_expiry: bool,
    /// New rate-limit plan.
    #[arg(long, conflicts_with = "clear_plan")]
    pub plan: Option<String>,
    /// Remove the plan (the policy's default plan applies).
    #[arg(long)]
    pub clear_plan: bool,
    /// The key's own quotas by class, as JSON (replaces them; '{}': the plan's again).
    #[arg(long, value_name = "JSON")]
    pub rate_limits: Option<String>,
    /// New usage limit, as JSON (what the period spent so far still counts).
    #[arg(long, value_name = "JSON", conflicts_with = "clear_usage_limit")]
    pub usage_limit: Option<String>,
    /// Remove the usage limit.
    #[arg(long)]
    pub clear_usage_limit: bool,
    /// New features, comma-separated (replaces the list; "" clears it).
    #[arg(long, value_name = "A,B")]
    pub features: Option<String>,
    /// Bind this public client id.
    #[arg(long, value_name = "ID", conflicts_with = "clear_client_id")]
    pub client_id: Option<String>,
    /// Unbind the client id.
    #[arg(long)]
    pub clear_client_id: bool,
    /// Set one metadata entry, KEY=JSON (repeatable), e.g. tier=3 or team='"billing"'.
    #[arg(long, value_name = "KEY=JSON")]
    pub metadata: Vec<String>,
    /// Remove one metadata entry (repeatable).
    #[arg(long, value_name = "KEY")]
    pub unset_metadata: Vec<String>,
    /// Remove every metadata entry (before --metadata is applied).
    #[arg(long)]
    pub clear_metadata: bool,
    /// Take the whole change from a core RecordUpdate JSON document (a file or `-`), instead of flags.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = [
            "name", "scopes", "role", "clear_role", "allowed_ips", "allowed_origins", "expires_at", "no_expiry", "plan",
            "clear_plan", "rate_limits", "usage_limit", "clear_usage_limit", "features", "client_id", "clear_client_id", "metadata",
            "unset_metadata", "clear_metadata",
        ]
    )]
    pub json_update: Option<String>,
}

/// `scan` options.
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories to scan, or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

/// `redact` options.
#[derive(Args, Debug)]
pub struct RedactArgs {
    /// File to redact, or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Rewrite the file instead of printing it.
    #[arg(long)]
    pub in_place: bool,
}

/// `verify` options.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Policy file: an engine config (`formats`, `hashing`, `policy`) or a bare policy.
    #[arg(long, env = "KEYPROOF_POLICY", value_name = "FILE.json")]
    pub policy: PathBuf,
    /// Request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Read more headers, one per line, from a file or `-` (keeps keys out of argv).
    #[arg(long, value_name = "FILE")]
    pub headers_from: Option<String>,
    /// HTTP method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// Request path.
    #[arg(long)]
    pub path: String,
    /// Client IP address.
    #[arg(long, value_name = "ADDRESS")]
    pub ip: Option<String>,
    /// Units of a usage-limited key's allowance this request spends (default:
    /// its route's cost; 0 checks that a unit is left and spends nothing).
    #[arg(long, value_name = "UNITS")]
    pub usage_cost: Option<u32>,
}

/// `demo` options.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory for the demo store and policy (default: a new temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
