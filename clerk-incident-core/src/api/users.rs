//! Users: list every page as a stream, count, get.

use futures::{Stream, TryStreamExt, stream};

use super::client::{Call, ClerkApi, segment};
use super::error::ApiError;
use super::models::{TotalCount, User};

/// The most users Clerk returns per page.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The most ids Clerk accepts in one `user_id` or `organization_id` filter.
pub const MAX_IDS_PER_FILTER: usize = 100;

/// The order users are listed in. Only the `created_at` orders are offered: they are the only
/// ones Clerk's `starting_after` cursor accepts, and the only ones that neither skip nor repeat
/// users while the list changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserOrder {
    /// Newest first (`-created_at`), Clerk's default.
    #[default]
    NewestFirst,
    /// Oldest first (`+created_at`).
    OldestFirst,
}

impl UserOrder {
    fn as_param(self) -> &'static str {
        match self {
            UserOrder::NewestFirst => "-created_at",
            UserOrder::OldestFirst => "+created_at",
        }
    }
}

/// Which users to list or count. Timestamps are Unix milliseconds.
///
/// ```
/// use clerk_incident_core::api::{UserOrder, UserQuery};
///
/// let week_ago_ms = 1_700_000_000_000;
/// let query = UserQuery::new()
///     .last_active_at_after(week_ago_ms)
///     .order(UserOrder::OldestFirst)
///     .page_size(500);
/// assert_eq!(query.page_size_value(), 500);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserQuery {
    user_ids: Vec<String>,
    organization_ids: Vec<String>,
    created_at_after: Option<i64>,
    created_at_before: Option<i64>,
    last_active_at_after: Option<i64>,
    order: UserOrder,
    page_size: u32,
}

impl Default for UserQuery {
    fn default() -> Self {
        Self {
            user_ids: Vec::new(),
            organization_ids: Vec::new(),
            created_at_after: None,
            created_at_before: None,
            last_active_at_after: None,
            order: UserOrder::default(),
            page_size: MAX_PAGE_SIZE,
        }
    }
}

impl UserQuery {
    /// All users, newest first, 500 per page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only these users (at most [`MAX_IDS_PER_FILTER`] in one query).
    pub fn user_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.user_ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Only members of these organisations (at most [`MAX_IDS_PER_FILTER`]).
    pub fn organization_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.organization_ids
            .extend(ids.into_iter().map(Into::into));
        self
    }

    /// Only users created after `unix_ms`.
    pub fn created_at_after(mut self, unix_ms: i64) -> Self {
        self.created_at_after = Some(unix_ms);
        self
    }

    /// Only users created before `unix_ms`.
    pub fn created_at_before(mut self, unix_ms: i64) -> Self {
        self.created_at_before = Some(unix_ms);
        self
    }

    /// Only users active after `unix_ms`. Clerk keeps `last_active_at` with day precision, so
    /// leave a day of margin.
    pub fn last_active_at_after(mut self, unix_ms: i64) -> Self {
        self.last_active_at_after = Some(unix_ms);
        self
    }

    /// The listing order.
    pub fn order(mut self, order: UserOrder) -> Self {
        self.order = order;
        self
    }

    /// Users per page, clamped to `1..=500` (default 500, the fewest requests).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The page size in effect.
    pub fn page_size_value(&self) -> u32 {
        self.page_size
    }

    /// The filter parameters, shared by list and count.
    fn filters(&self) -> Result<Vec<(&'static str, String)>, ApiError> {
        for (name, ids) in [
            ("user_id", &self.user_ids),
            ("organization_id", &self.organization_ids),
        ] {
            if ids.len() > MAX_IDS_PER_FILTER {
                return Err(ApiError::Config(format!(
                    "{} {name} values in one query; Clerk accepts at most {MAX_IDS_PER_FILTER}, so split them into batches",
                    ids.len()
                )));
            }
        }
        let mut params = Vec::new();
        params.extend(self.user_ids.iter().map(|id| ("user_id", id.clone())));
        params.extend(
            self.organization_ids
                .iter()
                .map(|id| ("organization_id", id.clone())),
        );
        for (name, value) in [
            ("created_at_after", self.created_at_after),
            ("created_at_before", self.created_at_before),
            ("last_active_at_after", self.last_active_at_after),
        ] {
            if let Some(value) = value {
                params.push((name, value.to_string()));
            }
        }
        Ok(params)
    }
}

