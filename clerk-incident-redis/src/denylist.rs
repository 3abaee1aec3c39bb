//! The fleet's denylist on Redis: a stream under `{<fleet>}:denials`, one entry per batch of
//! revoked sessions, trimmed to the denial TTL, and a push on `{<fleet>}:denied`.
//!
//! A stream gives every batch a unique, ordered id from the server's clock: instances catch
//! up with `XRANGE` from the last id they read, and nothing two writers add in the same
//! millisecond is skipped.

use std::collections::HashMap;

use async_trait::async_trait;
use clerk_incident_core::auth::DENIAL_TTL;
use clerk_incident_core::fleet::{
    DenialBatch, DenialUpdates, DenylistStore, FleetError, check_denial_batch,
};
use futures::StreamExt;

use crate::store::{RedisFleetStore, bounded};

/// The batch of stream entry `id` holding `sessions` (a JSON array).
fn batch(id: &str, sessions: &str) -> Result<DenialBatch, FleetError> {
    let invalid = |what: &str| FleetError::Invalid(format!("a denial batch {what}"));
    let ms = id
        .split_once('-')
        .and_then(|(ms, _)| ms.parse::<u64>().ok())
        .ok_or_else(|| invalid("has no stream id"))?;
    let session_ids: Vec<String> =
        serde_json::from_str(sessions).map_err(|_| invalid("is not a JSON array of ids"))?;
    let mut batch: DenialBatch = serde_json::from_value(serde_json::json!({
        "cursor": id, "at_ms": ms, "session_ids": [],
    }))
    .map_err(|_| invalid("has an impossible time"))?;
    batch.session_ids = session_ids;
    Ok(batch)
}

#[async_trait]
impl DenylistStore for RedisFleetStore {
    async fn add_denials(&self, session_ids: &[String]) -> Result<DenialBatch, FleetError> {
        check_denial_batch(session_ids)?;
        let sessions = serde_json::to_string(session_ids)
            .map_err(|error| FleetError::Invalid(error.to_string()))?;
        let ttl_ms = u64::try_from(DENIAL_TTL.as_millis()).unwrap_or(u64::MAX);
        let mut connection = self.connection().await?;
        let mut invocation = self.deny_script().prepare_invoke();
        invocation
            .key(self.keys().denials())
            .arg(&sessions)
            .arg(ttl_ms)
            .arg(self.keys().denied());
        let id: String = bounded(invocation.invoke_async(&mut connection)).await?;
        batch(&id, &sessions)
    }

    async fn denials_after(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DenialBatch>, FleetError> {
        // An exclusive start: `(id` (Redis 6.2 and later).
        let start = cursor.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        let mut connection = self.connection().await?;
        let entries: Vec<(String, HashMap<String, String>)> = bounded(
            redis::cmd("XRANGE")
                .arg(self.keys().denials())
                .arg(start)
                .arg("+")
                .arg("COUNT")
                .arg(limit)
                .query_async(&mut connection),
        )
        .await?;
        entries
            .iter()
            .map(|(id, fields)| batch(id, fields.get("sessions").map_or("", String::as_str)))
            .collect()
    }

    async fn subscribe_denials(&self) -> Result<DenialUpdates, FleetError> {
        let mut pubsub = bounded(self.client().get_async_pubsub()).await?;
        bounded(pubsub.subscribe(self.keys().denied())).await?;
        Ok(pubsub
            .into_on_message()
            .filter_map(|message| async move {
                let payload: String = message.get_payload().ok()?;
                let parsed = payload
                    .split_once(' ')
                    .ok_or_else(|| FleetError::Invalid("no stream id".into()))
                    .and_then(|(id, sessions)| batch(id, sessions));
                match parsed {
                    Ok(batch) => Some(batch),
                    Err(error) => {
                        tracing::warn!(%error, "ignored a denylist message that is not a batch");
                        None
                    }
                }
            })
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn a_stream_entry_is_a_batch_at_the_servers_time() {
        let parsed = batch("1800000000123-4", r#"["sess_1","sess_2"]"#).unwrap();
        assert_eq!(parsed.cursor, "1800000000123-4");
        assert_eq!(
            parsed.at_ms,
            UNIX_EPOCH + Duration::from_millis(1_800_000_000_123)
        );
        assert_eq!(parsed.session_ids, ["sess_1", "sess_2"]);
        assert!(batch("nonsense", "[]").is_err());
        assert!(batch("1-0", "{}").is_err());
    }
}
