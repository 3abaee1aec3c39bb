//! `GET /v1/users` and `GET /v1/users/count`: filters, ordering and pagination.

use std::collections::HashSet;

use crate::model::SimUser;
use crate::query_params::{ParamError, QueryParams};
use crate::store::Store;

/// Most values a repeatable id filter takes.
const MAX_FILTER_IDS: usize = 100;
/// Default page size.
const DEFAULT_LIMIT: usize = 10;
/// Largest page size.
const MAX_LIMIT: usize = 500;

/// A `+`/`-` id filter: `id` or `+id` includes, `-id` excludes.
#[derive(Clone, Debug, Default)]
struct IdFilter {
    include: HashSet<String>,
    exclude: HashSet<String>,
}

impl IdFilter {
    fn parse(params: &QueryParams, name: &'static str) -> Result<Self, ParamError> {
        let mut filter = Self::default();
        let mut seen = 0_usize;
        for raw in params.all(name) {
            seen += 1;
            if seen > MAX_FILTER_IDS {
                return Err(ParamError::value(
                    name,
                    format!("`{name}` accepts at most {MAX_FILTER_IDS} values"),
                ));
            }
            // An unencoded `+` arrives as a space.
            if let Some(id) = raw.strip_prefix('-') {
                filter.exclude.insert(id.to_owned());
            } else {
                let id = raw.strip_prefix(['+', ' ']).unwrap_or(raw);
                filter.include.insert(id.to_owned());
            }
        }
        Ok(filter)
    }

    fn matches(&self, value: Option<&str>) -> bool {
        let included =
            self.include.is_empty() || value.is_some_and(|value| self.include.contains(value));
        let excluded = value.is_some_and(|value| self.exclude.contains(value));
        included && !excluded
    }
}

/// The filters shared by the list and the count.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserFilters {
    user_ids: IdFilter,
    organization_ids: IdFilter,
    created_at_after: Option<i64>,
    created_at_before: Option<i64>,
    last_active_at_after: Option<i64>,
    last_active_at_before: Option<i64>,
}

impl UserFilters {
    /// Reads `user_id`, `organization_id`, `created_at_after/before` and
    /// `last_active_at_after/before` (`last_active_at_since` is the deprecated spelling of
    /// `last_active_at_after`).
    pub(crate) fn parse(params: &QueryParams) -> Result<Self, ParamError> {
        let last_active_at_after = match params.integer("last_active_at_after")? {
            Some(after) => Some(after),
            None => params.integer("last_active_at_since")?,
        };
        Ok(Self {
            user_ids: IdFilter::parse(params, "user_id")?,
            organization_ids: IdFilter::parse(params, "organization_id")?,
            created_at_after: params.integer("created_at_after")?,
            created_at_before: params.integer("created_at_before")?,
            last_active_at_after,
            last_active_at_before: params.integer("last_active_at_before")?,
        })
    }

    /// Whether `user` passes every filter (`after` bounds are inclusive, `before` exclusive).
    pub(crate) fn matches(&self, user: &SimUser) -> bool {
        let after = |bound: Option<i64>, value: i64| bound.is_none_or(|bound| value >= bound);
        let before = |bound: Option<i64>, value: i64| bound.is_none_or(|bound| value < bound);
        self.user_ids.matches(Some(&user.id))
            && self.organization_ids.matches(
                user.membership
                    .as_ref()
                    .map(|membership| membership.organization_id.as_str()),
            )
            && after(self.created_at_after, user.created_at)
            && before(self.created_at_before, user.created_at)
            && after(self.last_active_at_after, user.last_active_at)
            && before(self.last_active_at_before, user.last_active_at)
    }

    /// Number of users of `store` that pass.
    pub(crate) fn count(&self, store: &Store) -> usize {
        store
            .users_newest_first()
            .filter(|user| self.matches(user))
            .count()
    }
}

/// The `order_by` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrderField {
    CreatedAt,
    UpdatedAt,
}

/// A parsed `GET /v1/users` request.
#[derive(Clone, Debug)]
pub(crate) struct UserListQuery {
    filters: UserFilters,
    field: OrderField,
    descending: bool,
    limit: usize,
    offset: usize,
    starting_after: Option<String>,
}

