//! How the auth configuration reads a variable and repeats a bad one, shared by the policy,
//! bypass and operator readers so that they trim and cut alike.

/// The longest part of a rejected value an error repeats.
const SHOWN_CHARS: usize = 64;

/// A variable's value through `get`, trimmed; empty counts as unset.
pub(crate) fn value(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// A value as an error repeats it: at most 64 characters, `…` when cut.
pub(super) fn shown(value: &str) -> String {
    let mut chars = value.chars();
    let mut out: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}
