//! Writing to the terminal: the only place the binary prints (the logger's lines aside),
//! always above the progress bar.

/// An error and its sources on one line (core's, shared with the services).
pub(crate) use clerk_incident_core::error_chain::error_chain;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// Set once anything went to stdout.
static WROTE_OUTPUT: AtomicBool = AtomicBool::new(false);

/// The last problem reported on stderr.
static LAST_PROBLEM: Mutex<Option<String>> = Mutex::new(None);

/// Prints a line of the command's output on stdout.
#[allow(clippy::print_stdout)]
pub(crate) fn out(line: impl AsRef<str>) {
    WROTE_OUTPUT.store(true, Ordering::Relaxed);
    crate::progress_bar::suspend(|| println!("{}", line.as_ref()));
}

/// Under `--json`, a command that failed before printing its document still answers on
/// stdout: `{"status":"error","exit_code":2,"error":"…"}` with the last problem it reported, so
/// that a script always gets something to parse.
pub(crate) fn json_error_if_silent(exit_code: u8) {
    if exit_code == 0 || WROTE_OUTPUT.load(Ordering::Relaxed) {
        return;
    }
    let error = LAST_PROBLEM
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    json(&serde_json::json!({
        "status": "error",
        "exit_code": exit_code,
        "error": error,
    }));
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => out(text),
        Err(err) => problem(&format!("cannot encode the output as JSON: {err}")),
    }
}

/// Prints a value as JSON on one line of stdout, for output read line by line.
pub(crate) fn json_line(value: &impl serde::Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => out(text),
        Err(err) => problem(&format!("cannot encode the output as JSON: {err}")),
    }
}

/// Prints a problem on stderr.
pub(crate) fn problem(line: &str) {
    *LAST_PROBLEM.lock().unwrap_or_else(PoisonError::into_inner) = Some(line.to_owned());
    notice(line);
}

/// Prints a line on stderr that is news, not the command's problem (under `--json`, not the
/// error reported if the command then fails).
#[allow(clippy::print_stderr)]
pub(crate) fn notice(line: &str) {
    crate::progress_bar::suspend(|| eprintln!("clerk-incident: {line}"));
}

/// `text` with its first letter in upper case.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chains_join_every_source() {
        let err = Outer(std::io::Error::other("root cause"));
        assert_eq!(error_chain(&err), "outer: root cause");
    }
}
