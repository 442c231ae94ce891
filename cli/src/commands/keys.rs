//! `mint`, `list` and `show`.

use keyproof::{presets, IdStyle, KeyRecord, MintOptions, MintedKey, Owner};
use serde_json::json;

use crate::args::{IdStyleArg, ListArgs, MintArgs};
use crate::context::{random32, Ctx};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::store::{Listing, Store, Tx};

/// Builds the core's mint options from the command line.
fn options(args: &MintArgs) -> CliResult<MintOptions> {
    let id_style = match args.id_style {
        IdStyleArg::Uuid => IdStyle::Uuid,
        IdStyleArg::Prefixed => IdStyle::Prefixed { prefix: args.id_prefix.clone(), hex_length: 8 },
    };
    let expires_at = args.expires_at.as_deref().map(crate::context::parse_time).transpose()?;
    Ok(MintOptions {
        name: args.name.clone(),
        id_style,
        id: None,
        owner: Owner {
            organization: args.organization.clone(),
            workspace: args.workspace.clone(),
            profile: args.profile.clone(),
        },
        scopes: args.scopes.clone(),
        role: args.role.clone(),
        expires_in: args.expires.clone(),
        expires_at,
        allowed_ips: args.allow_ips.clone(),
        allowed_origins: args.allow_origins.clone(),
        plan: args.plan.clone(),
        rate_limits: args.rate_limits.as_deref().map(crate::context::quotas).transpose()?.unwrap_or_default(),
        usage_limit: args.usage_limit.as_deref().map(crate::context::usage_limit).transpose()?,
        features: args.features.clone(),
        client_id: args.client_id.clone(),
        generate_client_id: args.generate_client_id,
        metadata: Default::default(),
    })
}

