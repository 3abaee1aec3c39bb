//! The fleet's denylist on each instance: [`FleetDenier`] writes revoked sessions to the
//! store, and [`follow_denials`] keeps the instance's
//! [`SessionDenylist`](crate::auth::SessionDenylist) in step with it (pushes, and a read every
//! poll period that catches up on anything a push missed).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::denylist_store::{DenialUpdates, MAX_DENIAL_BATCH};
use super::push::next_push;
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
/// them even when the store cannot be reached). What a call could not write is kept and
/// written first by the next call that reaches the store; for a few seconds after a failure,
/// calls do not wait on the store again. Either way the call reports the failure, so that a
/// revocation counts those sessions as not denied. What a fleet member's
/// [`denier`](crate::auth::FleetMembership::denier) is; the CLI's `sessions revoke` uses one
/// of its own ([`new`](Self::new)).
#[derive(Debug)]
pub struct FleetDenier {
    store: Arc<dyn FleetStore>,
    local: SessionDenylist,
    timeout: Duration,
    /// When the store last failed: for a while after, calls fail at once instead of each
    /// waiting for the timeout (a revocation denies once per user).
    failed_at: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// What could not be written yet: written first by the next call that reaches the store.
    pending: std::sync::Mutex<Vec<String>>,
}

/// How long a failed store is not tried again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// The most session ids kept for a later write.
const MAX_PENDING: usize = 200_000;

/// Adds `ids` to `pending`, up to [`MAX_PENDING`] (the caller reports what failed either way).
fn keep(pending: &mut Vec<String>, ids: impl Iterator<Item = String>) {
    let room = MAX_PENDING.saturating_sub(pending.len());
    pending.extend(ids.take(room));
}

impl FleetDenier {
    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn recently_failed(&self) -> bool {
        self.failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < RETRY_AFTER_FAILURE)
    }

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
            failed_at: std::sync::Mutex::new(None),
            pending: std::sync::Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl SessionDenier for FleetDenier {
    async fn deny(&self, session_ids: &[String]) -> Result<(), DenyError> {
        // This instance's copy at once, by its own clock: a store's that lags must not shorten
        // the denial, and a lost store must not leave it out.
        self.local.deny(session_ids, SystemTime::now());
        let failed = |reason: String| DenyError {
            target: self.describe(),
            reason,
        };
        let mut batch = {
            let mut pending = self.pending();
            if self.recently_failed() {
                keep(&mut pending, session_ids.iter().cloned());
                return Err(failed("the fleet store failed moments ago".to_owned()));
            }
            std::mem::take(&mut *pending)
        };
        batch.extend(session_ids.iter().cloned());
        let mut chunks = batch.chunks(MAX_DENIAL_BATCH);
        while let Some(chunk) = chunks.next() {
            if let Err(error) = bounded(self.timeout, self.store.add_denials(chunk)).await {
                *self
                    .failed_at
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(tokio::time::Instant::now());
                let mut pending = self.pending();
                keep(&mut pending, chunk.iter().cloned());
                keep(&mut pending, chunks.flatten().cloned());
                return Err(failed(error.to_string()));
            }
        }
        Ok(())
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
            let next_push = next_push(&mut updates);
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
