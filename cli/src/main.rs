//! `keyproof`: mint, inspect, rotate, revoke, verify and scan API keys from the shell.
//!
//! The core has no I/O; this binary supplies the clock, the OS random generator,
//! a store (a SQLite file, or PostgreSQL) and files. Every failure is one line, `error: <code>: <message>`,
//! with a documented exit status (see README.md).

mod args;
mod commands;
mod context;
mod exit;
mod output;
mod redact;
mod store;

use std::process::ExitCode;

use keyproof::Settlement;

use crate::args::{Cli, Command, TokenCommand};
use crate::context::Ctx;
use crate::exit::{CliError, CliResult, Exit};
use crate::store::StoreLocation;

fn run(cli: Cli) -> CliResult {
    let now = match &cli.now {
        Some(t) => context::parse_time(t)?,
        None => chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3),
    };
    let ctx = Ctx { json: cli.json, store: StoreLocation::parse(cli.store), formats_file: cli.formats, now };
    match cli.command {
        Command::Mint(args) => commands::keys::mint(&ctx, &args),
        Command::Inspect { key } => commands::inspect::inspect(&ctx, &key),
        Command::List(args) => commands::keys::list(&ctx, &args),
        Command::Show { id } => commands::keys::show(&ctx, &id),
        Command::Rotate(args) => commands::lifecycle::rotate(&ctx, &args),
        Command::Update(args) => commands::update::update(&ctx, &args),
        Command::Revoke { id } => commands::lifecycle::change(&ctx, &id, commands::lifecycle::Change::Revoke),
        Command::Disable { id } => commands::lifecycle::change(&ctx, &id, commands::lifecycle::Change::Disable),
        Command::Enable { id } => commands::lifecycle::change(&ctx, &id, commands::lifecycle::Change::Enable),
        Command::Scan(args) => commands::scan::scan(&ctx, &args),
        Command::Redact(args) => commands::scan::redact(&ctx, &args),
        Command::Formats => commands::inspect::formats(&ctx),
        Command::Verify(args) => commands::verify::verify(&ctx, &args),
        Command::Charge { id, units } => commands::verify::settle(&ctx, &id, units, Settlement::Charge),
        Command::Refund { id, units } => commands::verify::settle(&ctx, &id, units, Settlement::Refund),
        Command::Demo(args) => commands::demo::demo(&ctx, &args),
        Command::Token(TokenCommand::Issue(args)) => commands::token::issue(&ctx, &args),
        Command::Token(TokenCommand::Inspect { token }) => commands::token::inspect(&ctx, &token),
        Command::Token(TokenCommand::Verify(args)) => commands::token::verify(&ctx, &args),
        Command::Jwks(args) => commands::token::jwks(&ctx, &args),
    }
}

/// Prints an error: one line on stderr (and the JSON form on stdout with
/// `--json`), with every key of a preset or of `custom` formats shown as its preview.
fn report(e: &CliError, json: bool, custom: Vec<keyproof::KeyFormat>) {
    let message = redact::error_text(&e.message, custom);
    if json {
        output::json(&serde_json::json!({
            "error": { "code": e.code, "message": message, "exit_code": e.exit as u8 }
        }));
    }
    output::err_line(&format!("error: {}: {message}", e.code));
}

/// Parses the command line; `rotate --grace`'s help names core's default grace.
fn parse_args() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let grace = format!(
        "How long the old key keeps working: 24h, 30m, 7d, 0 … [default: {}h, core's rotation grace; 0 with --resume]",
        keyproof::DEFAULT_ROTATION_GRACE_HOURS
    );
    let matches =
        Cli::command().mut_subcommand("rotate", |c| c.mut_arg("grace", |a| a.help(grace))).try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

fn main() -> ExitCode {
    let json_requested = std::env::args_os().any(|a| a == "--json");
    let cli = match parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind as K;
            if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand) {
                output::out(&e.render().to_string());
                return if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                    Exit::Usage.code()
                } else {
                    Exit::Ok.code()
                };
            }
            // clap's message up to its usage block, on one line.
            let rendered = e.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            report(&CliError::usage(format!("{message} (see keyproof --help)")), json_requested, Vec::new());
            return Exit::Usage.code();
        }
    };
    let json = cli.json;
    let (store, formats_file) = (StoreLocation::parse(cli.store.clone()), cli.formats.clone());
    match run(cli) {
        Ok(exit) => exit.code(),
        Err(e) => {
            // A database that just failed is not asked again (it might keep the user waiting).
            let store = (e.exit != Exit::Store || store.sqlite_path().is_some()).then_some(&store);
            report(&e, json, redact::known_formats(store, formats_file.as_deref()));
            e.exit.code()
        }
    }
}
