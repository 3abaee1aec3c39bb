//! The fleet's denylist on Redis: a stream under `{<fleet>}:denials`, one entry per batch of
//! revoked sessions.
//!
//! A stream gives every batch a unique, ordered id from the server's clock: instances catch
//! up with `XRANGE` from the last id they read, and nothing two writers add in the same
//! millisecond is skipped. A batch is written with a plain `XADD` (no script, no channel), so
//! that the services' ACL user needs no scripting or publishing for it; the stream is capped
//! by length, and each denial ends [`DENIAL_TTL`] after the time in its id. Instances learn of
//! new batches by a blocking `XREAD` on a connection of their own, a hint that makes them
//! read: what the store holds is the truth, never a message.
//!
//! What is read is checked again (Clerk ids only, a time not in the future): anyone who can
//! write the stream could write anything.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use clerk_incident_core::auth::DENIAL_TTL;
use clerk_incident_core::fleet::{
    DenialBatch, DenialUpdates, DenylistStore, FleetError, check_denial_batch,
};
use futures::StreamExt;
use redis::AsyncConnectionConfig;
use redis::streams::{StreamReadOptions, StreamReadReply};

use crate::store::{RedisFleetStore, bounded};

/// The most batches the stream keeps (about; Redis trims whole nodes): a mass revocation of
/// as many users, each batch one user's sessions.
const MAX_BATCHES: u32 = 250_000;

/// How long one blocking read waits for a new batch.
const BLOCK_MS: usize = 1000;

/// The batch of stream entry `id` holding `sessions` (a JSON array). An entry that is not a
/// valid batch is read as an empty one, so that the readers' cursor moves past it.
fn batch(id: &str, sessions: Option<&str>) -> DenialBatch {
    let ms = id
        .split_once('-')
        .and_then(|(ms, _)| ms.parse::<u64>().ok())
        .unwrap_or(0);
    let at_ms = UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .unwrap_or(UNIX_EPOCH);
    let ids = sessions
        .and_then(|json| serde_json::from_str::<Vec<String>>(json).ok())
        .filter(|ids| check_denial_batch(ids).is_ok());
    if ids.is_none() {
        tracing::warn!(entry = %id, "ignored a denylist entry that is not a batch of session ids");
    }
    DenialBatch::new(id, at_ms, ids.unwrap_or_default())
}

fn entry_sessions(map: &HashMap<String, redis::Value>) -> Option<String> {
    map.get("sessions")
        .and_then(|value| redis::from_redis_value::<String>(value.clone()).ok())
}

#[async_trait]
impl DenylistStore for RedisFleetStore {
    async fn add_denials(&self, session_ids: &[String]) -> Result<DenialBatch, FleetError> {
        check_denial_batch(session_ids)?;
        let sessions = serde_json::to_string(session_ids)
            .map_err(|error| FleetError::Invalid(error.to_string()))?;
        let mut connection = self.connection().await?;
        let id: String = bounded(
            redis::cmd("XADD")
                .arg(self.keys().denials())
                .arg("MAXLEN")
                .arg("~")
                .arg(MAX_BATCHES)
                .arg("*")
                .arg("sessions")
                .arg(&sessions)
                .query_async(&mut connection),
        )
        .await?;
        Ok(batch(&id, Some(&sessions)))
    }

    async fn denials_after(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DenialBatch>, FleetError> {
        // An exclusive start: `(id` (Redis 6.2 and later). Older entries than the TTL are
        // skipped by time: the stream is capped by length, not by age.
        let oldest = SystemTime::now()
            .checked_sub(DENIAL_TTL)
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_millis());
        let start = cursor.map_or_else(|| format!("{oldest}-0"), |id| format!("({id}"));
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
        Ok(entries
            .iter()
            .map(|(id, fields)| batch(id, fields.get("sessions").map(String::as_str)))
            .collect())
    }

    async fn subscribe_denials(&self) -> Result<DenialUpdates, FleetError> {
        // A connection of its own: a blocking read holds it.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let connection = bounded(
            self.client()
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await?;
        let key = self.keys().denials();
        // Everything after this instant: the newest entry now (`$` would mean whatever is
        // newest when the stream is first polled, later).
        let mut reader = self.connection().await?;
        let newest: Vec<(String, HashMap<String, String>)> = bounded(
            redis::cmd("XREVRANGE")
                .arg(&key)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut reader),
        )
        .await?;
        let last = newest
            .first()
            .map_or_else(|| "0-0".to_owned(), |(id, _)| id.clone());
        let state = (connection, key, last);
        Ok(
            futures::stream::unfold(state, |(mut connection, key, mut last)| async move {
                loop {
                    let options = StreamReadOptions::default().block(BLOCK_MS).count(100);
                    let read: redis::RedisResult<Option<StreamReadReply>> =
                        redis::AsyncCommands::xread_options(
                            &mut connection,
                            &[&key],
                            &[&last],
                            &options,
                        )
                        .await;
                    let entries = match read {
                        Ok(Some(reply)) => reply
                            .keys
                            .into_iter()
                            .flat_map(|stream| stream.ids)
                            .collect::<Vec<_>>(),
                        Ok(None) => continue,
                        // The connection is lost: the stream ends, the reader subscribes again.
                        Err(_) => return None,
                    };
                    let Some(newest) = entries.last() else {
                        continue;
                    };
                    last.clone_from(&newest.id);
                    let pushed = batch(&newest.id, entry_sessions(&newest.map).as_deref());
                    return Some((pushed, (connection, key, last)));
                }
            })
            .boxed(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_entry_is_a_batch_at_the_servers_time() {
        let parsed = batch("1800000000123-4", Some(r#"["sess_1","sess_2"]"#));
        assert_eq!(parsed.cursor, "1800000000123-4");
        assert_eq!(
            parsed.at_ms,
            UNIX_EPOCH + Duration::from_millis(1_800_000_000_123)
        );
        assert_eq!(parsed.session_ids, ["sess_1", "sess_2"]);
        // Anything else is an empty batch the cursor moves past.
        for (id, sessions) in [
            ("1-0", Some("{}")),
            ("1-0", Some(r#"["sess 1"]"#)),
            ("1-0", Some(r#"["a",1]"#)),
            ("1-0", None),
        ] {
            let parsed = batch(id, sessions);
            assert!(parsed.session_ids.is_empty(), "{sessions:?}");
            assert_eq!(parsed.cursor, "1-0");
        }
    }
}
