//! The webhook event envelope and the dedupe inbox.

use std::sync::Arc;

use clerk_incident_core::webhooks::{
    EventCategory, EventType, InboxOutcome, MemoryInbox, WebhookError, WebhookEvent, WebhookInbox,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The `user.created` example of clerk-openapi/webhooks-2025-04-15.yml, as JSON.
const USER_CREATED: &str = r#"{
  "event_attributes": {
    "http_request": {
      "client_ip": "192.168.1.100",
      "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36"
    }
  },
  "object": "event",
  "type": "user.created",
  "instance_id": "ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S",
  "timestamp": 1716883200,
  "data": {
    "object": "user",
    "id": "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S",
    "external_id": null,
    "primary_email_address_id": "idn_2g7np7Hrk0SN6kj5EDMLDaKNL0S",
    "primary_phone_number_id": null,
    "primary_web3_wallet_id": null,
    "username": null,
    "first_name": "John",
    "last_name": "Doe",
    "profile_image_url": "https://img.clerk.com/xxxxxx",
    "image_url": "https://img.clerk.com/xxxxxx",
    "has_image": true,
    "public_metadata": {},
    "private_metadata": null,
    "unsafe_metadata": {},
    "email_addresses": [],
    "phone_numbers": [],
    "web3_wallets": [],
    "passkeys": [],
    "password_enabled": true,
    "two_factor_enabled": false,
    "totp_enabled": false,
    "backup_code_enabled": false,
    "mfa_enabled_at": null,
    "mfa_disabled_at": null,
    "external_accounts": [],
    "saml_accounts": [],
    "enterprise_accounts": [],
    "last_sign_in_at": 1716883200000,
    "banned": false,
    "locked": false,
    "lockout_expires_in_seconds": null,
    "verification_attempts_remaining": null,
    "updated_at": 1716883200000,
    "created_at": 1716883200000,
    "delete_self_enabled": true,
    "create_organization_enabled": true,
    "create_organizations_limit": null,
    "last_active_at": 1716883200000,
    "legal_accepted_at": 1716883200000
  }
}"#;

#[test]
fn user_created_example_parses() -> TestResult {
    let event = WebhookEvent::from_slice(USER_CREATED.as_bytes())?;
    assert_eq!(event.event_type, EventType::UserCreated);
    assert_eq!(event.event_type.category(), EventCategory::User);
    assert_eq!(event.object, "event");
    assert_eq!(event.timestamp, 1_716_883_200);
    assert_eq!(
        event.instance_id.as_deref(),
        Some("ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S")
    );
    assert_eq!(event.object_id(), Some("user_2g7np7Hrk0SN6kj5EDMLDaKNL0S"));
    assert_eq!(event.user_id(), Some("user_2g7np7Hrk0SN6kj5EDMLDaKNL0S"));
    assert_eq!(event.organization_id(), None);
    assert_eq!(event.updated_at(), Some(1_716_883_200_000));
    assert!(!event.is_deleted());
    assert_eq!(event.data["first_name"], "John");
    assert!(event.event_attributes.is_some());
    Ok(())
}

#[test]
fn user_deleted_session_organization_and_membership_events() -> TestResult {
    let deleted = WebhookEvent::from_slice(
        br#"{"object":"event","type":"user.deleted","instance_id":"ins_1","timestamp":1716883200,
            "data":{"object":"user","id":"user_9","deleted":true,"external_id":"ex_1"}}"#,
    )?;
    assert_eq!(deleted.event_type, EventType::UserDeleted);
    assert!(deleted.is_deleted());
    assert_eq!(deleted.user_id(), Some("user_9"));

    let session = WebhookEvent::from_slice(
        br#"{"object":"event","type":"session.revoked","instance_id":"ins_1","timestamp":1,
            "data":{"object":"session","id":"sess_1","user_id":"user_1"}}"#,
    )?;
    assert_eq!(session.event_type, EventType::SessionRevoked);
    assert_eq!(session.event_type.category(), EventCategory::Session);
    assert_eq!(session.object_id(), Some("sess_1"));
    assert_eq!(session.user_id(), Some("user_1"));

    let org = WebhookEvent::from_slice(
        br#"{"object":"event","type":"organization.updated","instance_id":"ins_1","timestamp":1,
            "data":{"object":"organization","id":"org_1","created_by":"user_1"}}"#,
    )?;
    assert_eq!(org.event_type, EventType::OrganizationUpdated);
    assert_eq!(org.organization_id(), Some("org_1"));
    assert_eq!(org.user_id(), None);

    let membership = WebhookEvent::from_slice(
        br#"{"object":"event","type":"organizationMembership.created","instance_id":"ins_1",
            "timestamp":1,"data":{"object":"organization_membership","id":"orgmem_1",
            "organization":{"object":"organization","id":"org_2"},
            "public_user_data":{"user_id":"user_2"}}}"#,
    )?;
    assert_eq!(
        membership.event_type,
        EventType::OrganizationMembershipCreated
    );
    assert_eq!(membership.object_id(), Some("orgmem_1"));
    assert_eq!(membership.user_id(), Some("user_2"));
    assert_eq!(membership.organization_id(), Some("org_2"));
    Ok(())
}

