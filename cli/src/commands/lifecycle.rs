//! `rotate`, `revoke`, `disable` and `enable`: read, change and write one record
//! inside a single transaction.

use keyproof::{KeyRecord, MintOptions};
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

/// `keyproof revoke|disable|enable ID`.
pub fn change(ctx: &Ctx, id: &str, change: Change) -> CliResult {
    keyproof::ids::validate_id(id)?;
    let mut store = ctx.open_store()?;
    let tx = store.write()?;
    let mut record = Store::get_in(&tx, id)?;
    let changed = match change {
        Change::Revoke => record.revoke(ctx.now)?,
        Change::Disable => record.disable(ctx.now)?,
        Change::Enable => record.enable(ctx.now)?,
    };
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

/// Mint options for the successor: core copies everything but the secret;
/// `--expires` replaces the inherited lifetime.
fn successor_options(ctx: &Ctx, old: &KeyRecord, expires: Option<&str>) -> CliResult<MintOptions> {
    let mut options = old.successor_options(ctx.now)?;
    if let Some(preset) = expires {
        options.expires_in = Some(preset.to_string());
        options.expires_at = None;
    }
    Ok(options)
}

/// `keyproof rotate ID [--grace 24h]`.
pub fn rotate(ctx: &Ctx, args: &RotateArgs) -> CliResult {
    keyproof::ids::validate_id(&args.id)?;
    let grace = parse_duration(&args.grace)?;
    let mut store = ctx.open_store()?;
    let old = store.get(&args.id)?;
    // Core refuses revoked, disabled and rotated keys; check before minting anything.
    old.clone().rotate("key_00000000", ctx.now, grace)?;
    let options = successor_options(ctx, &old, args.expires.as_deref())?;
    let old_id = old.id.clone();
    let updated_at = old.updated_at;
    let minted = mint_and_store(ctx, &mut store, &old.format, &options, |tx, new| {
        // Re-read inside the write transaction so a concurrent change is not lost.
        let mut current = Store::get_in(tx, &old_id)?;
        if current.updated_at != updated_at {
            return Err(CliError::store(format!("key {old_id} changed while rotating; try again")));
        }
        current.rotate(&new.id, ctx.now, grace)?;
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
