//! `GET /v1/sessions`: filters and pagination.

use crate::model::{SessionStatus, SimSession};
use crate::query_params::{ParamError, QueryParams};
use crate::store::Store;

/// Default page size.
const DEFAULT_LIMIT: usize = 10;
/// Largest page size.
const MAX_LIMIT: usize = 500;

/// A parsed `GET /v1/sessions` request.
#[derive(Clone, Debug)]
pub(crate) struct SessionListQuery {
    user_id: Option<String>,
    client_id: Option<String>,
    status: Option<SessionStatus>,
    /// Whether to answer `{"data": [...], "total_count": N}` rather than a plain array.
    pub(crate) paginated: bool,
    limit: usize,
    offset: usize,
}

/// One page of sessions and the number of sessions matching the filters.
#[derive(Debug)]
pub(crate) struct SessionPage<'a> {
    pub(crate) data: Vec<&'a SimSession>,
    pub(crate) total_count: usize,
}

impl SessionListQuery {
    /// Reads `user_id`, `client_id` (one of them is required), `status`, `paginated`,
    /// `limit` and `offset`.
    pub(crate) fn parse(params: &QueryParams) -> Result<Self, ParamError> {
        let user_id = params.non_empty("user_id").map(str::to_owned);
        let client_id = params.non_empty("client_id").map(str::to_owned);
        if user_id.is_none() && client_id.is_none() {
            return Err(ParamError::missing(
                "user_id",
                "one of `user_id` or `client_id` must be given",
            ));
        }
        let status = params
            .first("status")
            .map(|status| {
                SessionStatus::parse(status).ok_or_else(|| {
                    ParamError::value("status", format!("`{status}` is not a session status"))
                })
            })
            .transpose()?;
        Ok(Self {
            user_id,
            client_id,
            status,
            paginated: params.boolean("paginated")?.unwrap_or(false),
            limit: params.integer_in("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?,
            offset: params.integer_in("offset", 0, 0, usize::MAX)?,
        })
    }

    /// The matching sessions of `store`, newest first.
    pub(crate) fn run<'a>(&self, store: &'a Store) -> SessionPage<'a> {
        let candidates: Box<dyn Iterator<Item = &'a SimSession>> = match &self.user_id {
            Some(user_id) => Box::new(store.sessions_of_user(user_id)),
            None => match &self.client_id {
                Some(client_id) => Box::new(store.sessions_of_client(client_id)),
                None => Box::new(std::iter::empty()),
            },
        };
        let matching: Vec<&SimSession> = candidates
            .filter(|session| {
                self.client_id
                    .as_ref()
                    .is_none_or(|client_id| session.client_id == *client_id)
                    && self.status.is_none_or(|status| session.status == status)
            })
            .collect();
        SessionPage {
            total_count: matching.len(),
            data: matching
                .into_iter()
                .skip(self.offset)
                .take(self.limit)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SessionListQuery;
    use crate::query_params::{ParamErrorKind, QueryParams};

    #[test]
    fn a_user_or_a_client_is_required() {
        let error =
            SessionListQuery::parse(&QueryParams::parse(Some("status=active"))).unwrap_err();
        assert_eq!(error.kind, ParamErrorKind::Missing);
        assert!(
            SessionListQuery::parse(&QueryParams::parse(Some("user_id=u&status=gone"))).is_err()
        );
        let query =
            SessionListQuery::parse(&QueryParams::parse(Some("client_id=c&paginated=true")));
        assert!(query.unwrap().paginated);
    }
}
