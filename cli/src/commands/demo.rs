//! `demo`: a Matchii-like deployment (seed 000: `mk_live_` keys, scopes, plans
//! with rate limits) in a fresh directory, and a table of sample requests with
//! the engine's decisions: 200, 400, 401, 403 and 429.

use std::path::{Path, PathBuf};

use keyproof::{IdStyle, KeyRecord, MintOptions, MintedKey, Request};
use serde_json::{json, Value};

use crate::args::DemoArgs;
use crate::commands::keys::mint_and_store;
use crate::commands::verify::{engine, evaluate};
use crate::context::{random32, Ctx};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::store::{Store, StoreLocation};

const POLICY: &str = r#"{
  "formats": ["matchii_live", "matchii_test"],
  "policy": {
    "realm": "matchii",
    "environments": ["live"],
    "routes": [
      { "method": "GET", "path": "/v1/briefs", "any_of": ["briefs:read"] },
      { "method": "POST", "path": "/v1/briefs", "all_of": ["briefs:write"] },
      { "method": "GET", "path": "/v1/matches/{id}", "all_of": ["matches:read"] },
      { "method": "POST", "path": "/v1/reports", "any_of": ["briefs:read"], "feature": "reports" }
    ],
    "plans": {
      "starter": { "limit": 60, "period_seconds": 60, "burst": 3 },
      "pro": { "limit": 600, "period_seconds": 60, "burst": 50 }
    },
    "default_plan": "starter"
  }
}
"#;

struct KeySpec {
    label: &'static str,
    format: &'static str,
    scopes: &'static [&'static str],
    plan: &'static str,
    features: &'static [&'static str],
    ips: &'static [&'static str],
}

const KEYS: &[KeySpec] = &[
    KeySpec {
        label: "reader",
        format: "matchii_live",
        scopes: &["briefs:read", "matches:read"],
        plan: "starter",
        features: &[],
        ips: &[],
    },
    KeySpec {
        label: "writer",
        format: "matchii_live",
        scopes: &["briefs:*"],
        plan: "pro",
        features: &["reports"],
        ips: &[],
    },
    KeySpec {
        label: "office",
        format: "matchii_live",
        scopes: &["briefs:read"],
        plan: "pro",
        features: &[],
        ips: &["203.0.113.0/24"],
    },
    KeySpec {
        label: "sandbox",
        format: "matchii_test",
        scopes: &["briefs:read"],
        plan: "pro",
        features: &[],
        ips: &[],
    },
    KeySpec {
        label: "revoked",
        format: "matchii_live",
        scopes: &["briefs:read"],
        plan: "pro",
        features: &[],
        ips: &[],
    },
    KeySpec {
        label: "rotated",
        format: "matchii_live",
        scopes: &["briefs:read"],
        plan: "pro",
        features: &[],
        ips: &[],
    },
    KeySpec {
        label: "successor",
        format: "matchii_live",
        scopes: &["briefs:read"],
        plan: "pro",
        features: &[],
        ips: &[],
    },
];

