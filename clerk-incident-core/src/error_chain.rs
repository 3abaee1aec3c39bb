//! [`error_chain`]: an error and its sources on one line, for logs and messages.
//!
//! The errors of this workspace never repeat their source in their `Display`, so that a chain
//! can be printed once, here, without saying anything twice.

use std::error::Error;
use std::fmt::Write as _;

/// `error` and each of its sources, `: `-separated.
///
/// ```
/// use clerk_incident_core::error_chain::error_chain;
///
/// let inner = std::io::Error::other("permission denied");
/// let outer = std::io::Error::new(std::io::ErrorKind::Other, inner);
/// assert_eq!(error_chain(&outer), "permission denied");
/// ```
pub fn error_chain(error: &dyn Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(line, ": {cause}");
        source = cause.source();
    }
    line
}
