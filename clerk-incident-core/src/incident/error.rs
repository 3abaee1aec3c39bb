//! [`IncidentError`]: what can go wrong with an incident log.

use std::io;
use std::path::{Path, PathBuf};

/// Why an incident log could not be created, opened, written or read.
///
/// Messages name the file (and the line, for a corrupt entry); they never repeat the source
/// error: walk [`std::error::Error::source`] for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IncidentError {
    /// The file system refused an operation.
    #[error("cannot {operation} incident log {}", path.display())]
    Io {
        /// The log.
        path: PathBuf,
        /// What was being done, such as `append to` or `read`.
        operation: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// [`IncidentLog::create`](super::IncidentLog::create) found a file that is not empty.
    #[error("incident log {} already exists and is not empty", path.display())]
    Exists {
        /// The log.
        path: PathBuf,
    },
    /// The log does not exist.
    #[error("incident log {} does not exist", path.display())]
    NotFound {
        /// The path that was given.
        path: PathBuf,
    },
    /// A line other than the last is not an entry; the log was edited or damaged.
    #[error("incident log {} is corrupt: line {line} is not an entry ({detail})", path.display())]
    Corrupt {
        /// The log.
        path: PathBuf,
        /// The line, counting from 1.
        line: usize,
        /// What is wrong with it (the parser's message, never a copy of the line).
        detail: String,
    },
    /// An entry could not be encoded (its time is outside the years 1970 to 9999).
    #[error("cannot encode an entry for incident log {}: {detail}", path.display())]
    Encode {
        /// The log.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
}

impl IncidentError {
    /// The log the error is about.
    pub fn path(&self) -> &Path {
        match self {
            IncidentError::Io { path, .. }
            | IncidentError::Exists { path }
            | IncidentError::NotFound { path }
            | IncidentError::Corrupt { path, .. }
            | IncidentError::Encode { path, .. } => path,
        }
    }

    /// An [`IncidentError::Io`], or [`IncidentError::NotFound`] when the error says so.
    pub(crate) fn io(path: &Path, operation: &'static str, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::NotFound {
            IncidentError::NotFound {
                path: path.to_owned(),
            }
        } else {
            IncidentError::Io {
                path: path.to_owned(),
                operation,
                source,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_not_the_source() {
        let err = IncidentError::io(
            Path::new("inc.jsonl"),
            "append to",
            io::Error::new(io::ErrorKind::PermissionDenied, "denied"),
        );
        assert_eq!(err.to_string(), "cannot append to incident log inc.jsonl");
        assert_eq!(err.path(), Path::new("inc.jsonl"));
        let missing = IncidentError::io(
            Path::new("gone.jsonl"),
            "open",
            io::Error::from(io::ErrorKind::NotFound),
        );
        assert!(matches!(missing, IncidentError::NotFound { .. }));
        let corrupt = IncidentError::Corrupt {
            path: "inc.jsonl".into(),
            line: 3,
            detail: "expected value at line 1 column 1".into(),
        };
        assert_eq!(
            corrupt.to_string(),
            "incident log inc.jsonl is corrupt: line 3 is not an entry (expected value at line 1 column 1)"
        );
    }
}
