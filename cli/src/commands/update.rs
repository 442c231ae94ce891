//! `update`: change a stored record's settings (seed 001's PATCH). The flags
//! become one core `RecordUpdate`, which core validates and applies
//! (`KeyRecord::update`) inside one write transaction.

use std::collections::BTreeMap;

use keyproof::lifecycle::RecordUpdate;
use keyproof::KeyRecord;
use serde_json::{json, Value};

use crate::args::UpdateArgs;
use crate::context::{parse_time, read_input, Ctx};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

/// A comma-separated list; the empty string is the empty list.
fn list(flag: &str, text: &str) -> CliResult<Vec<String>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                Err(CliError::usage(format!("{flag} has an empty item (separate items with single commas)")))
            } else {
                Ok(item.to_string())
            }
        })
        .collect()
}

/// `Some(Some(v))` to set, `Some(None)` to clear, `None` to leave alone.
fn set_or_clear(value: Option<&String>, clear: bool) -> Option<Option<String>> {
    match (value, clear) {
        (Some(v), _) => Some(Some(v.clone())),
        (None, true) => Some(None),
        (None, false) => None,
    }
}

/// Parses `KEY=JSON`.
fn metadata_entry(text: &str) -> CliResult<(String, Value)> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| CliError::usage("--metadata takes KEY=JSON, e.g. team='\"billing\"' or tier=3".to_string()))?;
    if key.is_empty() {
        return Err(CliError::usage("--metadata has an empty key (KEY=JSON)"));
    }
    let value = serde_json::from_str(value).map_err(|e| {
        CliError::usage(format!("the --metadata value of {key:?} is not JSON ({e}); quote strings: {key}='\"text\"'"))
    })?;
    Ok((key.to_string(), value))
}

/// Whether any metadata flag was given.
fn touches_metadata(args: &UpdateArgs) -> bool {
    args.clear_metadata || !args.metadata.is_empty() || !args.unset_metadata.is_empty()
}

/// The update the flags ask for, except metadata (which needs the current record).
fn from_flags(args: &UpdateArgs) -> CliResult<RecordUpdate> {
    Ok(RecordUpdate {
        name: args.name.clone(),
        scopes: args.scopes.as_deref().map(|s| list("--scopes", s)).transpose()?,
        role: set_or_clear(args.role.as_ref(), args.clear_role),
        allowed_ips: args.allowed_ips.as_deref().map(|s| list("--allowed-ips", s)).transpose()?,
        allowed_origins: args.allowed_origins.as_deref().map(|s| list("--allowed-origins", s)).transpose()?,
        expires_at: match (&args.expires_at, args.no_expiry) {
            (Some(t), _) => Some(Some(parse_time(t)?)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        plan: set_or_clear(args.plan.as_ref(), args.clear_plan),
        rate_limits: args.rate_limits.as_deref().map(crate::context::quotas).transpose()?,
        usage_limit: match (args.usage_limit.as_deref(), args.clear_usage_limit) {
            (Some(text), _) => Some(Some(crate::context::usage_limit(text)?)),
            (None, true) => Some(None),
            (None, false) => None,
        },
        features: args.features.as_deref().map(|s| list("--features", s)).transpose()?,
        metadata: None,
        client_id: set_or_clear(args.client_id.as_ref(), args.clear_client_id),
    })
}

/// `record`'s metadata with the metadata flags applied (clear, unset, then set).
fn metadata(args: &UpdateArgs, record: &KeyRecord) -> CliResult<BTreeMap<String, Value>> {
    let mut map = if args.clear_metadata { BTreeMap::new() } else { record.metadata.clone() };
    for key in &args.unset_metadata {
        map.remove(key);
    }
    for entry in &args.metadata {
        let (key, value) = metadata_entry(entry)?;
        map.insert(key, value);
    }
    Ok(map)
}

/// `keyproof update ID [flags | --json-update FILE|-]`.
pub fn update(ctx: &Ctx, args: &UpdateArgs) -> CliResult {
    keyproof::ids::validate_id(&args.id)?;
    let base = match &args.json_update {
        Some(source) => RecordUpdate::from_json(&read_input(source)?)?,
        None => {
            let update = from_flags(args)?;
            if update == RecordUpdate::default() && !touches_metadata(args) {
                return Err(CliError::usage(
                    "nothing to update: pass --name, --scopes, --role, --allowed-ips, --allowed-origins, --expires-at, --plan, --rate-limits, --usage-limit, \
                     --features, --client-id, --metadata (or a --clear-/--no- form), or --json-update",
                ));
            }
            update
        }
    };
    // Metadata entries are checked before the store is touched.
    for entry in &args.metadata {
        metadata_entry(entry)?;
    }
    let mut store = ctx.open_store()?;
    let tx = store.write()?;
    let mut record = tx.get(&args.id)?;
    let mut update = base;
    if touches_metadata(args) {
        update.metadata = Some(metadata(args, &record)?);
    }
    let changed = record.update(&update, ctx.now)?;
    if changed {
        tx.update(&record)?;
    }
    tx.commit()?;
    if ctx.json {
        output::json(&json!({ "changed": changed, "record": output::record_json(&record, ctx.now) }));
    } else if changed {
        output::line(&format!("Key {} ({}) updated.", record.id, record.preview));
        output::line("");
        output::out(&output::record_fields(&record, ctx.now));
    } else {
        output::line(&format!("Key {} ({}): no change.", record.id, record.preview));
    }
    Ok(Exit::Ok)
}
