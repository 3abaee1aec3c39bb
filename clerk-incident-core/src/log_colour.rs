//! Whether logs written to stderr may carry ANSI colour codes: only on a terminal, and never
//! when `NO_COLOR` is set (<https://no-color.org>), so that log files, pipes and collectors get
//! plain text. The CLI and the example services give it to their `tracing` formatter.
//!
//! ```
//! let ansi = clerk_incident_core::log_colour::stderr_colour();
//! # let _ = ansi;
//! ```

use std::io::IsTerminal as _;

/// True when stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn stderr_colour() -> bool {
    colour_for(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

fn colour_for(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::colour_for;

    #[test]
    fn only_a_terminal_without_no_color() {
        assert!(colour_for(true, None));
        assert!(colour_for(true, Some(OsStr::new(""))));
        assert!(!colour_for(true, Some(OsStr::new("1"))));
        assert!(!colour_for(false, None));
    }
}
