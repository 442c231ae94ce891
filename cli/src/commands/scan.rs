//! `scan` (find keys in files, directories or stdin) and `redact` (replace them by previews).

use std::io::Write;
use std::path::{Path, PathBuf};

use keyproof::{Finding, FormatSet};
use serde_json::json;

use crate::args::{RedactArgs, ScanArgs};
use crate::context::{read_input, Ctx};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

/// Files larger than this are skipped (with a warning).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// A NUL byte in this many leading bytes marks a file as binary.
const BINARY_SNIFF_BYTES: usize = 8192;

fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(BINARY_SNIFF_BYTES).any(|b| *b == 0)
}

#[derive(Default)]
struct Scan {
    findings: Vec<(String, Finding)>,
    files_scanned: usize,
    skipped: Vec<(String, &'static str)>,
    errors: Vec<CliError>,
}

impl Scan {
    fn text(&mut self, set: &FormatSet, name: &str, text: &str) {
        self.files_scanned += 1;
        self.findings.extend(keyproof::scan(set, text).into_iter().map(|f| (name.to_string(), f)));
    }

    fn file(&mut self, set: &FormatSet, path: &Path) {
        let name = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => return self.skipped.push((name, "larger than 64 MiB")),
            Ok(_) => {}
            Err(e) => return self.errors.push(CliError::io(&format!("cannot read {name}"), &e)),
        }
        match std::fs::read(path) {
            Ok(bytes) if is_binary(&bytes) => self.skipped.push((name, "binary")),
            Ok(bytes) => self.text(set, &name, &String::from_utf8_lossy(&bytes)),
            Err(e) => self.errors.push(CliError::io(&format!("cannot read {name}"), &e)),
        }
    }

    fn dir(&mut self, set: &FormatSet, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.errors.push(CliError::io(&format!("cannot list {}", dir.display()), &e)),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            // Symlinks inside a tree are not followed: no loops, no scanning outside it.
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if meta.is_dir() {
                if path.file_name().is_some_and(|n| n == ".git") {
                    continue;
                }
                self.dir(set, &path);
            } else if meta.is_file() {
                self.file(set, &path);
            }
        }
    }

    fn path(&mut self, set: &FormatSet, arg: &str) {
        if arg == "-" {
            match read_input("-") {
                Ok(text) => self.text(set, "-", &text),
                Err(e) => self.errors.push(e),
            }
            return;
        }
        let path = Path::new(arg);
        if path.is_dir() {
            self.dir(set, path);
        } else if path.exists() {
            self.file(set, path);
        } else {
            self.errors.push(CliError::new(Exit::Io, "io_error", format!("{arg}: no such file or directory")));
        }
    }
}

/// `keyproof scan PATH...`: exit 1 when a key is found, 0 when clean.
pub fn scan(ctx: &Ctx, args: &ScanArgs) -> CliResult {
    let set = ctx.format_set(&[])?;
    let mut scan = Scan::default();
    for arg in &args.paths {
        scan.path(&set, arg);
    }
    // Error messages echo the paths given; a key pasted as a path shows as its preview.
    let scanner = keyproof::Scanner::new(&set);
    for e in &mut scan.errors {
        e.message = scanner.redact(&e.message);
    }
    if ctx.json {
        let findings: Vec<_> = scan
            .findings
            .iter()
            .map(|(path, f)| {
                json!({
                    "path": path,
                    "line": f.line,
                    "column": f.column,
                    "format": f.format_id,
                    "preview": f.preview,
                    "checksum_verified": f.checksum_verified,
                })
            })
            .collect();
        let skipped: Vec<_> = scan.skipped.iter().map(|(p, why)| json!({ "path": p, "reason": why })).collect();
        let errors: Vec<_> = scan.errors.iter().map(|e| json!({ "code": e.code, "message": e.message })).collect();
        output::json(&json!({
            "findings": findings,
            "files_scanned": scan.files_scanned,
            "skipped": skipped,
            "errors": errors,
        }));
    } else {
        let mut text = String::new();
        for (path, f) in &scan.findings {
            text.push_str(&format!("{path}:{}:{} {} {}\n", f.line, f.column, f.format_id, f.preview));
        }
        output::out(&text);
        for e in &scan.errors {
            output::err_line(&format!("warning: {e}"));
        }
        let files: std::collections::BTreeSet<&str> = scan.findings.iter().map(|(p, _)| p.as_str()).collect();
        output::err_line(&format!(
            "{} key(s) found in {} file(s); {} file(s) scanned, {} skipped",
            scan.findings.len(),
            files.len(),
            scan.files_scanned,
            scan.skipped.len()
        ));
    }
    Ok(if !scan.findings.is_empty() {
        Exit::Found
    } else if !scan.errors.is_empty() {
        Exit::Io
    } else {
        Exit::Ok
    })
}

fn write_atomically(path: &Path, text: &str) -> CliResult<()> {
    let fail = |e: &std::io::Error| CliError::io(&format!("cannot write {}", path.display()), e);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.keyproof-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(&e)
    })
}

/// `keyproof redact FILE|- [--in-place]`.
pub fn redact(ctx: &Ctx, args: &RedactArgs) -> CliResult {
    if args.in_place && args.file == "-" {
        return Err(CliError::usage("--in-place needs a file, not stdin"));
    }
    let set = ctx.format_set(&[])?;
    let text = if args.file == "-" {
        read_input("-")?
    } else {
        let bytes = std::fs::read(&args.file).map_err(|e| CliError::io(&format!("cannot read {}", args.file), &e))?;
        if is_binary(&bytes) {
            return Err(CliError::usage(format!("{} looks binary; redact works on text", args.file)));
        }
        String::from_utf8(bytes)
            .map_err(|_| CliError::usage(format!("{} is not UTF-8 text; redact works on text", args.file)))?
    };
    let count = keyproof::scan(&set, &text).len();
    let redacted = keyproof::redact(&set, &text);
    if args.in_place {
        if count > 0 {
            write_atomically(Path::new(&args.file), &redacted)?;
        }
        if ctx.json {
            output::json(&json!({ "path": args.file, "redacted": count }));
        } else {
            output::err_line(&format!("redacted {count} key(s) in {}", args.file));
        }
    } else if ctx.json {
        output::json(&json!({ "text": redacted, "redacted": count }));
    } else {
        output::out(&redacted);
    }
    Ok(Exit::Ok)
}
