//! Writing to the terminal: the only place the binary prints.

/// An error and its sources on one line (core's, shared with the services).
pub(crate) use clerk_incident_core::error_chain::error_chain;

/// Prints a line of the command's output on stdout.
#[allow(clippy::print_stdout)]
pub(crate) fn out(line: impl AsRef<str>) {
    println!("{}", line.as_ref());
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
#[allow(clippy::print_stderr)]
pub(crate) fn problem(line: &str) {
    eprintln!("clerk-incident: {line}");
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
