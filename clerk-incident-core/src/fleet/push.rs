//! The pushes a fleet task follows: a subscription that may be missing (not yet, or lost).

use futures::StreamExt;
use futures::stream::BoxStream;

/// The next push of `updates`; never, while there is no subscription (the task's timer decides
/// then). `None` when the subscription ended.
pub(super) async fn next_push<T>(updates: &mut Option<BoxStream<'static, T>>) -> Option<T> {
    match updates.as_mut() {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}
