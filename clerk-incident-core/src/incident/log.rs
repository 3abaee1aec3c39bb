//! [`IncidentLog`]: the append-only JSON-lines file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::entry::{Entry, EntryKind};
use super::error::IncidentError;
use super::timeline::Timeline;
use crate::triage::{Category, Severity};

/// An incident's log: one JSON object per line, appended to by every command run with
/// `--incident FILE`, read back as a [`Timeline`].
///
/// The handle holds only the path; every call opens the file, so handles are cheap to clone,
/// and several handles, threads or processes may append to one log at once: each append takes
/// an exclusive advisory lock on the file (`flock` on Unix, `LockFileEx` on Windows), writes
/// its whole line with one `write_all` on a file opened for appending, syncs it to disk and
/// unlocks. Readers take a shared lock, so they never see half a line that is still being
/// written.
///
/// A crash in the middle of a write can still leave half a line at the end of the file:
/// [`read`](Self::read) skips it with a warning, and the next
/// [`append`](Self::append) cuts it off before writing, so that the log stays readable.
///
/// ```
/// use clerk_incident_core::incident::{EntryKind, IncidentLog};
/// use clerk_incident_core::triage::{Category, Severity};
///
/// # let dir = std::env::temp_dir().join(format!("incident-log-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("2026-11-26-clerk-503.jsonl");
/// # let _ = std::fs::remove_file(&path);
/// let log = IncidentLog::create(&path, "Sign-in failing", Severity::High, Category::ClerkOutage)?;
/// log.append(EntryKind::Note { text: "Clerk's status page reports a major outage".into() })?;
///
/// let timeline = IncidentLog::open(&path)?.read()?;
/// assert_eq!(timeline.title(), Some("Sign-in failing"));
/// assert_eq!(timeline.entries.len(), 2);
/// assert!(timeline.warnings.is_empty());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct IncidentLog {
    path: PathBuf,
}

impl IncidentLog {
    /// Creates a new log at `path` whose first entry is [`EntryKind::Started`].
    ///
    /// An existing empty file is used (such as one made by `mktemp`); a non-empty one is
    /// refused with [`IncidentError::Exists`], so that two incidents never share a log. The
    /// parent directory must exist.
    pub fn create(
        path: impl AsRef<Path>,
        title: impl Into<String>,
        severity: Severity,
        category: Category,
    ) -> Result<Self, IncidentError> {
        let log = Self {
            path: path.as_ref().to_owned(),
        };
        let mut file = crate::private_file::options()
            .read(true)
            .append(true)
            .create(true)
            .open(&log.path)
            .and_then(|file| crate::private_file::restrict(&file).map(|()| file))
            .map_err(|source| IncidentError::Io {
                path: log.path.clone(),
                operation: "create",
                source,
            })?;
        let started = EntryKind::Started {
            title: title.into(),
            severity,
            category,
        };
        log.locked(&mut file, |log, file| {
            // Checked under the lock: of two processes creating the same log, one fails.
            if file.metadata().map_err(|e| log.io("create", e))?.len() > 0 {
                return Err(IncidentError::Exists {
                    path: log.path.clone(),
                });
            }
            log.write_entry(file, started)
        })?;
        Ok(log)
    }

