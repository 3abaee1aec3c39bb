//! The fleet's denylist on each instance: [`FleetDenier`] writes revoked sessions to the
//! store, and [`follow_denials`] keeps the instance's
//! [`SessionDenylist`](crate::auth::SessionDenylist) in step with it (pushes, and a read every
//! poll period that catches up on anything a push missed).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::StreamExt;

use super::denylist_store::{DenialUpdates, MAX_DENIAL_BATCH};
use super::store::{FleetError, FleetStore};
use crate::auth::{DenyError, SessionDenier, SessionDenylist};

/// Batches read per call while catching up.
const PAGE: usize = 500;

/// Bounds a store call.
async fn bounded<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, FleetError>>,
) -> Result<T, FleetError> {
    tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| {
            Err(FleetError::Unavailable(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            )))
        })
}

/// Denies sessions fleet-wide: in the store, and at once in this instance's copy (which holds
/// them even when the store cannot be reached). What a fleet member's
/// [`denier`](crate::auth::FleetMembership::denier) is; the CLI's `sessions revoke` uses one
/// of its own ([`new`](Self::new)).
#[derive(Debug)]
pub struct FleetDenier {
    store: Arc<dyn FleetStore>,
    local: SessionDenylist,
    timeout: Duration,
}

impl FleetDenier {
    /// A denier writing to `store`, each call bounded by the default store timeout.
    pub fn new(store: Arc<dyn FleetStore>) -> Self {
        Self::with_local(store, SessionDenylist::new(), super::DEFAULT_STORE_TIMEOUT)
    }

    /// A denier writing to `store` and to `local` at once.
    pub(super) fn with_local(
        store: Arc<dyn FleetStore>,
        local: SessionDenylist,
        timeout: Duration,
    ) -> Self {
        Self {
            store,
            local,
            timeout,
        }
    }
}

#[async_trait]
impl SessionDenier for FleetDenier {
    async fn deny(&self, session_ids: &[String]) -> Result<(), DenyError> {
        let mut failure = None;
        for chunk in session_ids.chunks(MAX_DENIAL_BATCH) {
            match bounded(self.timeout, self.store.add_denials(chunk)).await {
                // By this instance's clock: a store's that lags must not shorten the denial.
                Ok(_) => {
                    self.local.deny(chunk, SystemTime::now());
                }
                Err(error) => {
                    self.local.deny(chunk, SystemTime::now());
                    failure.get_or_insert(error);
                }
            }
        }
        match failure {
            None => Ok(()),
            Some(error) => Err(DenyError {
                target: self.describe(),
                reason: error.to_string(),
            }),
        }
    }

    fn describe(&self) -> String {
        format!("the fleet ({})", self.store.describe())
    }
}

/// Reads every batch after `cursor` into `local`, moving the cursor on.
async fn catch_up(
    store: &dyn FleetStore,
    local: &SessionDenylist,
    cursor: &mut Option<String>,
    timeout: Duration,
) -> Result<(), FleetError> {
    loop {
        let page = bounded(timeout, store.denials_after(cursor.as_deref(), PAGE)).await?;
        for batch in &page {
            local.deny(&batch.session_ids, batch.at_ms);
        }
        if let Some(last) = page.last() {
            *cursor = Some(last.cursor.clone());
        }
        if page.len() < PAGE {
            return Ok(());
        }
    }
}

/// The task that keeps `local` in step with the fleet's denylist. A lost store leaves the
/// copy as it is (its entries expire on their own schedule); once it has not been read for
/// longer than the copy's staleness bound, the policy accepts only fully valid tokens, and
/// the health shows the last sync.
pub(super) async fn follow_denials(
    store: Arc<dyn FleetStore>,
    local: SessionDenylist,
    poll_every: Duration,
    timeout: Duration,
) {
    let mut cursor: Option<String> = None;
    let mut updates: Option<DenialUpdates> = None;
    let mut lost = false;
    let mut polls = tokio::time::interval(poll_every);
    polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if updates.is_none() {
            // Subscribe first, then read: nothing written in between is missed.
            updates = bounded(timeout, store.subscribe_denials()).await.ok();
        }
        match catch_up(&*store, &local, &mut cursor, timeout).await {
            Ok(()) => {
                local.mark_synced(SystemTime::now());
                if std::mem::take(&mut lost) {
                    tracing::info!("the fleet's denylist is readable again");
                }
            }
            Err(error) => {
                if !std::mem::replace(&mut lost, true) {
                    tracing::warn!(%error, "cannot read the fleet's denylist: keeping the copy this instance holds");
                }
            }
        }
        loop {
            let next_push = async {
                match updates.as_mut() {
                    Some(stream) => stream.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // A push is a hint: what the store holds is read, never the message.
                push = next_push => match push {
                    Some(_) => break,
                    // Subscribed again at the next poll.
                    None => updates = None,
                },
                _ = polls.tick() => break,
            }
        }
    }
}
