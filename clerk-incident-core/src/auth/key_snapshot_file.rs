//! [`FileSnapshotStore`]: the key snapshot in a file (`CLERK_JWKS_SNAPSHOT=<path>`).
//!
//! The file is JSON, readable by its owner only (mode `0600`), replaced by an atomic rename
//! so that services sharing one path never read a torn file:
//!
//! ```json
//! {"format": "clerk-incident.jwks-snapshot.v1", "issuer": "https://clerk.example.com",
//!  "fetched_at": "2026-12-01T10:00:00Z", "jwks": {"keys": [{"kid": "ins_…", "kty": "RSA", …}]}}
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::key_snapshot::{KeySnapshot, KeySnapshotStore, MAX_SNAPSHOT_BYTES, SnapshotError};
use crate::private_file;

/// The largest file read.
const MAX_FILE_BYTES: u64 = MAX_SNAPSHOT_BYTES as u64;

/// The key snapshot in a file.
#[derive(Clone, Debug)]
pub struct FileSnapshotStore {
    path: PathBuf,
}

impl FileSnapshotStore {
    /// A store at `path`; nothing is touched until the first load or save.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(&self, detail: impl Into<String>) -> SnapshotError {
        SnapshotError::Corrupt {
            location: self.location(),
            detail: detail.into(),
        }
    }

    fn refused(&self, reason: &str) -> SnapshotError {
        SnapshotError::Refused {
            location: self.location(),
            reason: reason.to_owned(),
        }
    }

    fn io(&self, action: &'static str, source: std::io::Error) -> SnapshotError {
        SnapshotError::Io {
            location: self.location(),
            action,
            source,
        }
    }

    fn load_now(&self) -> Result<Option<KeySnapshot>, SnapshotError> {
        // Whoever can write the file can plant a key that verifies forged tokens: only a
        // regular file (not a link, not a pipe) that nobody but its owner may write is read.
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if !meta.file_type().is_file() => {
                return Err(self.refused("it is not a regular file (a link, a pipe, a directory)"));
            }
            Ok(meta) if writable_by_others(&meta) => {
                return Err(self.refused("others than its owner may write it (chmod 600 it)"));
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(self.io("read", err)),
        }
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(self.io("read", err)),
        };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_FILE_BYTES + 1),
            &mut bytes,
        )
        .map_err(|err| self.io("read", err))?;
        KeySnapshot::from_stored(&bytes, self.location()).map(Some)
    }

    fn save_now(&self, snapshot: &KeySnapshot) -> Result<(), SnapshotError> {
        let json = snapshot.to_json();
        let name = self.path.file_name().map_or_else(
            || "jwks-snapshot".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        // A temporary file of this process's own beside the target, renamed over it.
        let temp = self.path.with_file_name(format!(
            ".{name}.{}.{:016x}.tmp",
            std::process::id(),
            fastrand::u64(..)
        ));
        let written = (|| {
            let mut file = private_file::options()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            std::fs::rename(&temp, &self.path)
        })();
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(self.io("written", err));
        }
        Ok(())
    }
}

/// True when group or others may write the file (Unix; elsewhere the platform's ACLs decide).
fn writable_by_others(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o022 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

#[async_trait]
impl KeySnapshotStore for FileSnapshotStore {
    async fn load(&self) -> Result<Option<KeySnapshot>, SnapshotError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.load_now())
            .await
            .unwrap_or_else(|_| Err(self.corrupt("the read was interrupted")))
    }

    async fn save(&self, snapshot: &KeySnapshot) -> Result<(), SnapshotError> {
        let (store, snapshot) = (self.clone(), snapshot.clone());
        tokio::task::spawn_blocking(move || store.save_now(&snapshot))
            .await
            .unwrap_or_else(|_| Err(self.corrupt("the write was interrupted")))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}
