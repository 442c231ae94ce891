//! `rotate`, `revoke`, `disable` and `enable`: read, change and write one record
//! inside a single transaction.

use keyproof::{KeyRecord, MintOptions};
use serde_json::json;

use crate::args::RotateArgs;
use crate::commands::keys::{mint_and_store, show_minted};
use crate::context::{parse_duration, Ctx};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::store::Store;

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
    let mut record = tx.get(id)?;
    let changed = match change {
        Change::Revoke => record.revoke(ctx.now)?,
        Change::Disable => record.disable(ctx.now)?,
        Change::Enable => record.enable(ctx.now)?,
    };
    if changed {
        tx.update(&record)?;
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

/// The grace period asked for: `--grace`, else none for `--resume` (the
/// successor being retired was never shown, so nothing uses it), else core's default.
fn grace(args: &RotateArgs) -> CliResult<chrono::Duration> {
    match (&args.grace, args.resume) {
        (Some(text), _) => parse_duration(text),
        (None, true) => Ok(chrono::Duration::zero()),
        (None, false) => Ok(keyproof::lifecycle::default_rotation_grace()),
    }
}

/// Longest chain of unseen successors `--resume` follows.
const MAX_RESUME_CHAIN: usize = 64;

/// For `--resume ID`: the newest key of ID's rotation chain (ID was rotated,
/// its successor maybe too, …): the one whose key was never shown.
fn unseen_successor(store: &Store, id: &str) -> CliResult<KeyRecord> {
    let first = store.get(id)?;
    let Some(mut next) = first.rotation.as_ref().and_then(|r| r.replaced_by.clone()) else {
        return Err(CliError::usage(format!(
            "key {id} was not rotated, so there is no rotation to resume (rotate it without --resume)"
        )));
    };
    for _ in 0..MAX_RESUME_CHAIN {
        let record = store.get(&next).map_err(|e| {
            if e.exit == Exit::NotFound {
                CliError::store(format!("key {id} was replaced by {next}, which is not in the store"))
            } else {
                e
            }
        })?;
        match record.rotation.as_ref().and_then(|r| r.replaced_by.clone()) {
            Some(newer) => next = newer,
            None => return Ok(record),
        }
    }
    Err(CliError::store(format!("the rotation chain of key {id} is longer than {MAX_RESUME_CHAIN} keys")))
}

/// `keyproof rotate ID [--grace D] [--expires P] [--resume]`.
///
/// The new key is written to stdout (and flushed) inside the write
/// transaction, before it commits: if it cannot be written, nothing is stored.
/// `--resume ID` recovers a rotation of ID whose new key was never seen: core
/// rotates that unseen successor (grace 0 unless `--grace`), so a fresh key with
/// the same settings replaces it while ID keeps its own grace period.
pub fn rotate(ctx: &Ctx, args: &RotateArgs) -> CliResult {
    keyproof::ids::validate_id(&args.id)?;
    let grace = grace(args)?;
    let mut store = ctx.open_store()?;
    let old = if args.resume { unseen_successor(&store, &args.id)? } else { store.get(&args.id)? };
    // Core refuses revoked, disabled and rotated keys (and a grace period that
    // overflows the calendar); check before minting anything.
    old.clone().rotate("key_00000000", ctx.now, grace)?;
    let options = successor_options(ctx, &old, args.expires.as_deref())?;
    let old_id = old.id.clone();
    let updated_at = old.updated_at;
    let original = if args.resume { Some(store.get(&args.id)?) } else { None };
    mint_and_store(
        ctx,
        &mut store,
        &old.format,
        &options,
        |tx, new| {
            // Re-read inside the write transaction so a concurrent change is not lost.
            let mut current = tx.get(&old_id)?;
            if current.updated_at != updated_at {
                return Err(CliError::store(format!("key {old_id} changed while rotating; try again")));
            }
            current.rotate(&new.id, ctx.now, grace)?;
            tx.update(&current)?;
            Ok(current)
        },
        |minted, old| {
            let until = old.rotation.as_ref().map(|r| output::ts(&r.grace_until)).unwrap_or_default();
            if ctx.json {
                let mut extra = output::record_json(old, ctx.now);
                if let (Some(obj), Some(original)) = (extra.as_object_mut(), &original) {
                    obj.insert("resumed_from".into(), json!(original.id));
                }
                return show_minted(ctx, minted, Some(("rotated", extra)), "");
            }
            let tail = match &original {
                None => format!("\nOld key {} ({}) keeps working until {until}.\n", old.id, old.preview),
                Some(original) => {
                    let original_until =
                        original.rotation.as_ref().map(|r| output::ts(&r.grace_until)).unwrap_or_default();
                    format!(
                        "\nThe unseen key {} ({}) is replaced by this one and stops working at {until}.\n\
                         Old key {} ({}) keeps working until {original_until}.\n",
                        old.id, old.preview, original.id, original.preview
                    )
                }
            };
            show_minted(ctx, minted, None, &tail)
        },
    )?;
    Ok(Exit::Ok)
}
