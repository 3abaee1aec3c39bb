//! [`LayerConfig`]: what every [`ClerkAuth`](crate::ClerkAuth) built by one
//! [`ClerkAuthLayer`](crate::ClerkAuthLayer) shares, in a module of its own so that the layer
//! and its response future both read it without importing each other.

use clerk_incident_core::auth::{AuthPolicy, RouteRule};

use crate::rejection::RejectionHandler;

/// The policy, the rule of the routes the layer guards, and the custom rejection response, if
/// any.
#[derive(Clone, Debug)]
pub(crate) struct LayerConfig {
    pub(crate) policy: AuthPolicy,
    pub(crate) rule: RouteRule,
    pub(crate) handler: Option<RejectionHandler>,
}
