//! The `VerifiedWebhook` extractor's table: deliveries and the status each gets, which both
//! adapters' tests send through a one-route app.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use clerk_incident_core::webhooks::{
    VerifiedDelivery, WebhookEvent, WebhookRejectionKind, WebhookSecret, WebhookVerifier, sign,
};
use serde_json::{Value, json};

/// The secret the test route's verifier holds.
pub const WEBHOOK_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
/// Another secret: what the endpoint held before a rotation.
pub const OTHER_WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The message id of every delivery.
pub const WEBHOOK_ID: &str = "msg_2kQm4bJxN0vW8sYrT6uZ";
/// The body of a valid delivery: `user.created` for `user_1`.
pub const WEBHOOK_BODY: &str = r#"{"object":"event","type":"user.created","timestamp":1716883200,"instance_id":"ins_1","data":{"object":"user","id":"user_1","updated_at":1716883200000}}"#;

/// One delivery: its headers and body.
#[derive(Clone, Debug)]
pub struct WebhookDelivery {
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl WebhookDelivery {
    /// `body` signed with [`WEBHOOK_SECRET`] at `timestamp`, in the `prefix-*` header family
    /// (`svix` or `webhook`).
    pub fn signed(prefix: &str, timestamp: i64, body: &[u8]) -> Self {
        let signature = match WebhookSecret::new(WEBHOOK_SECRET) {
            Ok(secret) => sign(&secret, WEBHOOK_ID, timestamp, body),
            Err(_) => String::new(),
        };
        Self {
            headers: vec![
                (format!("{prefix}-id"), WEBHOOK_ID.to_owned()),
                (format!("{prefix}-timestamp"), timestamp.to_string()),
                (format!("{prefix}-signature"), signature),
            ],
            body: body.to_vec(),
        }
    }

    /// [`WEBHOOK_BODY`], signed now with `svix-*` headers.
    pub fn valid() -> Self {
        Self::signed("svix", now(), WEBHOOK_BODY.as_bytes())
    }

    /// Without the header `name`.
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(header, _)| header != name);
        self
    }

    /// With another body (the signature unchanged).
    #[must_use]
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }

    /// Why `response_body`, the answer to this delivery, echoes the request or the reason of
    /// the refusal; `None` when it echoes nothing.
    pub fn echo_in(&self, response_body: &str) -> Option<String> {
        for (header, value) in &self.headers {
            if !value.is_empty() && response_body.contains(value.as_str()) {
                return Some(format!("it repeats the {header} header"));
            }
        }
        [
            "missing",
            "too old",
            "future",
            "no webhook signature matches",
            "not a Clerk event",
            "user_",
        ]
        .into_iter()
        .find(|reason| response_body.contains(reason))
        .map(|reason| format!("it says {reason:?}"))
    }
}

/// A delivery and the status the extractor answers it with when the route's verifier holds
/// [`WEBHOOK_SECRET`] (200 is the test handler's answer).
#[derive(Clone, Debug)]
pub struct WebhookCase {
    /// What the case is about.
    pub name: &'static str,
    /// The request.
    pub delivery: WebhookDelivery,
    /// The expected status.
    pub status: u16,
}

