//! The clerk-incident fleet on Redis: one bypass switch for every replica of a service.
//!
//! [`RedisFleetStore`] implements core's [`FleetStore`](clerk_incident_core::fleet::FleetStore)
//! seam. Each instance of a service joins the fleet
//! ([`FleetMember`](clerk_incident_core::fleet::FleetMember)); the operator switches them
//! all with one `clerk-incident bypass grace --ttl 45m --reason …`, and every instance
//! applies the mode within moments, acknowledges it, and returns to `Enforce` at its absolute
//! end by itself, whether Redis is still there or not.
//!
//! | In Redis, under `{<fleet>}:` | What |
//! | --- | --- |
//! | `mode` | the desired mode, JSON, written by a Lua script with the next `version` |
//! | `version`, `epoch` | the version counter, and the random id drawn when it starts |
//! | `history` | a stream of every write (who, when, why, the previous mode) |
//! | `changes` | the pub/sub channel each write is pushed on |
//! | `instances`, `instance:<id>` | the live instances and their heartbeats (with a TTL) |
//! | `keys` | the last known good signing keys (public keys only), for instances started while Clerk is down |
//! | `denials` | the revoked sessions: a stream of batches, capped by length; each denial ends 25 h after it was written |
//! | `budget`, `budget-pause` | the Backend API budget: the next free send slot, and the end of a 429's pause |
//! | `revocation-lease`, `revocation-current`, `revocation-fence` | the one mass revocation at a time: its lease (job, holder, fencing token; expires unless renewed), the job holding the slot until it ends, the token counter |
//! | `revocation-job:<id>`, `…:checkpoint`, `…:cancel` | each job's status, checkpoint lines and cancel request, kept 7 days |
//!
//! The fleet's name (`CLERK_INCIDENT_FLEET`, by default `clerk-incident:<issuer host>`) keeps
//! staging from switching production. Start a service in the fleet with
//! [`AuthPolicy::from_env_with_fleet`](clerk_incident_core::auth::AuthPolicy::from_env_with_fleet)
//! and [`RedisConnector`] when `CLERK_INCIDENT_REDIS_URL` is set.
//!
//! # Example
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::{Duration, SystemTime};
//!
//! use clerk_incident_core::auth::AuthMode;
//! use clerk_incident_core::fleet::{FleetStore, ModeRequest};
//! use clerk_incident_redis::RedisFleetStore;
//!
//! let store = RedisFleetStore::open("redis://127.0.0.1:6379/0", "shop-production")?;
//! let until = SystemTime::now() + Duration::from_secs(45 * 60);
//! let request = ModeRequest::new(AuthMode::Open, Some(until), "INC-42", "alice@laptop")?;
//! let written = store.set_desired(request).await?;
//! println!("fleet mode v{} written", written.version);
//! # Ok(())
//! # }
//! ```
//!
//! # Dependencies
//!
//! `redis` (tokio, connection manager, scripts, streams, rustls for `rediss://`) is the client;
//! `rustls` is named only to pin its crypto backend to aws-lc-rs, the workspace's one;
//! `tempfile` holds the private directory of a [`TestServer`].

mod budget;
mod denylist;
mod key_snapshot;
mod keyspace;
mod revocation_jobs;
mod store;
mod test_server;

pub use self::store::{RedisConnector, RedisFleetStore};
pub use self::test_server::{INSTALL_HINT, TestServer, TestServerError};
