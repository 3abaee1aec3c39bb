//! The fleet: one bypass switch for every instance of a service.
//!
//! A service runs as many replicas. The operator switches the mode of all of them at once by
//! writing the fleet's [`DesiredMode`] to a [`FleetStore`] (`clerk-incident bypass grace
//! --ttl 45m --reason …`); each instance's [`FleetMember`] applies it to the instance's
//! [`BypassSwitch`](crate::auth::BypassSwitch) and acknowledges it in its [`Heartbeat`].
//!
//! - The request path never reaches the store: it reads the switch, an atomic load.
//! - Every mode has an absolute end: each instance returns to `Enforce` at that instant by
//!   itself, store or no store. A lost store never opens anything and never extends a bypass.
//! - Versions only go forward: a late message never rolls an instance back; a store that
//!   restarted empty means `Enforce`.
//!
//! [`MemoryFleetStore`] keeps the fleet in the process (tests, the drill, several instances on
//! one host); `clerk-incident-redis` keeps it on Redis.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//!
//! use clerk_incident_core::auth::{AuthMode, BypassSwitch};
//! use clerk_incident_core::fleet::{
//!     FleetConfig, FleetMember, FleetStore, MemoryFleetStore, ModeRequest,
//!     wait_for_acknowledgements,
//! };
//!
//! let store = MemoryFleetStore::new();
//! let switches: Vec<BypassSwitch> = (0..3).map(|_| BypassSwitch::new()).collect();
//! let _members = switches
//!     .iter()
//!     .enumerate()
//!     .map(|(i, switch)| {
//!         let config = FleetConfig::default().with_instance_id(format!("web-{i}"));
//!         FleetMember::join(Arc::new(store.connection()), switch.clone(), None, config)
//!     })
//!     .collect::<Result<Vec<_>, _>>()?;
//!
//! let until = SystemTime::now() + Duration::from_secs(45 * 60);
//! let request = ModeRequest::new(AuthMode::Open, Some(until), "INC-42: Clerk is down", "alice")?;
//! let written = store.set_desired(request).await?;
//! # while store.instances().await?.len() < 3 { tokio::task::yield_now().await; }
//! let acks = wait_for_acknowledgements(&store, &written, &[], Duration::from_secs(5)).await?;
//! assert!(acks.complete());
//! assert!(switches.iter().all(|switch| switch.mode() == AuthMode::Open));
//! # Ok(())
//! # }
//! ```

mod acknowledgement;
mod denial_sync;
mod denylist_store;
#[cfg(feature = "reqwest")]
mod env;
mod member;
mod memory;
mod name;
mod ordering;
mod push;
mod store;

pub use self::acknowledgement::{Acknowledgements, wait_for_acknowledgements};
pub use self::denial_sync::FleetDenier;
pub use self::denylist_store::{
    DenialBatch, DenialUpdates, DenylistStore, MAX_DENIAL_BATCH, check_denial_batch,
};
#[cfg(feature = "reqwest")]
pub use self::env::ENV_JOB_LEASE_SECS;
pub use self::member::{
    DEFAULT_DENYLIST_MAX_STALENESS, DEFAULT_HEARTBEAT_EVERY, DEFAULT_POLL_EVERY,
    DEFAULT_STORE_TIMEOUT, FleetConfig, FleetMember, host_name,
};
pub use self::memory::MemoryFleetStore;
pub use self::name::{ENV_FLEET, FleetConnector, fleet_name};
pub use self::store::{DesiredMode, FleetError, FleetStore, Heartbeat, ModeRequest, ModeUpdates};
pub use crate::auth::{ENV_REDIS_URL, FleetHealth};
