//! Webhooks: the configuration (endpoint, signing secret, dropped deliveries), the event types
//! and their data. Sending them is [`webhook_delivery`](crate::webhook_delivery)'s.

use std::time::Duration;

use serde::Serialize;

use crate::svix::WebhookSecret;

/// The webhook signing secret a sim uses unless [`SimBuilder::webhook_secret`] says otherwise.
///
/// A sim-only test value, published here: never use it for a real endpoint.
///
/// [`SimBuilder::webhook_secret`]: crate::SimBuilder::webhook_secret
pub const DEFAULT_WEBHOOK_SECRET: &str = "whsec_9wbsZtrVFDB/akn+xXFLXR5vD1SKI4Ju";

/// How long one delivery may take before it counts as failed.
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The webhook configuration, part of the mutable state.
#[derive(Debug)]
pub(crate) struct Webhooks {
    /// Where events are POSTed; `None` sends nothing.
    pub(crate) endpoint: Option<String>,
    /// The signing secret.
    pub(crate) secret: WebhookSecret,
    /// How many of the next deliveries are dropped.
    pub(crate) drop_next: u64,
}

/// Checks that `endpoint` is an absolute `http` or `https` URL with a host.
pub(crate) fn validate_endpoint(endpoint: &str) -> Result<String, String> {
    let endpoint = endpoint.trim();
    let url = reqwest::Url::parse(endpoint)
        .map_err(|error| format!("the webhook endpoint is not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("the webhook endpoint must be an http(s) URL with a host".to_owned());
    }
    Ok(endpoint.to_owned())
}

/// The HTTP client of a sim's deliveries: no proxy, 5 s timeout.
pub(crate) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(DELIVERY_TIMEOUT)
        .user_agent("clerk-incident-sim")
        .build()
        .map_err(|_| "cannot build the webhook HTTP client".to_owned())
}

/// The event types the sim emits (all about users).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UserEvent {
    /// `user.created`.
    Created,
    /// `user.updated`.
    Updated,
    /// `user.deleted`.
    Deleted,
}

impl UserEvent {
    /// Clerk's name of the event type.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Created => "user.created",
            Self::Updated => "user.updated",
            Self::Deleted => "user.deleted",
        }
    }
}

/// `data` of `user.deleted`.
#[derive(Serialize)]
pub(crate) struct DeletedUserJson<'a> {
    object: &'static str,
    id: &'a str,
    deleted: bool,
}

impl<'a> DeletedUserJson<'a> {
    pub(crate) fn new(id: &'a str) -> Self {
        Self {
            object: "user",
            id,
            deleted: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate_endpoint;

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(validate_endpoint("http://127.0.0.1:8080/webhooks").is_ok());
        assert!(validate_endpoint("https://example.com/clerk").is_ok());
        assert!(validate_endpoint("ftp://example.com/").is_err());
        assert!(validate_endpoint("not a url").is_err());
        assert!(validate_endpoint("").is_err());
    }
}
