//! `rotate`, `revoke`, `disable` and `enable`: read, change and write one record
//! inside a single transaction.

use keyproof::{ErrorKind, IdStyle, KeyRecord, KeyStatus, MintOptions};
use serde_json::json;

use crate::commands::keys::{mint_and_store, print_minted};
use crate::context::{parse_duration, Ctx};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::store::Store;
use crate::RotateArgs;

/// A status change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Revoke for good.
    Revoke,
    /// Switch off for now.
    Disable,
    /// Switch back on.
    Enable,
}

fn state_error(message: String) -> CliError {
    CliError::from(keyproof::Error::new(ErrorKind::InvalidRecord, message))
}

/// `keyproof revoke|disable|enable ID`.
pub fn change(ctx: &Ctx, id: &str, change: Change) -> CliResult {
    keyproof::ids::validate_id(id)?;
    let mut store = ctx.open_store()?;
    let tx = store.write()?;
    let mut record = Store::get_in(&tx, id)?;
    let before = record.status;
    match change {
        Change::Revoke if before == KeyStatus::Revoked => {}
        Change::Revoke => record.revoke(ctx.now),
        Change::Disable if before == KeyStatus::Revoked => {
            return Err(state_error(format!("key {id} is revoked; it cannot be disabled")));
        }
        Change::Disable => record.disable(ctx.now),
        Change::Enable => record.enable(ctx.now)?,
    }
    let changed = record.status != before;
    if changed {
        Store::update(&tx, &record)?;
    }
    tx.commit()?;
    if ctx.json {
        output::json(&json!({ "changed": changed, "record": output::record_json(&record, ctx.now) }));
    } else {
        let status = output::effective_status(&record, ctx.now);
        let what = if changed { "is now" } else { "was already" };
        output::line(&format!("Key {} ({}) {what} {status}.", record.id, record.preview));
    }
    Ok(Exit::Ok)
}

/// The id style `id` was made with, so a replacement looks the same.
fn id_style_of(id: &str) -> IdStyle {
    let uuid_like = id.len() == 36 && id.bytes().filter(|c| *c == b'-').count() == 4;
    match id.rfind('_') {
        Some(i) if !uuid_like => {
            let (prefix, hex) = id.split_at(i + 1);
            if (8..=32).contains(&hex.len()) && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                IdStyle::Prefixed { prefix: prefix.to_string(), hex_length: hex.len() }
            } else {
                IdStyle::Uuid
            }
        }
        _ => IdStyle::Uuid,
    }
}

/// Mint options that copy everything but the secret from `old`.
fn successor_options(ctx: &Ctx, old: &KeyRecord, expires: Option<&str>) -> MintOptions {
    let expires_at = match expires {
        Some(_) => None,
        None => old.expires_at.map(|at| ctx.now + (at - old.created_at)),
    };
    MintOptions {
        name: old.name.clone(),
        id_style: id_style_of(&old.id),
        owner: old.owner.clone(),
        scopes: old.scopes.clone(),
        role: old.role.clone(),
        expires_in: expires.map(str::to_string),
        expires_at,
        allowed_ips: old.allowed_ips.iter().map(ToString::to_string).collect(),
        plan: old.plan.clone(),
        features: old.features.clone(),
        client_id: old.client_id.clone(),
        generate_client_id: false,
        metadata: old.metadata.clone(),
    }
}

/// `keyproof rotate ID [--grace 24h]`.
pub fn rotate(ctx: &Ctx, args: &RotateArgs) -> CliResult {
    keyproof::ids::validate_id(&args.id)?;
    let grace = parse_duration(&args.grace)?;
    let mut store = ctx.open_store()?;
    let old = store.get(&args.id)?;
    match (old.status, &old.rotation) {
        (KeyStatus::Revoked, _) => return Err(state_error(format!("key {} is revoked; mint a new one", old.id))),
        (KeyStatus::Disabled, _) => return Err(state_error(format!("key {} is disabled; enable it first", old.id))),
        (_, Some(r)) => {
            let by = r.replaced_by.as_deref().unwrap_or("another key");
            return Err(state_error(format!("key {} was already rotated (replaced by {by})", old.id)));
        }
        _ => {}
    }
    let options = successor_options(ctx, &old, args.expires.as_deref());
    let old_id = old.id.clone();
    let updated_at = old.updated_at;
    let minted = mint_and_store(ctx, &mut store, &old.format, &options, |tx, new| {
        // Re-read inside the write transaction so a concurrent change is not lost.
        let mut current = Store::get_in(tx, &old_id)?;
        if current.updated_at != updated_at {
            return Err(CliError::store(format!("key {old_id} changed while rotating; try again")));
        }
        current.start_rotation(&new.id, ctx.now, grace);
        Store::update(tx, &current)
    })?;
    let old = store.get(&old_id)?;
    if ctx.json {
        print_minted(ctx, &minted, Some(("rotated", output::record_json(&old, ctx.now))));
    } else {
        print_minted(ctx, &minted, None);
        let until = old.rotation.as_ref().map(|r| output::ts(&r.grace_until)).unwrap_or_default();
        output::line("");
        output::line(&format!("Old key {} ({}) keeps working until {until}.", old.id, old.preview));
    }
    Ok(Exit::Ok)
}
