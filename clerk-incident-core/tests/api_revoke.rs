//! `revoke_session` is idempotent: a refusal for a session that is no longer live counts as
//! done, a refusal for a live one does not, and an authentication failure is not second-guessed.

mod common;

use clerk_incident_core::api::{ApiError, RevokeOutcome, SessionStatus};
use common::{api, clerk_call, clerk_error_response, ok_json, session_json};
use wiremock::MockServer;

/// Revoking `sess_1` answers `status` with Clerk's error body, once.
async fn revoke_refused(server: &MockServer, status: u16, code: &str) {
    clerk_call("POST", "/v1/sessions/sess_1/revoke")
        .respond_with(clerk_error_response(status, code, "trace-revoke"))
        .expect(1)
        .mount(server)
        .await;
}

/// Reading `sess_1` back answers a session with `status`, `times` times.
async fn session_reads(server: &MockServer, status: &str, times: u64) {
    clerk_call("GET", "/v1/sessions/sess_1")
        .respond_with(ok_json(&session_json("sess_1", "user_1", status)))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_refusal_for_a_revoked_session_is_already_inactive() {
    let server = MockServer::start().await;
    revoke_refused(&server, 400, "session_not_active").await;
    session_reads(&server, "revoked", 1).await;

    let outcome = api(&server).revoke_session("sess_1").await.unwrap();
    let RevokeOutcome::AlreadyInactive(session) = &outcome else {
        panic!("expected AlreadyInactive, got {outcome:?}");
    };
    assert_eq!(session.status, SessionStatus::Revoked);
    assert_eq!(outcome.session().id, "sess_1");
}

#[tokio::test]
async fn a_refusal_for_an_ended_or_expired_session_is_already_inactive() {
    for status in ["ended", "expired", "removed", "abandoned", "replaced"] {
        let server = MockServer::start().await;
        revoke_refused(&server, 422, "session_not_active").await;
        session_reads(&server, status, 1).await;

        let outcome = api(&server).revoke_session("sess_1").await.unwrap();
        assert!(
            matches!(outcome, RevokeOutcome::AlreadyInactive(_)),
            "{status}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn a_refusal_for_a_live_session_is_the_original_error() {
    for live in ["active", "pending"] {
        let server = MockServer::start().await;
        revoke_refused(&server, 400, "session_revoke_failed").await;
        session_reads(&server, live, 1).await;

        let err = api(&server).revoke_session("sess_1").await.unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Api {
                    status: 400,
                    operation: "revoke session",
                    ..
                }
            ),
            "{live}: {err:?}"
        );
        assert_eq!(err.code(), Some("session_revoke_failed"));
        assert_eq!(err.clerk_trace_id(), Some("trace-revoke"));
    }
}

#[tokio::test]
async fn a_refusal_that_cannot_be_checked_is_the_original_error() {
    let server = MockServer::start().await;
    revoke_refused(&server, 400, "session_revoke_failed").await;
    clerk_call("GET", "/v1/sessions/sess_1")
        .respond_with(clerk_error_response(404, "resource_not_found", "trace-get"))
        .expect(1)
        .mount(&server)
        .await;

    let err = api(&server).revoke_session("sess_1").await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.clerk_trace_id(), Some("trace-revoke"));
}

#[tokio::test]
async fn an_authentication_failure_is_returned_without_reading_the_session() {
    for (status, code) in [
        (401, "authentication_invalid"),
        (403, "authorization_invalid"),
    ] {
        let server = MockServer::start().await;
        revoke_refused(&server, status, code).await;
        session_reads(&server, "revoked", 0).await;

        let api = api(&server);
        let err = api.revoke_session("sess_1").await.unwrap_err();
        assert_eq!(err.status(), Some(status), "{err:?}");
        assert_eq!(err.code(), Some(code));
        assert_eq!(api.counters().requests, 1, "no GET after a {status}");
    }
}
