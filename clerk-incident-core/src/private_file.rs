//! Files only their owner can read: the incident log, revocation checkpoints and the
//! post-incident review name users, sessions and what an attacker did, so a file this
//! workspace creates is mode `0600` on Unix, whatever the umask.
//!
//! ```
//! use std::io::Write;
//!
//! let dir = std::env::temp_dir().join(format!("private-file-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("review.md");
//! let mut file = clerk_incident_core::private_file::options().write(true).create_new(true).open(&path)?;
//! file.write_all(b"# Post-incident review\n")?;
//! # #[cfg(unix)]
//! # {
//! use std::os::unix::fs::PermissionsExt;
//! assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
//! # }
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{File, OpenOptions};

/// [`OpenOptions`] whose newly created file is readable and writable by its owner only (mode
/// `0600` on Unix; elsewhere the platform's default). Set the access and creation flags as
/// usual; an existing file keeps its mode, so call [`restrict`] once it is open.
pub fn options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Makes an already open `file` readable and writable by its owner only (mode `0600` on Unix;
/// elsewhere nothing): for a file that may have existed before, with a wider mode, such as an
/// empty log made with `touch` or a review overwritten with `--force`.
///
/// # Errors
///
/// When the mode cannot be changed (a file of another user, say).
pub fn restrict(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}