#[test]
fn unknown_event_type_is_kept() -> TestResult {
    let body = br#"{"object":"event","type":"subscriptionItem.freeTrialEnding",
        "instance_id":"ins_1","timestamp":1716883200,"data":{"id":"csi_1"},"new_field":1}"#;
    let event = WebhookEvent::from_slice(body)?;
    assert_eq!(
        event.event_type,
        EventType::Other("subscriptionItem.freeTrialEnding".to_owned())
    );
    assert_eq!(event.event_type.category(), EventCategory::Other);
    assert_eq!(
        event.event_type.as_str(),
        "subscriptionItem.freeTrialEnding"
    );
    assert_eq!(event.object_id(), Some("csi_1"));
    assert_eq!(event.user_id(), None);
    Ok(())
}

#[test]
fn event_types_round_trip() {
    for name in [
        "user.created",
        "user.updated",
        "user.deleted",
        "session.created",
        "session.pending",
        "session.ended",
        "session.removed",
        "session.revoked",
        "organization.created",
        "organization.updated",
        "organization.deleted",
        "organizationMembership.created",
        "organizationMembership.updated",
        "organizationMembership.deleted",
        "email.created",
    ] {
        let ty = EventType::parse(name);
        assert_eq!(ty.as_str(), name);
        assert_eq!(ty.to_string(), name);
        assert_eq!(
            ty == EventType::Other(name.to_owned()),
            name == "email.created"
        );
    }
}

#[test]
fn synthesised_event_serialises_to_the_envelope() -> TestResult {
    let event = WebhookEvent::new(
        EventType::UserUpdated,
        json!({"object": "user", "id": "user_1", "updated_at": 5}),
        1_716_883_200_000,
    )
    .with_instance_id("ins_1");
    let value = serde_json::to_value(&event)?;
    assert_eq!(value["object"], "event");
    assert_eq!(value["type"], "user.updated");
    assert_eq!(value["instance_id"], "ins_1");
    assert_eq!(value["timestamp"], 1_716_883_200_000_i64);
    let back = WebhookEvent::from_slice(&serde_json::to_vec(&event)?)?;
    assert_eq!(back, event);
    Ok(())
}

#[test]
fn non_events_are_bad_payloads_without_echo() {
    for body in [
        &b""[..],
        b"not json SECRETISH",
        b"[]",
        br#"{"object":"user","type":"user.created","timestamp":1,"data":{}}"#,
        br#"{"object":"event","type":"user.created","data":{}}"#,
        br#"{"object":"event","type":7,"timestamp":1,"data":{}}"#,
    ] {
        let error = WebhookEvent::from_slice(body).err();
        assert_eq!(error, Some(WebhookError::BadPayload));
        let shown = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(!shown.contains("SECRETISH"));
    }
}

#[tokio::test]
async fn inbox_dedupes_a_repeated_id() -> TestResult {
    let inbox = MemoryInbox::new(10);
    assert_eq!(inbox.record("msg_1").await?, InboxOutcome::New);
    assert_eq!(inbox.record("msg_1").await?, InboxOutcome::Duplicate);
    assert_eq!(inbox.record("msg_2").await?, InboxOutcome::New);
    assert_eq!(inbox.len(), 2);
    // A failed delivery is forgotten, so the sender's retry is processed.
    inbox.forget("msg_1").await?;
    assert!(!inbox.contains("msg_1"));
    assert_eq!(inbox.record("msg_1").await?, InboxOutcome::New);
    Ok(())
}

#[tokio::test]
async fn inbox_evicts_past_capacity() -> TestResult {
    let inbox = MemoryInbox::new(3);
    for id in ["a", "b", "c", "d"] {
        assert_eq!(inbox.record(id).await?, InboxOutcome::New);
    }
    assert_eq!(inbox.len(), 3);
    assert!(!inbox.contains("a"), "the oldest id is evicted");
    assert_eq!(inbox.record("d").await?, InboxOutcome::Duplicate);
    assert_eq!(inbox.record("a").await?, InboxOutcome::New);
    assert!(!inbox.contains("b"));
    assert_eq!(MemoryInbox::new(0).capacity(), 1);
    Ok(())
}

#[tokio::test]
async fn inbox_is_usable_as_a_shared_trait_object() -> TestResult {
    let inbox: Arc<dyn WebhookInbox> = Arc::new(MemoryInbox::new(100));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let inbox = Arc::clone(&inbox);
        tasks.push(tokio::spawn(async move { inbox.record("msg_same").await }));
    }
    let mut new = 0;
    for task in tasks {
        if task.await?? == InboxOutcome::New {
            new += 1;
        }
    }
    assert_eq!(new, 1, "exactly one concurrent delivery is processed");
    Ok(())
}
