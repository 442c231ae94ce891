//! Exit codes and the one error type every command returns.
//!
//! Every failure becomes one line on stderr, `error: <code>: <message>`, and a
//! documented exit status (see `cli/README.md`). Nothing here ever panics or
//! prints a backtrace, and no message carries a key.

use std::fmt;
use std::process::ExitCode;

use keyproof::{ErrorFamily, ErrorKind};

/// The exit statuses the CLI uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success: the command did what was asked (scan found nothing, verify allowed).
    Ok = 0,
    /// `scan` found keys, or `verify` denied the request.
    Found = 1,
    /// Bad command line or invalid input (unknown preset, bad expiry, malformed key …).
    Usage = 2,
    /// The store could not be opened, read or written, or holds a corrupt record.
    Store = 3,
    /// No record with that id.
    NotFound = 4,
    /// A file or stdin could not be read or written.
    Io = 5,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

/// A failure: an exit status, a stable snake_case code and a secret-free message.
#[derive(Debug)]
pub struct CliError {
    /// Exit status.
    pub exit: Exit,
    /// Stable code: a core error code or one of `usage`, `store_error`, `unknown_id`, `io_error`.
    pub code: String,
    /// Human message without secrets.
    pub message: String,
}

impl CliError {
    /// Builds an error.
    pub fn new(exit: Exit, code: &str, message: impl Into<String>) -> Self {
        Self { exit, code: code.to_string(), message: message.into() }
    }

    /// Bad command-line usage.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, "usage", message)
    }

    /// A store failure.
    pub fn store(message: impl Into<String>) -> Self {
        Self::new(Exit::Store, "store_error", message)
    }

    /// No record with this id.
    pub fn unknown_id(id: &str) -> Self {
        Self::new(Exit::NotFound, "unknown_id", format!("no key with id {id:?} in the store"))
    }

    /// A file could not be read or written.
    pub fn io(what: &str, e: &std::io::Error) -> Self {
        Self::new(Exit::Io, "io_error", format!("{what}: {e}"))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<keyproof::Error> for CliError {
    fn from(e: keyproof::Error) -> Self {
        let exit = match e.kind().family() {
            ErrorFamily::Authentication | ErrorFamily::Authorization | ErrorFamily::RateLimit => Exit::Found,
            _ if e.kind() == ErrorKind::InsufficientRandomness => Exit::Io,
            _ => Exit::Usage,
        };
        Self::new(exit, e.code(), e.message())
    }
}

/// Result alias for commands.
pub type CliResult<T = Exit> = Result<T, CliError>;
