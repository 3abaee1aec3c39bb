//! [`SendDeadline`]: an instant after which a task sends no more requests, however long it
//! waited for its turn, so that work done under a lease (a fleet's revocation job) never
//! reaches Clerk once the lease may belong to someone else.
//!
//! The deadline is task-local: [`sending_until`] runs a future with it, and the client checks
//! it after each wait for a send slot, right before the request goes out.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

tokio::task_local! {
    static SEND_UNTIL: SendDeadline;
}

/// A movable deadline; clones share it.
#[derive(Clone, Debug)]
pub(crate) struct SendDeadline(Arc<Mutex<Instant>>);

impl SendDeadline {
    /// A deadline at `at`.
    pub(crate) fn new(at: Instant) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// Moves it to `at`.
    pub(crate) fn set(&self, at: Instant) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// The deadline.
    pub(crate) fn at(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `future` with `deadline`: every request the client would send in it after the
/// deadline fails with [`ApiError::DeadlinePassed`](super::ApiError::DeadlinePassed) instead.
pub(crate) async fn sending_until<F: Future>(deadline: SendDeadline, future: F) -> F::Output {
    SEND_UNTIL.scope(deadline, future).await
}

/// True when the current task runs under a deadline that has passed.
pub(crate) fn deadline_passed() -> bool {
    SEND_UNTIL
        .try_with(|deadline| Instant::now() >= deadline.at())
        .unwrap_or(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::{ApiError, ClerkApi, SecretKey, UserQuery};

    #[tokio::test]
    async fn no_request_goes_out_past_the_deadline() {
        let sim = clerk_incident_sim::Sim::builder()
            .users(3)
            .start()
            .await
            .unwrap();
        let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
            .base_url(sim.base_url())
            .without_rate_limit()
            .build()
            .unwrap();
        let sent = || sim.counters().requests.values().sum::<u64>();
        let later = SendDeadline::new(Instant::now() + Duration::from_secs(60));
        assert_eq!(
            sending_until(later.clone(), api.count_users(&UserQuery::new()))
                .await
                .unwrap(),
            3
        );
        let before = sent();
        later.set(Instant::now());
        let refused = sending_until(later, api.count_users(&UserQuery::new())).await;
        assert!(
            matches!(refused, Err(ApiError::DeadlinePassed { .. })),
            "{refused:?}"
        );
        assert_eq!(sent(), before, "nothing reached Clerk");
        // Outside a deadline, requests go out as ever.
        assert_eq!(api.count_users(&UserQuery::new()).await.unwrap(), 3);
    }
}
