//! Deduplication of deliveries by message id.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

/// Whether a message id was seen before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InboxOutcome {
    /// First delivery: process it.
    New,
    /// Already recorded: acknowledge it without processing it again.
    Duplicate,
}

/// An inbox backend failed (a database error, for instance).
#[derive(Debug, thiserror::Error)]
#[error("webhook inbox failed: {source}")]
pub struct InboxError {
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl InboxError {
    /// Wraps a backend error.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

/// Records which deliveries were processed, keyed by the message id (`svix-id`), so that a
/// retried or replayed delivery is applied once.
///
/// Record a message only after it verified; [`forget`](Self::forget) it when processing fails,
/// so that the sender's retry is processed.
#[async_trait]
pub trait WebhookInbox: Send + Sync {
    /// Records `id`, saying whether it is new.
    ///
    /// # Errors
    ///
    /// [`InboxError`] when the backend fails.
    async fn record(&self, id: &str) -> Result<InboxOutcome, InboxError>;

    /// Forgets `id` (its processing failed).
    ///
    /// # Errors
    ///
    /// [`InboxError`] when the backend fails.
    async fn forget(&self, id: &str) -> Result<(), InboxError>;
}

/// A bounded in-memory [`WebhookInbox`]: remembers the last `capacity` ids, forgetting the
/// oldest first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use clerk_incident_core::webhooks::{InboxOutcome, MemoryInbox, WebhookInbox};
///
/// let inbox = MemoryInbox::new(1000);
/// assert_eq!(inbox.record("msg_1").await?, InboxOutcome::New);
/// assert_eq!(inbox.record("msg_1").await?, InboxOutcome::Duplicate);
/// # Ok(())
/// # }
/// ```
pub struct MemoryInbox {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl MemoryInbox {
    /// An inbox remembering up to `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// How many ids it remembers at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many ids it remembers now.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Whether it remembers no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `id` is remembered.
    pub fn contains(&self, id: &str) -> bool {
        self.lock().seen.contains(id)
    }

    /// Records `id` synchronously; see [`WebhookInbox::record`].
    pub fn record_now(&self, id: &str) -> InboxOutcome {
        let mut state = self.lock();
        if state.seen.contains(id) {
            return InboxOutcome::Duplicate;
        }
        while state.order.len() >= self.capacity {
            match state.order.pop_front() {
                Some(oldest) => {
                    state.seen.remove(&oldest);
                }
                None => break,
            }
        }
        state.seen.insert(id.to_owned());
        state.order.push_back(id.to_owned());
        InboxOutcome::New
    }

    /// Forgets `id` synchronously; see [`WebhookInbox::forget`].
    pub fn forget_now(&self, id: &str) {
        let mut state = self.lock();
        if state.seen.remove(id) {
            state.order.retain(|kept| kept != id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update; the sets stay usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for MemoryInbox {
    /// Remembers 10 000 ids.
    fn default() -> Self {
        Self::new(10_000)
    }
}

impl fmt::Debug for MemoryInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryInbox")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[async_trait]
impl WebhookInbox for MemoryInbox {
    async fn record(&self, id: &str) -> Result<InboxOutcome, InboxError> {
        Ok(self.record_now(id))
    }

    async fn forget(&self, id: &str) -> Result<(), InboxError> {
        self.forget_now(id);
        Ok(())
    }
}