/// Who sends a sample request.
enum Sender {
    Key(&'static str),
    Raw(&'static str, &'static str),
    Nobody,
}

struct Sample {
    what: &'static str,
    sender: Sender,
    method: &'static str,
    path: &'static str,
    ip: Option<&'static str>,
}

const fn sample(what: &'static str, sender: Sender, method: &'static str, path: &'static str) -> Sample {
    Sample { what, sender, method, path, ip: None }
}

const SAMPLES: &[Sample] = &[
    sample("read briefs", Sender::Key("reader"), "GET", "/v1/briefs"),
    sample("write with a read-only key", Sender::Key("reader"), "POST", "/v1/briefs"),
    sample("write with briefs:*", Sender::Key("writer"), "POST", "/v1/briefs"),
    sample("no credentials", Sender::Nobody, "GET", "/v1/briefs"),
    sample("malformed key", Sender::Raw("Authorization", "Bearer mk_live_tooShort"), "GET", "/v1/briefs"),
    sample("bad Authorization header", Sender::Raw("Authorization", "Bearer a b"), "GET", "/v1/briefs"),
    sample("well-formed but unknown key", Sender::Key("unknown"), "GET", "/v1/briefs"),
    sample("revoked key", Sender::Key("revoked"), "GET", "/v1/briefs"),
    sample("test key on the live API", Sender::Key("sandbox"), "GET", "/v1/briefs"),
    sample("rotated key, in grace", Sender::Key("rotated"), "GET", "/v1/briefs"),
    Sample {
        ip: Some("203.0.113.5"),
        ..sample("allowlisted key, office IP", Sender::Key("office"), "GET", "/v1/briefs")
    },
    Sample {
        ip: Some("198.51.100.7"),
        ..sample("allowlisted key, other IP", Sender::Key("office"), "GET", "/v1/briefs")
    },
    sample("route not in the policy", Sender::Key("writer"), "GET", "/v1/admin/users"),
    sample("path trick", Sender::Key("writer"), "GET", "/v1/briefs/../admin"),
    sample("feature not enabled", Sender::Key("reader"), "POST", "/v1/reports"),
    sample("feature enabled", Sender::Key("writer"), "POST", "/v1/reports"),
    sample("starter burst (2 of 3)", Sender::Key("reader"), "GET", "/v1/matches/m_42"),
    sample("starter burst (3 of 3)", Sender::Key("reader"), "GET", "/v1/briefs"),
    sample("over the burst", Sender::Key("reader"), "GET", "/v1/briefs"),
];

fn demo_dir(args: &DemoArgs) -> CliResult<PathBuf> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            let suffix: String = random32()?.iter().take(4).map(|b| format!("{b:02x}")).collect();
            std::env::temp_dir().join(format!("keyproof-demo-{suffix}"))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(&format!("cannot create {}", dir.display()), &e))?;
    if dir.join("keyproof.db").exists() {
        return Err(CliError::usage(format!("{} already holds a demo store; pick an empty directory", dir.display())));
    }
    Ok(dir)
}

fn mint_demo_keys(ctx: &Ctx, store: &mut Store) -> CliResult<Vec<(&'static str, MintedKey)>> {
    let mut minted = Vec::new();
    for spec in KEYS {
        let options = MintOptions {
            name: format!("demo {}", spec.label),
            id_style: IdStyle::Prefixed { prefix: "key_".into(), hex_length: 8 },
            scopes: spec.scopes.iter().map(|s| s.to_string()).collect(),
            plan: Some(spec.plan.to_string()),
            features: spec.features.iter().map(|s| s.to_string()).collect(),
            allowed_ips: spec.ips.iter().map(|s| s.to_string()).collect(),
            ..MintOptions::default()
        };
        minted.push((spec.label, mint_and_store(ctx, store, spec.format, &options, |_, _| Ok(()), |_, ()| Ok(()))?));
    }
    let id_of = |label: &str| minted.iter().find(|(l, _)| *l == label).map(|(_, m)| m.record.id.clone());
    let (revoked, rotated, successor) = (id_of("revoked"), id_of("rotated"), id_of("successor"));
    let tx = store.write()?;
    if let Some(id) = revoked {
        let mut record = tx.get(&id)?;
        record.revoke(ctx.now)?;
        tx.update(&record)?;
    }
    if let (Some(id), Some(new_id)) = (rotated, successor) {
        let mut record = tx.get(&id)?;
        record.rotate(&new_id, ctx.now, keyproof::lifecycle::default_rotation_grace())?;
        tx.update(&record)?;
    }
    tx.commit()?;
    // A well-formed key that is never stored.
    let format = keyproof::presets::get("matchii_live")?;
    let unknown = keyproof::mint(&format, &ctx.hasher()?, &MintOptions::named("demo unknown"), &random32()?, ctx.now)?;
    minted.push(("unknown", unknown));
    Ok(minted)
}

fn key_row(label: &str, r: &KeyRecord) -> Vec<String> {
    vec![label.to_string(), r.id.clone(), r.preview.clone(), r.scopes.join(" "), r.plan.clone().unwrap_or_default()]
}

