//! [`DenylistStore`]: the fleet's list of revoked sessions, which every instance's
//! [`SessionDenylist`](crate::auth::SessionDenylist) copies.

use std::time::SystemTime;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use super::store::{FleetError, unix_ms};

/// The most session ids one [`DenialBatch`] holds; a longer list is written as several.
pub const MAX_DENIAL_BATCH: usize = 1000;

/// Sessions denied by one write, as the store keeps them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DenialBatch {
    /// Where the batch is in the store's order: read on with
    /// [`denials_after`](DenylistStore::denials_after) from here. Opaque.
    pub cursor: String,
    /// When it was written, by the store's clock: the denials end [`DENIAL_TTL`] later.
    ///
    /// [`DENIAL_TTL`]: crate::auth::DENIAL_TTL
    #[serde(with = "unix_ms")]
    pub at_ms: SystemTime,
    /// The sessions.
    pub session_ids: Vec<String>,
}

impl DenialBatch {
    /// The batch at `cursor`, written at `at_ms`, of `session_ids`.
    pub fn new(cursor: impl Into<String>, at_ms: SystemTime, session_ids: Vec<String>) -> Self {
        Self {
            cursor: cursor.into(),
            at_ms,
            session_ids,
        }
    }
}

/// Pushed batches, hints that the store holds new ones; the stream ends when the store
/// connection is lost.
pub type DenialUpdates = BoxStream<'static, DenialBatch>;

/// Where a fleet keeps the sessions revoked during an incident, for [`DENIAL_TTL`] after each
/// write (a bounded list: it forgets them after that by itself).
///
/// [`DENIAL_TTL`]: crate::auth::DENIAL_TTL
#[async_trait]
pub trait DenylistStore: Send + Sync + 'static {
    /// Adds `session_ids` (at most [`MAX_DENIAL_BATCH`], each a Clerk id: letters, digits and
    /// `_`) as one batch, pushes it to the subscribers, and returns it.
    async fn add_denials(&self, session_ids: &[String]) -> Result<DenialBatch, FleetError>;

    /// Up to `limit` batches written after `cursor` (`None`: from the oldest kept), oldest
    /// first. Batches older than the denial TTL may or may not be among them.
    async fn denials_after(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DenialBatch>, FleetError>;

    /// Pushes later batches (or some of them: a push is a hint to read, readers catch up with
    /// [`denials_after`](Self::denials_after)); the stream ends when the connection is lost.
    async fn subscribe_denials(&self) -> Result<DenialUpdates, FleetError>;
}

/// Checks a batch before it is written: not empty, not too long, only Clerk ids (which keeps
/// anything else out of the store's encoding).
///
/// # Errors
///
/// [`FleetError::Refused`] saying which rule the batch breaks.
pub fn check_denial_batch(session_ids: &[String]) -> Result<(), FleetError> {
    if session_ids.is_empty() || session_ids.len() > MAX_DENIAL_BATCH {
        return Err(FleetError::Refused(format!(
            "a denial batch holds 1 to {MAX_DENIAL_BATCH} sessions, not {}",
            session_ids.len()
        )));
    }
    let valid = |id: &String| {
        !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    if session_ids.iter().all(valid) {
        Ok(())
    } else {
        Err(FleetError::Refused(
            "a session id holds only letters, digits and _ (such as sess_2abc…)".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_batches_of_clerk_ids_are_written() {
        let ok = vec!["sess_2abcDEF123".to_owned()];
        assert!(check_denial_batch(&ok).is_ok());
        for bad in [
            vec![],
            vec![String::new()],
            vec!["sess_1\"]".to_owned()],
            vec!["sess 1".to_owned()],
            vec!["s".repeat(129)],
            vec!["sess_1".to_owned(); MAX_DENIAL_BATCH + 1],
        ] {
            assert!(check_denial_batch(&bad).is_err(), "{bad:?}");
        }
    }
}