    /// Opens an existing log; [`IncidentError::NotFound`] when there is none.
    ///
    /// Only checks that the file is there; [`read`](Self::read) checks its content.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, IncidentError> {
        let path = path.as_ref().to_owned();
        let metadata = fs::metadata(&path).map_err(|e| IncidentError::io(&path, "open", e))?;
        if metadata.is_dir() {
            return Err(IncidentError::Io {
                path,
                operation: "open",
                source: io::Error::from(io::ErrorKind::IsADirectory),
            });
        }
        Ok(Self { path })
    }

    /// Appends one entry stamped with the current time (to the millisecond) and returns it as
    /// written.
    ///
    /// Safe across threads and processes (see the [type documentation](Self)). Text that looks
    /// like a secret key, webhook secret or token is replaced with `[redacted]` first, as a
    /// safety net: callers must not put secrets in entries at all.
    ///
    /// The time is taken under the lock, so the order of the lines is the order of the times
    /// (as far as the system clock goes forward). A file that is not an incident log
    /// ([`IncidentError::Corrupt`]) is left as it is.
    pub fn append(&self, kind: EntryKind) -> Result<Entry, IncidentError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.io("open", e))?;
        self.locked(&mut file, |log, file| {
            // Never add to what is not an incident log (a wrong path, a damaged file).
            let mut bytes = Vec::new();
            file.seek(SeekFrom::Start(0))
                .and_then(|_| file.read_to_end(&mut bytes))
                .map_err(|e| log.io("read", e))?;
            parse(&log.path, &bytes)?;
            log.write_entry(file, kind)
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every entry.
    ///
    /// Blank lines are ignored. A last line that is cut short or does not parse (a crash in
    /// the middle of a write) is skipped and reported in [`Timeline::warnings`] when entries
    /// come before it; a line anywhere else that does not parse, or a log without a single
    /// readable entry, is [`IncidentError::Corrupt`], naming the line.
    pub fn read(&self) -> Result<Timeline, IncidentError> {
        let mut file = File::open(&self.path).map_err(|e| self.io("read", e))?;
        let mut bytes = Vec::new();
        self.locked_shared(&mut file, |log, file| {
            file.read_to_end(&mut bytes)
                .map(drop)
                .map_err(|e| log.io("read", e))
        })?;
        parse(&self.path, &bytes)
    }

    fn io(&self, operation: &'static str, source: io::Error) -> IncidentError {
        IncidentError::io(&self.path, operation, source)
    }

    /// Runs `f` under an exclusive lock on `file`.
    fn locked<T>(
        &self,
        file: &mut File,
        f: impl FnOnce(&Self, &mut File) -> Result<T, IncidentError>,
    ) -> Result<T, IncidentError> {
        file.lock().map_err(|e| self.io("lock", e))?;
        let result = f(self, file);
        // Closing the file releases the lock too; an error here changes nothing.
        let _ = file.unlock();
        result
    }

    /// Runs `f` under a shared lock on `file`.
    fn locked_shared<T>(
        &self,
        file: &mut File,
        f: impl FnOnce(&Self, &mut File) -> Result<T, IncidentError>,
    ) -> Result<T, IncidentError> {
        file.lock_shared().map_err(|e| self.io("lock", e))?;
        let result = f(self, file);
        let _ = file.unlock();
        result
    }

    /// Writes one entry as one line. The caller holds the exclusive lock.
    fn write_entry(&self, file: &mut File, kind: EntryKind) -> Result<Entry, IncidentError> {
        let entry = Entry::new(SystemTime::now(), kind.redacted());
        let mut line = serde_json::to_vec(&entry).map_err(|err| IncidentError::Encode {
            path: self.path.clone(),
            detail: err.to_string(),
        })?;
        line.push(b'\n');
        if !self.ends_cleanly(file)? {
            line.insert(0, b'\n');
        }
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| self.io("append to", e))?;
        Ok(entry)
    }

    /// Whether the file is empty or ends with a newline. When it does not, a complete entry
    /// without its newline (a hand edit) is kept and `false` returned, so that the caller
    /// starts a new line; half an entry (a write interrupted by a crash) is cut off.
    fn ends_cleanly(&self, file: &mut File) -> Result<bool, IncidentError> {
        let len = file.metadata().map_err(|e| self.io("read", e))?.len();
        if len == 0 {
            return Ok(true);
        }
        let mut last = [0_u8];
        file.seek(SeekFrom::Start(len - 1))
            .and_then(|_| file.read_exact(&mut last))
            .map_err(|e| self.io("read", e))?;
        if last == [b'\n'] {
            return Ok(true);
        }
        // Rare: read it all to find where the last line starts.
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| self.io("read", e))?;
        let start = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let tail = bytes.get(start..).unwrap_or_default();
        if serde_json::from_slice::<Entry>(tail).is_ok() {
            return Ok(false);
        }
        file.set_len(start as u64)
            .map_err(|e| self.io("repair", e))?;
        tracing::warn!(
            path = %self.path.display(),
            bytes = tail.len(),
            "cut off an incomplete last line of the incident log (a write interrupted by a crash?)"
        );
        Ok(true)
    }
}

/// The entries of a log's content.
fn parse(path: &Path, bytes: &[u8]) -> Result<Timeline, IncidentError> {
    let lines: Vec<(usize, &[u8])> = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .collect();
    let mut timeline = Timeline::default();
    for (index, &(number, line)) in lines.iter().enumerate() {
        match serde_json::from_slice::<Entry>(line) {
            Ok(entry) => timeline.entries.push(entry),
            // A torn last write after real entries; a log with no entry at all is not one.
            Err(_) if index + 1 == lines.len() && !timeline.entries.is_empty() => {
                timeline.warnings.push(format!(
                    "{}: skipped line {number}, an incomplete or unreadable last entry \
                     (a write interrupted by a crash?)",
                    path.display()
                ));
            }
            Err(err) => {
                return Err(IncidentError::Corrupt {
                    path: path.to_owned(),
                    line: number,
                    detail: describe(&err),
                });
            }
        }
    }
    Ok(timeline)
}

/// serde_json's message, with the column but without its "line 1" (each entry is one line).
fn describe(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match message.strip_suffix(&position) {
        Some(what) if err.column() > 0 => format!("{what} at column {}", err.column()),
        Some(what) => what.to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_are_ignored_and_numbers_count_them() {
        let path = Path::new("inc.jsonl");
        let good = r#"{"at":"2026-11-26T18:04:05.123Z","type":"note","text":"a"}"#;
        let text = format!("{good}\n\n{good}\n  \n");
        let timeline = parse(path, text.as_bytes()).unwrap();
        assert_eq!(timeline.entries.len(), 2);
        assert!(timeline.warnings.is_empty());

        let text = format!("{good}\n\ngarbage\n{good}\n");
        let err = parse(path, text.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, IncidentError::Corrupt { line: 3, detail, .. } if detail == "expected value at column 1"),
            "{err:?}"
        );
    }

    #[test]
    fn an_unreadable_last_line_is_a_warning() {
        let good = r#"{"at":"2026-11-26T18:04:05.123Z","type":"note","text":"a"}"#;
        let text = format!("{good}\n{{\"at\":\"2026-11-26T18:0");
        let timeline = parse(Path::new("inc.jsonl"), text.as_bytes()).unwrap();
        assert_eq!(timeline.entries.len(), 1);
        assert_eq!(
            timeline.warnings,
            [
                "inc.jsonl: skipped line 2, an incomplete or unreadable last entry \
              (a write interrupted by a crash?)"
            ]
        );
    }
}
