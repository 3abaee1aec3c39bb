//! The fleet's key snapshot on Redis: one small value under `{<fleet>}:keys`, written by every
//! instance that fetches keys and read by an instance that starts while Clerk is down.

use async_trait::async_trait;
use clerk_incident_core::auth::{KeySnapshot, KeySnapshotStore, MAX_SNAPSHOT_BYTES, SnapshotError};
use clerk_incident_core::fleet::{FleetError, FleetStore};
use redis::AsyncCommands;

use crate::store::{RedisFleetStore, bounded};

/// The same JSON as a snapshot file, and the same refusals when it is read: the cache checks
/// the issuer and the age of what it loads, and anything that does not parse is corrupt.
#[async_trait]
impl KeySnapshotStore for RedisFleetStore {
    async fn load(&self) -> Result<Option<KeySnapshot>, SnapshotError> {
        let key = self.keys().key_snapshot();
        let read = async {
            let mut connection = self.connection().await?;
            // The length first, so that a planted huge value is never transferred.
            let len: usize = bounded(connection.strlen(&key)).await?;
            if len > MAX_SNAPSHOT_BYTES {
                return Ok(Err(len));
            }
            let bytes: Option<Vec<u8>> = bounded(connection.get(&key)).await?;
            Ok::<_, FleetError>(Ok(bytes))
        };
        match read.await {
            Err(error) => Err(error.to_snapshot_error(self.location(), "read")),
            Ok(Err(len)) => Err(SnapshotError::Corrupt {
                location: self.location(),
                detail: format!("{len} bytes, larger than {} KiB", MAX_SNAPSHOT_BYTES / 1024),
            }),
            Ok(Ok(None)) => Ok(None),
            Ok(Ok(Some(bytes))) => KeySnapshot::from_stored(&bytes, self.location()).map(Some),
        }
    }

    async fn save(&self, snapshot: &KeySnapshot) -> Result<(), SnapshotError> {
        let key = self.keys().key_snapshot();
        let write = async {
            let mut connection = self.connection().await?;
            bounded(connection.set::<_, _, ()>(&key, snapshot.to_json())).await
        };
        write
            .await
            .map_err(|error| error.to_snapshot_error(self.location(), "written"))
    }

    fn location(&self) -> String {
        format!("{} key {}", self.describe(), self.keys().key_snapshot())
    }
}