impl ClerkApi {
    /// Every user matching `query`, page after page, as one stream.
    ///
    /// Pages are walked with the `starting_after` cursor and the walk stops on a short page,
    /// so a list of any length costs `ceil(n / page_size)` (+1 when `n` is a multiple of the
    /// page size) requests. The first error ends the stream.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use clerk_incident_core::api::{ClerkApi, SecretKey, UserQuery};
    /// use futures::TryStreamExt;
    ///
    /// let sim = clerk_incident_sim::Sim::builder().users(25).start().await?;
    /// let api = ClerkApi::builder(SecretKey::new(sim.secret_key()))
    ///     .base_url(sim.base_url())
    ///     .build()?;
    /// let users: Vec<_> = api.list_users(UserQuery::new().page_size(10)).try_collect().await?;
    /// assert_eq!(users.len(), 25);
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_users(
        &self,
        query: UserQuery,
    ) -> impl Stream<Item = Result<User, ApiError>> + Send + 'static + use<> {
        self.list_user_pages(query)
            .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Like [`list_users`](Self::list_users), one item per page: for progress reporting.
    pub fn list_user_pages(
        &self,
        query: UserQuery,
    ) -> impl Stream<Item = Result<Vec<User>, ApiError>> + Send + 'static + use<> {
        let api = self.clone();
        stream::try_unfold(Some(None::<String>), move |cursor| {
            let api = api.clone();
            let query = query.clone();
            async move {
                let Some(after) = cursor else {
                    return Ok(None);
                };
                let mut params = query.filters()?;
                params.push(("limit", query.page_size.to_string()));
                params.push(("order_by", query.order.as_param().to_owned()));
                if let Some(after) = after {
                    params.push(("starting_after", after));
                }
                let call = Call::get("list users", "/v1/users".to_owned()).query(params);
                let page: Vec<User> = api.json(&call).await?;
                if page.is_empty() {
                    return Ok(None);
                }
                let full = page.len() >= query.page_size as usize;
                let next = page.last().filter(|_| full).map(|u| Some(u.id.clone()));
                Ok(Some((page, next)))
            }
        })
    }

    /// Every user created or updated at or after `since_ms` (Unix ms), most recently updated
    /// first, as Clerk's raw JSON objects, one item per page of up to `page_size` (at most
    /// [`MAX_PAGE_SIZE`]).
    ///
    /// Clerk has no `updated_at` filter, so the walk orders by `-updated_at` with `offset`
    /// paging (the `starting_after` cursor only works with `created_at` orders) and stops at
    /// the first user updated before `since_ms`: a short backlog costs one or two requests
    /// whatever the size of the instance. The objects are kept whole, exactly as Clerk sent
    /// them, so that a webhook replay forwards every field (the typed [`User`] keeps a
    /// subset). A user updated again during the walk moves to the front and is not listed
    /// twice; a user deleted during the walk can shift one other user past a page boundary,
    /// which a second replay picks up.
    pub fn list_users_updated_since(
        &self,
        since_ms: i64,
        page_size: u32,
    ) -> impl Stream<Item = Result<Vec<serde_json::Value>, ApiError>> + Send + 'static + use<> {
        let api = self.clone();
        let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        stream::try_unfold(Some(0_u64), move |offset| {
            let api = api.clone();
            async move {
                let Some(offset) = offset else {
                    return Ok(None);
                };
                let params = vec![
                    ("order_by", "-updated_at".to_owned()),
                    ("limit", page_size.to_string()),
                    ("offset", offset.to_string()),
                ];
                let call = Call::get("list users", "/v1/users".to_owned()).query(params);
                let page: Vec<serde_json::Value> = api.json(&call).await?;
                let full = page.len() >= page_size as usize;
                let fetched = page.len() as u64;
                let recent: Vec<serde_json::Value> = page
                    .into_iter()
                    .filter(|user| updated_at(user).is_some_and(|at| at >= since_ms))
                    .collect();
                let older_reached = (recent.len() as u64) < fetched;
                if recent.is_empty() {
                    return Ok(None);
                }
                let next = (full && !older_reached).then_some(offset + fetched);
                Ok(Some((recent, next)))
            }
        })
    }

    /// How many users match `query` (its order and page size do not matter).
    ///
    /// # Errors
    ///
    /// Any [`ApiError`]; [`ApiError::Config`] for a filter over 100 ids.
    pub async fn count_users(&self, query: &UserQuery) -> Result<u64, ApiError> {
        let call = Call::get("count users", "/v1/users/count".to_owned()).query(query.filters()?);
        let count: TotalCount = self.json(&call).await?;
        Ok(count.total_count)
    }

    /// One user by id.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`]; an unknown id is an [`ApiError::Api`] with status 404.
    pub async fn get_user(&self, user_id: &str) -> Result<User, ApiError> {
        let call = Call::get("get user", format!("/v1/users/{}", segment(user_id)?));
        self.json(&call).await
    }
}

/// `updated_at` of a raw user object.
fn updated_at(user: &serde_json::Value) -> Option<i64> {
    user.get("updated_at").and_then(serde_json::Value::as_i64)
}
