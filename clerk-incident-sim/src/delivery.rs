//! [`Delivery`]: what became of one webhook delivery attempt.

use serde::{Deserialize, Serialize};

/// The outcome of delivering one webhook event, returned by the user admin methods
/// ([`Sim::create_user`](crate::Sim::create_user), ...) once the attempt is over.
///
/// Serializes with an `outcome` tag: `{"outcome":"delivered","status":204}`,
/// `{"outcome":"dropped"}`, `{"outcome":"failed","reason":"status 500"}`,
/// `{"outcome":"not_configured"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Delivery {
    /// No webhook endpoint is configured: nothing was sent or counted.
    NotConfigured,
    /// The endpoint answered with a 2xx status.
    Delivered {
        /// The status code of the answer.
        status: u16,
    },
    /// The delivery was dropped on purpose ([`Sim::drop_webhooks`](crate::Sim::drop_webhooks)):
    /// counted, never sent.
    Dropped,
    /// The endpoint answered with a non-2xx status, or the request failed (single attempt,
    /// 5 s timeout).
    Failed {
        /// `status <code>`, or a short transport error kind (`timeout`, `connect`, ...).
        /// Never a secret.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::Delivery;
    use serde_json::json;

    #[test]
    fn serializes_with_an_outcome_tag() {
        let value = serde_json::to_value(Delivery::Delivered { status: 204 }).unwrap();
        assert_eq!(value, json!({"outcome": "delivered", "status": 204}));
        let value = serde_json::to_value(Delivery::NotConfigured).unwrap();
        assert_eq!(value, json!({"outcome": "not_configured"}));
        let value = serde_json::to_value(Delivery::Failed {
            reason: "timeout".to_owned(),
        })
        .unwrap();
        assert_eq!(value, json!({"outcome": "failed", "reason": "timeout"}));
    }
}
