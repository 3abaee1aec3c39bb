//! The ids an application already holds (`--known-ids FILE`), optionally with the
//! `updated_at` it holds for each.

use std::collections::HashMap;
use std::path::Path;

/// The user ids an application already holds, as exported from its users table.
///
/// The text format is one user per line: the id, then optionally its `updated_at` in Unix
/// milliseconds, separated by a comma, a tab or spaces (so `psql … COPY … CSV` and `jq -r`
/// output both work). Blank lines and lines starting with `#` are ignored, and so is a first
/// line that is not a user id (a CSV header such as `id,updated_at`). With `updated_at`, a
/// replay skips users the application already has at Clerk's version; without it, every
/// known user changed since the replay's start is sent again as `user.updated`.
///
/// ```
/// use clerk_incident_core::webhooks::KnownIds;
///
/// let known = KnownIds::parse("id,updated_at\nuser_1,1700000000000\n\nuser_2\n")?;
/// assert_eq!(known.len(), 2);
/// assert_eq!(known.updated_at("user_1"), Some(1_700_000_000_000));
/// assert!(known.contains("user_2") && known.updated_at("user_2").is_none());
/// # Ok::<(), clerk_incident_core::webhooks::KnownIdsError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownIds {
    ids: HashMap<String, Option<i64>>,
}

/// Why a known-ids file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KnownIdsError {
    /// The file could not be read.
    #[error("cannot read the known-ids file {path}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `user_…[,updated_at]`.
    #[error("known-ids line {line}: {reason}")]
    Line {
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl KnownIds {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and [parses](Self::parse) a file.
    ///
    /// # Errors
    ///
    /// [`KnownIdsError::Io`] when the file cannot be read, [`KnownIdsError::Line`] for the
    /// first malformed line.
    pub fn read(path: &Path) -> Result<Self, KnownIdsError> {
        let text = std::fs::read_to_string(path).map_err(|source| KnownIdsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses the text format described on [`KnownIds`].
    ///
    /// # Errors
    ///
    /// [`KnownIdsError::Line`] for the first line whose id does not start with `user_` or
    /// whose `updated_at` is not an integer.
    pub fn parse(text: &str) -> Result<Self, KnownIdsError> {
        let mut known = Self::new();
        let mut first = true;
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .map(|field| field.trim().trim_matches('"'))
                .filter(|field| !field.is_empty());
            let id = fields.next().unwrap_or_default();
            let header = !id.starts_with("user_") || id.eq_ignore_ascii_case("user_id");
            if std::mem::take(&mut first) && header {
                continue;
            }
            let bad = |reason: String| KnownIdsError::Line {
                line: index + 1,
                reason,
            };
            if !id.starts_with("user_") || id.len() > 128 {
                return Err(bad(format!(
                    "`{}` is not a Clerk user id (user_…)",
                    clip(id)
                )));
            }
            let updated_at = match fields.next() {
                None => None,
                Some(value) => Some(value.parse::<i64>().map_err(|_| {
                    bad(format!(
                        "`{}` is not an updated_at in Unix milliseconds",
                        clip(value)
                    ))
                })?),
            };
            known.insert(id, updated_at);
        }
        Ok(known)
    }

    /// Adds an id, with the `updated_at` the application holds for it when known. An id
    /// given twice keeps its newest `updated_at`.
    pub fn insert(&mut self, id: impl Into<String>, updated_at: Option<i64>) {
        let slot = self.ids.entry(id.into()).or_insert(updated_at);
        *slot = (*slot).max(updated_at);
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether the application holds `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// The `updated_at` the application holds for `id`, when the file gave one.
    pub fn updated_at(&self, id: &str) -> Option<i64> {
        self.ids.get(id).copied().flatten()
    }

    /// The ids, sorted (so that runs are reproducible).
    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.ids.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }
}

impl<S: Into<String>> FromIterator<S> for KnownIds {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut known = Self::new();
        for id in iter {
            known.insert(id, None);
        }
        known
    }
}

/// At most 40 characters of a field, for an error message.
fn clip(field: &str) -> String {
    field.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_tabs_spaces_comments_and_a_header() {
        let text = "user_id,updated_at\n# exported at 3am\nuser_a,5\nuser_b\t7\n  user_c  \n\"user_d\",\"9\"\n";
        let known = KnownIds::parse(text).unwrap();
        assert_eq!(known.ids(), ["user_a", "user_b", "user_c", "user_d"]);
        assert_eq!(known.updated_at("user_a"), Some(5));
        assert_eq!(known.updated_at("user_b"), Some(7));
        assert_eq!(known.updated_at("user_c"), None);
        assert_eq!(known.updated_at("user_d"), Some(9));
    }

    #[test]
    fn rejects_lines_that_are_not_user_ids_with_their_number() {
        let error = KnownIds::parse("user_a\norg_b\n").unwrap_err();
        assert!(
            matches!(error, KnownIdsError::Line { line: 2, .. }),
            "{error}"
        );
        let error = KnownIds::parse("user_a,yesterday\n").unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        assert!(KnownIds::parse("id\nuser_a\n").is_ok());
        assert!(KnownIds::parse("clerk_id,updated_at_ms\nuser_a,1\n").is_ok());
        assert!(KnownIds::parse("user_a\nid\n").is_err());
    }

    #[test]
    fn keeps_the_newest_updated_at_of_a_repeated_id() {
        let known = KnownIds::parse("user_a,5\nuser_a,3\nuser_a\n").unwrap();
        assert_eq!(known.len(), 1);
        assert_eq!(known.updated_at("user_a"), Some(5));
    }

    #[test]
    fn an_unreadable_file_names_the_path() {
        let error = KnownIds::read(Path::new("/nonexistent/known-ids.txt")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/known-ids.txt"));
    }
}