/// Valid deliveries in both header families, and every way one fails: tampered body, each
/// header missing, a timestamp ten minutes off either way, a signed body that is not an event.
pub fn webhook_cases() -> Vec<WebhookCase> {
    let invalid = WebhookRejectionKind::Invalid.status();
    let tampered = WEBHOOK_BODY.replace("user_1", "user_2");
    let case = |name, delivery, status| WebhookCase {
        name,
        delivery,
        status,
    };
    vec![
        case("valid svix-*", WebhookDelivery::valid(), 200),
        case(
            "valid webhook-*",
            WebhookDelivery::signed("webhook", now(), WEBHOOK_BODY.as_bytes()),
            200,
        ),
        case(
            "tampered body",
            WebhookDelivery::valid().with_body(tampered.as_bytes()),
            invalid,
        ),
        case(
            "missing id",
            WebhookDelivery::valid().without("svix-id"),
            invalid,
        ),
        case(
            "missing timestamp",
            WebhookDelivery::valid().without("svix-timestamp"),
            invalid,
        ),
        case(
            "missing signature",
            WebhookDelivery::valid().without("svix-signature"),
            invalid,
        ),
        case(
            "stale timestamp",
            WebhookDelivery::signed("svix", now() - 600, WEBHOOK_BODY.as_bytes()),
            invalid,
        ),
        case(
            "future timestamp",
            WebhookDelivery::signed("svix", now() + 600, WEBHOOK_BODY.as_bytes()),
            invalid,
        ),
        case(
            "signed, but not an event",
            WebhookDelivery::signed("svix", now(), br#"{"object":"list","data":[]}"#),
            invalid,
        ),
    ]
}

/// The system clock, Unix seconds.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

/// What the test route's handler answers for a verified delivery: the delivery id, the event
/// type, the user and the body length, as JSON.
pub fn webhook_view(delivery: &VerifiedDelivery, event: &WebhookEvent, body_len: usize) -> Value {
    json!({
        "id": delivery.id,
        "type": event.event_type.as_str(),
        "user_id": event.user_id(),
        "body_len": body_len,
    })
}

/// Runs the extractor's behaviour through an adapter: `send(verifier, delivery)` serves
/// `delivery` to a one-route app (`POST`, the handler answering [`webhook_view`] with 200)
/// whose verifier is `verifier` (none: not configured), and returns the status and body.
///
/// Checks every [`webhook_cases`] status, the handler's view of a valid delivery, a rotation
/// verifier holding both secrets, the fixed 400 body that echoes nothing, and the fail-closed
/// 500. Panics with every mismatch at once.
pub async fn run_webhooks<F, Fut>(mut send: F)
where
    F: FnMut(Option<WebhookVerifier>, WebhookDelivery) -> Fut,
    Fut: Future<Output = (u16, String)>,
{
    let verifier = |secret: &str| WebhookSecret::new(secret).ok().map(WebhookVerifier::new);
    let mut failures = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };

    for case in webhook_cases() {
        let (status, body) = send(verifier(WEBHOOK_SECRET), case.delivery.clone()).await;
        check(
            status == case.status,
            format!("{}: {status} instead of {}: {body}", case.name, case.status),
        );
        if case.status == WebhookRejectionKind::Invalid.status() {
            check(
                body == WebhookRejectionKind::Invalid.json_body(),
                format!("{}: the 400 body is not the fixed one: {body}", case.name),
            );
            if let Some(echo) = case.delivery.echo_in(&body) {
                check(false, format!("{}: {echo}: {body}", case.name));
            }
        }
    }

    let (status, body) = send(verifier(WEBHOOK_SECRET), WebhookDelivery::valid()).await;
    let view: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let expected = json!({
        "id": WEBHOOK_ID,
        "type": "user.created",
        "user_id": "user_1",
        "body_len": WEBHOOK_BODY.len(),
    });
    check(
        status == 200 && view == expected,
        format!("the handler's view of a valid delivery: {status} {body}"),
    );

    let rotation = verifier(OTHER_WEBHOOK_SECRET).and_then(|other| {
        WebhookSecret::new(WEBHOOK_SECRET)
            .ok()
            .map(|secret| other.and_secret(secret))
    });
    let (status, _) = send(rotation, WebhookDelivery::valid()).await;
    check(
        status == 200,
        format!("a verifier with both secrets: {status}"),
    );
    let (status, _) = send(verifier(OTHER_WEBHOOK_SECRET), WebhookDelivery::valid()).await;
    check(
        status == 400,
        format!("a verifier with the other secret only: {status}"),
    );

    let (status, body) = send(None, WebhookDelivery::valid()).await;
    check(
        status == 500 && body == WebhookRejectionKind::NotConfigured.json_body(),
        format!("no verifier: {status} {body}"),
    );

    assert!(
        failures.is_empty(),
        "{} webhook checks failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
