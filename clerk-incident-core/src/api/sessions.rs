//! Sessions: list a user's sessions, get one, revoke one (idempotently).

use super::client::{Call, ClerkApi, segment};
use super::error::ApiError;
use super::models::{Session, SessionPage, SessionStatus};

/// Sessions asked for per page when listing.
const SESSION_PAGE_SIZE: usize = 500;

/// What [`ClerkApi::revoke_session`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeOutcome {
    /// The session was live and is now revoked.
    Revoked(Session),
    /// The session was no longer live (revoked, ended, expired…) before the call: nothing to do.
    AlreadyInactive(Session),
}

impl RevokeOutcome {
    /// The session as Clerk last returned it.
    pub fn session(&self) -> &Session {
        match self {
            RevokeOutcome::Revoked(session) | RevokeOutcome::AlreadyInactive(session) => session,
        }
    }
}

impl ClerkApi {
    /// Every session of `user_id`, optionally only those with `status`, newest first.
    ///
    /// Uses `paginated=true` and walks every page with `offset`, stopping once `total_count`
    /// sessions are in hand or a page comes back short.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn list_sessions(
        &self,
        user_id: &str,
        status: Option<SessionStatus>,
    ) -> Result<Vec<Session>, ApiError> {
        let mut sessions = Vec::new();
        loop {
            let mut params = vec![
                ("user_id", user_id.to_owned()),
                ("paginated", "true".to_owned()),
                ("limit", SESSION_PAGE_SIZE.to_string()),
                ("offset", sessions.len().to_string()),
            ];
            if let Some(status) = &status {
                params.push(("status", status.as_str().to_owned()));
            }
            let call = Call::get("list sessions", "/v1/sessions".to_owned()).query(params);
            let (page, total) = match self.json::<SessionPage>(&call).await? {
                SessionPage::Paginated { data, total_count } => (data, Some(total_count)),
                SessionPage::Plain(data) => (data, None),
            };
            let short = page.len() < SESSION_PAGE_SIZE;
            sessions.extend(page);
            let complete = total.is_some_and(|total| sessions.len() as u64 >= total);
            if short || complete {
                return Ok(sessions);
            }
        }
    }

    /// One session by id.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`]; an unknown id is a 404.
    pub async fn get_session(&self, session_id: &str) -> Result<Session, ApiError> {
        let call = Call::get(
            "get session",
            format!("/v1/sessions/{}", segment(session_id)?),
        );
        self.json(&call).await
    }

    /// Revokes a session, idempotently.
    ///
    /// Clerk may refuse to revoke a session that is no longer active with a 4xx. When it does,
    /// the session is read back: if it is not live, the outcome is
    /// [`RevokeOutcome::AlreadyInactive`], so a repeated or resumed mass revocation counts it
    /// as done; if it is still live, Clerk's refusal is returned.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`] other than the "already inactive" refusal above.
    pub async fn revoke_session(&self, session_id: &str) -> Result<RevokeOutcome, ApiError> {
        let call = Call::post(
            "revoke session",
            format!("/v1/sessions/{}/revoke", segment(session_id)?),
        );
        let refusal = match self.json::<Session>(&call).await {
            Ok(session) => return Ok(RevokeOutcome::Revoked(session)),
            Err(err) if is_refusal(&err) => err,
            Err(err) => return Err(err),
        };
        match self.get_session(session_id).await {
            Ok(session) if !session.status.is_live() => Ok(RevokeOutcome::AlreadyInactive(session)),
            _ => Err(refusal),
        }
    }
}

/// A 4xx that may mean "this session is not active any more": not an authentication,
/// permission or rate-limit problem, which reading the session back could not change.
fn is_refusal(err: &ApiError) -> bool {
    matches!(err, ApiError::Api { status, .. }
        if (400..500).contains(status) && !matches!(status, 401 | 403 | 429))
}