/// `keyproof demo [--dir D]`.
pub fn demo(ctx: &Ctx, args: &DemoArgs) -> CliResult {
    let dir = demo_dir(args)?;
    let policy_path = dir.join("policy.json");
    std::fs::write(&policy_path, POLICY)
        .map_err(|e| CliError::io(&format!("cannot write {}", policy_path.display()), &e))?;
    let store_path = dir.join("keyproof.db");
    let demo_ctx =
        Ctx { json: ctx.json, store: StoreLocation::Sqlite(store_path.clone()), formats_file: None, now: ctx.now };
    let mut store = demo_ctx.open_store()?;
    let keys = mint_demo_keys(&demo_ctx, &mut store)?;
    let engine = engine(&demo_ctx, &store, &policy_path)?;
    let find = |label: &str| keys.iter().find(|(l, _)| *l == label).map(|(_, m)| m);

    let mut rows = Vec::new();
    let mut results = Vec::new();
    for (i, s) in SAMPLES.iter().enumerate() {
        let (headers, who) = match &s.sender {
            Sender::Key(label) => {
                let m = find(label).ok_or_else(|| CliError::usage(format!("demo key {label} missing")))?;
                (vec![("Authorization".to_string(), format!("Bearer {}", m.key.expose()))], m.record.preview.clone())
            }
            Sender::Raw(name, value) => (vec![(name.to_string(), value.to_string())], value.to_string()),
            Sender::Nobody => (Vec::new(), "-".to_string()),
        };
        let sent = Request {
            method: s.method.to_string(),
            path: s.path.to_string(),
            headers,
            client_ip: s.ip.map(str::to_string),
            usage_cost: None,
        };
        let (d, _) = evaluate(&engine, &mut store, &sent, demo_ctx.now)?;
        let code = if d.code == d.public_code { d.code.to_string() } else { format!("{} ({})", d.public_code, d.code) };
        let request = format!("{} {}{}", s.method, s.path, s.ip.map(|ip| format!(" from {ip}")).unwrap_or_default());
        let notes: Vec<String> = d
            .warnings
            .iter()
            .filter_map(|w| serde_json::to_value(w).ok()?.get("code")?.as_str().map(str::to_string))
            .collect();
        let code = if notes.is_empty() { code } else { format!("{code} [{}]", notes.join(", ")) };
        rows.push(vec![(i + 1).to_string(), s.what.to_string(), request, who.clone(), d.status.to_string(), code]);
        results.push(json!({
            "request": s.what, "method": s.method, "path": s.path, "ip": s.ip, "credential": who,
            "allowed": d.allowed, "status": d.status, "code": d.code, "public_code": d.public_code,
            "headers": d.headers, "warnings": d.warnings,
        }));
    }

    let stored: Vec<(&str, &KeyRecord)> =
        keys.iter().filter(|(l, _)| *l != "unknown").map(|(l, m)| (*l, &m.record)).collect();
    if ctx.json {
        let key_json: Vec<Value> = stored
            .iter()
            .map(|(l, r)| json!({ "label": l, "id": r.id, "preview": r.preview, "scopes": r.scopes, "plan": r.plan }))
            .collect();
        output::json(&json!({
            "dir": dir, "store": store_path, "policy": policy_path,
            "keys": key_json, "requests": results,
        }));
    } else {
        let key_rows: Vec<Vec<String>> = stored.iter().map(|(l, r)| key_row(l, r)).collect();
        let mut text = format!("Demo store: {}\nDemo policy: {}\n\n", store_path.display(), policy_path.display());
        text.push_str(&output::table(&["KEY", "ID", "PREVIEW", "SCOPES", "PLAN"], &key_rows));
        text.push('\n');
        text.push_str(&output::table(&["#", "SAMPLE", "REQUEST", "CREDENTIAL", "STATUS", "CODE"], &rows));
        text.push_str(&format!(
            "\nTry: keyproof --store {} verify --policy {} --path /v1/briefs --headers-from -\n",
            shell_path(&store_path),
            shell_path(&policy_path)
        ));
        output::out(&text);
    }
    Ok(Exit::Ok)
}

fn shell_path(p: &Path) -> String {
    let s = p.display().to_string();
    if s.bytes().all(|c| c.is_ascii_alphanumeric() || b"/._-".contains(&c)) {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
