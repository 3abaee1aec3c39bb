//! Markdown pieces of the post-incident review: free text on one line, table cells, code spans.

use super::redact::redact;

/// Free text on one line, redacted.
pub(super) fn one_line(text: &str) -> String {
    redact(text)
        .split(['\r', '\n'])
        .filter(|part| !part.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Free text as a table cell: one line, pipes escaped.
pub(super) fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// `text` as a Markdown code span, fenced with more backticks than it contains.
pub(super) fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let longest = text
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}