impl UserListQuery {
    /// Reads the filters, `order_by`, `limit`, `offset` and `starting_after`.
    pub(crate) fn parse(params: &QueryParams) -> Result<Self, ParamError> {
        let filters = UserFilters::parse(params)?;
        let (field, descending) = match params.first("order_by") {
            None => (OrderField::CreatedAt, true),
            Some(order_by) => parse_order(order_by)?,
        };
        let limit = params.integer_in("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?;
        let offset = params.integer_in("offset", 0, 0, usize::MAX)?;
        let starting_after = params.first("starting_after").map(str::to_owned);
        if starting_after.is_some() {
            if offset != 0 {
                return Err(ParamError::value(
                    "starting_after",
                    "`starting_after` cannot be combined with a non-zero `offset`",
                ));
            }
            if field != OrderField::CreatedAt {
                return Err(ParamError::value(
                    "starting_after",
                    "`starting_after` requires ordering by `created_at`",
                ));
            }
        }
        Ok(Self {
            filters,
            field,
            descending,
            limit,
            offset,
            starting_after,
        })
    }

    /// The page of users of `store` the query asks for.
    pub(crate) fn run<'a>(&self, store: &'a Store) -> Result<Vec<&'a SimUser>, ParamError> {
        let cursor = match &self.starting_after {
            Some(id) => Some(store.user(id).ok_or_else(|| {
                ParamError::value("starting_after", format!("no user has the id `{id}`"))
            })?),
            None => None,
        };
        let mut ordered: Vec<&SimUser> = store
            .users_newest_first()
            .filter(|user| self.filters.matches(user))
            .collect();
        match (self.field, self.descending) {
            (OrderField::CreatedAt, true) => {}
            (OrderField::CreatedAt, false) => ordered.reverse(),
            (OrderField::UpdatedAt, descending) => {
                ordered.sort_by(|a, b| {
                    let by_key = a
                        .updated_at
                        .cmp(&b.updated_at)
                        .then_with(|| a.id.cmp(&b.id));
                    if descending { by_key.reverse() } else { by_key }
                });
            }
        }
        let after_cursor = |user: &&SimUser| {
            cursor.is_none_or(|cursor| {
                let key = (user.created_at, user.id.as_str());
                let cursor_key = (cursor.created_at, cursor.id.as_str());
                if self.descending {
                    key < cursor_key
                } else {
                    key > cursor_key
                }
            })
        };
        Ok(ordered
            .into_iter()
            .filter(after_cursor)
            .skip(self.offset)
            .take(self.limit)
            .collect())
    }
}

/// Parses `[+|-]created_at` or `[+|-]updated_at` (`+` implied; an unencoded `+` is a space).
fn parse_order(order_by: &str) -> Result<(OrderField, bool), ParamError> {
    let (descending, name) = match order_by.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, order_by.strip_prefix(['+', ' ']).unwrap_or(order_by)),
    };
    let field = match name {
        "created_at" => OrderField::CreatedAt,
        "updated_at" => OrderField::UpdatedAt,
        _ => {
            return Err(ParamError::value(
                "order_by",
                format!(
                    "`order_by` must be one of created_at, updated_at with an optional +/- prefix, got `{order_by}`"
                ),
            ));
        }
    };
    Ok((field, descending))
}

#[cfg(test)]
mod tests {
    use super::{UserFilters, UserListQuery};
    use crate::query_params::QueryParams;
    use crate::seed::{SeedSpec, generate};
    use crate::store::Store;

    fn store() -> Store {
        Store::new(generate(&SeedSpec {
            users: 40,
            sessions: 10,
            organizations: 3,
            seed: 11,
            now_unix_ms: 1_750_000_000_000,
            max_session_lifetime_ms: 7 * 86_400_000,
        }))
    }

    fn run(store: &Store, query: &str) -> Vec<String> {
        UserListQuery::parse(&QueryParams::parse(Some(query)))
            .unwrap()
            .run(store)
            .unwrap()
            .into_iter()
            .map(|user| user.id.clone())
            .collect()
    }

    #[test]
    fn ascending_cursor_walk_sees_everyone_once() {
        let store = store();
        let mut seen = Vec::new();
        let mut query = "order_by=%2Bcreated_at&limit=7".to_owned();
        loop {
            let page = run(&store, &query);
            seen.extend(page.iter().cloned());
            if page.len() < 7 {
                break;
            }
            query = format!("order_by=+created_at&limit=7&starting_after={}", page[6]);
        }
        let mut expected = run(&store, "limit=500");
        expected.reverse();
        assert_eq!(seen, expected);
    }

    #[test]
    fn updated_at_ordering_sorts_and_rejects_cursors() {
        let store = store();
        let ids = run(&store, "order_by=-updated_at&limit=500");
        let stamps: Vec<i64> = ids
            .iter()
            .map(|id| store.user(id).unwrap().updated_at)
            .collect();
        assert!(stamps.windows(2).all(|w| w[0] >= w[1]));
        let params = QueryParams::parse(Some("order_by=updated_at&starting_after=user_x"));
        assert!(UserListQuery::parse(&params).is_err());
        let params = QueryParams::parse(Some("order_by=email_address"));
        assert!(UserListQuery::parse(&params).is_err());
    }

    #[test]
    fn id_filters_include_and_exclude() {
        let store = store();
        let all = run(&store, "limit=500");
        let query = format!(
            "user_id={}&user_id=%2B{}&user_id=-{}",
            all[0], all[1], all[1]
        );
        assert_eq!(run(&store, &query), vec![all[0].clone()]);
        let query = format!("user_id=-{}&limit=500", all[0]);
        assert_eq!(run(&store, &query).len(), all.len() - 1);
        let too_many: String = (0..101).map(|i| format!("user_id=u{i}&")).collect();
        assert!(UserFilters::parse(&QueryParams::parse(Some(&too_many))).is_err());
    }
}