/// Mints a key of `format_id` and stores it. In one write transaction: insert
/// the record, let `also` change other records (rotation), then `show` the key;
/// the transaction commits only once `show` succeeded, so a key that could not
/// be written out is never stored (and a stored key was always written out).
/// Retries on the rare id collision of short ids.
pub fn mint_and_store<T>(
    ctx: &Ctx,
    store: &mut Store,
    format_id: &str,
    options: &MintOptions,
    also: impl Fn(&Tx<'_>, &KeyRecord) -> CliResult<T>,
    show: impl Fn(&MintedKey, &T) -> CliResult<()>,
) -> CliResult<MintedKey> {
    let set = ctx.format_set(&store.formats()?)?;
    let format = set.get(format_id).map_err(|e| {
        CliError::new(Exit::Usage, e.code(), format!("{} (known presets: {})", e.message(), presets::ids().join(", ")))
    })?;
    let hasher = ctx.hasher()?;
    let mut last_error = None;
    for _ in 0..3 {
        let minted = keyproof::mint(format, &hasher, options, &random32()?, ctx.now)?;
        let tx = store.write()?;
        if tx.exists(&minted.record.id)? {
            last_error = Some(CliError::store(format!("record id {} collided; try again", minted.record.id)));
            continue;
        }
        if presets::get(&format.id).is_err() {
            tx.save_format(format)?;
        }
        tx.insert(&minted.record)?;
        let extra = also(&tx, &minted.record)?;
        // Dropping the transaction on an error rolls everything back.
        show(&minted, &extra)?;
        tx.commit().map_err(|e| {
            CliError::store(format!(
                "the new key {} was printed but could not be stored ({}); it does not work, discard it",
                minted.record.preview, e.message
            ))
        })?;
        return Ok(minted);
    }
    Err(last_error.unwrap_or_else(|| CliError::store("could not store the new key")))
}

/// Writes a freshly minted key (the only time it is ever shown) and its record
/// to stdout, flushed; an error when it could not be written.
pub fn show_minted(
    ctx: &Ctx,
    minted: &MintedKey,
    extra: Option<(&str, serde_json::Value)>,
    tail: &str,
) -> CliResult<()> {
    let text = if ctx.json {
        let mut value = json!({
            "key": minted.key.expose(),
            "record": output::record_json(&minted.record, ctx.now),
        });
        if let (Some((name, extra)), Some(obj)) = (extra, value.as_object_mut()) {
            obj.insert(name.to_string(), extra);
        }
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    } else {
        format!(
            "New key (shown only once; store it now):\n\n    {}\n\n{}{tail}",
            minted.key.expose(),
            output::record_fields(&minted.record, ctx.now)
        )
    };
    output::deliver(&text).map_err(|e| {
        CliError::new(
            Exit::Io,
            "io_error",
            format!("cannot write the new key to stdout ({e}); nothing was stored, run the command again"),
        )
    })
}

/// `keyproof mint`.
pub fn mint(ctx: &Ctx, args: &MintArgs) -> CliResult {
    let options = options(args)?;
    let mut store = ctx.open_store()?;
    mint_and_store(
        ctx,
        &mut store,
        &args.format,
        &options,
        |_, _| Ok(()),
        |minted, ()| show_minted(ctx, minted, None, ""),
    )?;
    Ok(Exit::Ok)
}

const STATUSES: &[&str] = &["active", "disabled", "revoked", "expired", "rotating", "rotated"];

/// `keyproof list`.
pub fn list(ctx: &Ctx, args: &ListArgs) -> CliResult {
    if let Some(status) = &args.status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(CliError::usage(format!("--status must be one of {}", STATUSES.join(", "))));
        }
    }
    let listing = match ctx.open_read_store()? {
        Some(store) => store.list()?,
        None => Listing::default(),
    };
    for row in &listing.corrupt {
        output::err_line(&row.warning("record"));
    }
    let records: Vec<KeyRecord> = listing
        .records
        .into_iter()
        .filter(|r| args.format.as_ref().is_none_or(|f| &r.format == f))
        .filter(|r| args.status.as_ref().is_none_or(|s| output::effective_status(r, ctx.now) == s))
        .collect();
    if ctx.json {
        let items: Vec<_> = records.iter().map(|r| output::record_json(r, ctx.now)).collect();
        let corrupt: Vec<_> =
            listing.corrupt.iter().map(|c| json!({ "id": c.id, "code": c.code, "message": c.message })).collect();
        if corrupt.is_empty() {
            output::json(&json!({ "keys": items }));
        } else {
            output::json(&json!({ "keys": items, "corrupt": corrupt }));
        }
        return Ok(Exit::Ok);
    }
    if records.is_empty() && listing.corrupt.is_empty() {
        output::line("No keys.");
        return Ok(Exit::Ok);
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.name.clone(),
                r.format.clone(),
                r.preview.clone(),
                output::effective_status(r, ctx.now).to_string(),
                r.scopes.join(" "),
                r.expires_at.as_ref().map_or("never".into(), output::ts),
            ]
        })
        .collect();
    output::out(&output::table(&["ID", "NAME", "FORMAT", "PREVIEW", "STATUS", "SCOPES", "EXPIRES"], &rows));
    Ok(Exit::Ok)
}

/// `keyproof show`.
pub fn show(ctx: &Ctx, id: &str) -> CliResult {
    keyproof::ids::validate_id(id)?;
    let store = ctx.open_read_store()?.ok_or_else(|| CliError::unknown_id(id))?;
    let record = store.get(id)?;
    let usage = crate::commands::verify::stored_usage(&store, &record, ctx.now)?;
    if ctx.json {
        let mut value = output::record_json(&record, ctx.now);
        if let (Some(usage), Some(obj)) = (&usage, value.as_object_mut()) {
            obj.insert("usage".into(), serde_json::to_value(usage).unwrap_or_default());
        }
        output::json(&value);
    } else {
        let left = usage.map(|u| {
            let (o, period) = (u.outcome, u.class);
            let reset =
                if o.reset_seconds > 0 { format!(", starts again in {}s", o.reset_seconds) } else { String::new() };
            ("usage", format!("{} of {} left ({period}{reset})", o.remaining, o.limit))
        });
        output::out(&output::record_fields_and(&record, ctx.now, left));
    }
    Ok(Exit::Ok)
}
