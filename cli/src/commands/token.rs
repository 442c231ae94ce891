//! `token issue | inspect | verify` and `jwks`: access tokens (issue 15) from the
//! shell. Keys and settings come from the `tokens` section of an engine config
//! file; the clock and the `jti` bytes come from this binary, every rule from core.

use keyproof::{Engine, TokenOptions};
use serde_json::{json, Value};

use crate::args::{JwksArgs, TokenIssueArgs, TokenVerifyArgs};
use crate::commands::verify::engine;
use crate::context::{random32, read_input, Ctx};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

/// A token given on the command line, or `-` for stdin (keeps it out of argv).
fn token_text(arg: &str) -> CliResult<String> {
    let text = if arg == "-" { read_input("-")? } else { arg.to_string() };
    Ok(text.trim().to_string())
}

fn tokens_engine(ctx: &Ctx, policy: &std::path::Path) -> CliResult<Engine> {
    // Without a store (an edge, a verifier elsewhere) the file must be a full engine config.
    let engine = match ctx.open_read_store()? {
        Some(store) => engine(ctx, &store, policy)?,
        None => Engine::from_json(&crate::context::read_file(policy)?)?,
    };
    if engine.tokens().is_none() {
        return Err(CliError::usage(format!("{} has no tokens section", policy.display())));
    }
    Ok(engine)
}

/// `keyproof token issue`: a token for a stored key, narrowed by the options.
pub fn issue(ctx: &Ctx, args: &TokenIssueArgs) -> CliResult {
    let store =
        ctx.open_read_store()?.ok_or_else(|| CliError::store(format!("no store at {}", ctx.store.display())))?;
    let engine = engine(ctx, &store, &args.policy)?;
    let record = store.get(&args.id)?;
    let options =
        TokenOptions {
            scopes: (!args.scopes.is_empty()).then(|| args.scopes.clone()),
            routes: (!args.routes.is_empty()).then(|| args.routes.clone()),
            cidrs: args.cidrs.clone(),
            origins: args.origins.clone(),
            kind: args.kind.as_deref().map(|k| serde_json::from_value(json!(k))).transpose().map_err(|_| {
                CliError::usage("kinds are secret, restricted, client_secret, sdk_token and publishable")
            })?,
            lifetime_seconds: args.lifetime,
        };
    let issued = engine.issue_token(&record, &options, &random32()?, ctx.now)?;
    if ctx.json {
        output::json(&json!({
            "access_token": issued.access_token.expose(),
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "kid": issued.kid,
            "claims": issued.claims,
        }));
    } else {
        output::line(issued.access_token.expose());
        output::err_line(&format!(
            "token for {} signed by {}, expires in {} s (shown once: keep it like the key)",
            record.id, issued.kid, issued.expires_in
        ));
    }
    Ok(Exit::Ok)
}

/// `keyproof token inspect`: header and claims, decoded without verification.
pub fn inspect(ctx: &Ctx, token: &str) -> CliResult {
    let (header, claims) = keyproof::token::inspect(&token_text(token)?)?;
    let header = serde_json::to_value(&header).unwrap_or(Value::Null);
    if ctx.json {
        output::json(&json!({"verified": false, "header": header, "claims": claims}));
    } else {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        output::out(&format!(
            "NOT VERIFIED (decoded only)\nheader: {}\nclaims: {}\n",
            pretty(&header),
            pretty(&claims)
        ));
    }
    Ok(Exit::Ok)
}

/// `keyproof token verify`: offline verification (signature, claims, time window);
/// exit 0 when valid, 1 when not.
pub fn verify(ctx: &Ctx, args: &TokenVerifyArgs) -> CliResult {
    let engine = tokens_engine(ctx, &args.policy)?;
    match engine.verify_token(&token_text(&args.token)?, ctx.now) {
        Ok(token) => {
            if ctx.json {
                output::json(&json!({"valid": true, "kid": token.kid, "claims": token.claims}));
            } else {
                output::out(&format!(
                    "VALID kid={} key_id={} scope={:?}\n",
                    token.kid,
                    token.claims.key_id,
                    token.scopes.join(" ")
                ));
            }
            Ok(Exit::Ok)
        }
        Err(e) => {
            if ctx.json {
                output::json(&json!({"valid": false, "code": e.code(), "message": e.message()}));
            } else {
                output::out(&format!("INVALID {}: {}\n", e.code(), e.message()));
            }
            Ok(Exit::Found)
        }
    }
}

/// `keyproof jwks`: the public JWKS of a config, or a new private key with `--generate`.
pub fn jwks(ctx: &Ctx, args: &JwksArgs) -> CliResult {
    if let Some(kid) = &args.generate {
        let jwk = keyproof::Jwk::ed25519(&random32()?, kid)?;
        output::json(&serde_json::to_value(&jwk).unwrap_or(Value::Null));
        output::err_line("a new private Ed25519 key: add it to tokens.keys, keep it secret");
        return Ok(Exit::Ok);
    }
    let policy = args.policy.as_ref().ok_or_else(|| CliError::usage("jwks needs --policy or --generate KID"))?;
    output::json(&tokens_engine(ctx, policy)?.public_jwks());
    Ok(Exit::Ok)
}
