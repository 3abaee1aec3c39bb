//! [`SharedBudget`]: one Backend API budget for several processes.
//!
//! Clerk's rate limit is per Clerk instance, not per process: two `sessions revoke` runs, or
//! the admin routes of several replicas, each pacing to the whole limit, together trip it. A
//! client given a shared budget ([`ClerkApiBuilder::shared_budget`]) takes each send slot from
//! it instead: slots spaced by [`RateLimit::interval`] (the limit with a 2 % margin) across
//! every process, and a 429 seen by one of them holds every process's next slot for its
//! `Retry-After`.
//!
//! When the budget cannot be reached (or hands out a wait beyond two minutes, which no pause
//! asks for), the client paces locally at a conservative share of the limit
//! ([`DEFAULT_FALLBACK_SHARE`]), logs that it does so, and goes on: no request is lost, and it
//! asks the budget again two seconds later. A quarter keeps four processes that all lost the
//! budget under the limit; when only some lose it, the others keep pacing at the whole limit,
//! so the fleet may go over it by their share until the budget is back (Clerk's 429s then
//! pause them).
//!
//! A client paced below its instance's documented limit (`--rate-limit` lower than 1000/10 s
//! on a production key) takes the fleet's slots at the documented spacing and keeps its own
//! lower pace on top, so that it slows only itself. A 429 holds the slots handed out after it;
//! a request already waiting for an earlier slot still goes out (at most a client's
//! concurrency of them), meets the 429 and waits for its `Retry-After` too.
//!
//! [`ClerkApiBuilder::shared_budget`]: super::ClerkApiBuilder::shared_budget

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

/// The share of the limit a client paces at while its shared budget is unreachable: a
/// quarter, so that up to four processes falling back together stay under the limit.
pub const DEFAULT_FALLBACK_SHARE: f64 = 0.25;

/// How long a client waits for its shared budget before it paces locally.
pub const BUDGET_TIMEOUT: Duration = Duration::from_millis(500);

/// Why a shared budget could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shared API budget is unreachable: {0}")]
pub struct BudgetError(pub String);

/// Send slots shared by every process of a fleet (a Redis script in `clerk-incident-redis`,
/// the process's memory in [`MemoryFleetStore`](crate::fleet::MemoryFleetStore)).
#[async_trait]
pub trait SharedBudget: fmt::Debug + Send + Sync + 'static {
    /// Reserves the fleet's next send slot, `interval` after the one before (and not before a
    /// pause ends): how long to wait before sending, zero to send now.
    ///
    /// # Errors
    ///
    /// [`BudgetError`] when the budget cannot be reached: the caller paces locally.
    async fn reserve(&self, interval: Duration) -> Result<Duration, BudgetError>;

    /// Holds every process's next slot until `wait` from now (a 429's `Retry-After`).
    ///
    /// # Errors
    ///
    /// [`BudgetError`] when the budget cannot be reached.
    async fn pause(&self, wait: Duration) -> Result<(), BudgetError>;

    /// Where the budget is, for logs (never a secret).
    fn budget_location(&self) -> String;
}
