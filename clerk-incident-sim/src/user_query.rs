//! `GET /v1/users` and `GET /v1/users/count`: filters, ordering and pagination.

use std::cmp::Ordering;
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

/// An exact-match filter over a repeatable parameter (`email_address=a&email_address=b`),
/// case-insensitive as Clerk compares identifiers.
#[derive(Clone, Debug, Default)]
struct ValueFilter {
    values: Option<HashSet<String>>,
}

impl ValueFilter {
    fn parse(params: &QueryParams, name: &'static str) -> Result<Self, ParamError> {
        let values: HashSet<String> = params.all(name).map(str::to_lowercase).collect();
        if values.len() > MAX_FILTER_IDS {
            return Err(ParamError::value(
                name,
                format!("`{name}` accepts at most {MAX_FILTER_IDS} values"),
            ));
        }
        Ok(Self {
            values: (!values.is_empty()).then_some(values),
        })
    }

    fn matches(&self, value: Option<&str>) -> bool {
        self.values
            .as_ref()
            .is_none_or(|values| value.is_some_and(|value| values.contains(&value.to_lowercase())))
    }
}

/// A partial, case-insensitive match (`query`, `name_query`, ...).
fn contains(haystack: Option<&str>, needle: &str) -> bool {
    haystack.is_some_and(|haystack| haystack.to_lowercase().contains(needle))
}

/// The filters shared by the list and the count: every filter of the spec's `GetUserList`.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserFilters {
    user_ids: IdFilter,
    organization_ids: IdFilter,
    external_ids: IdFilter,
    email_addresses: ValueFilter,
    phone_numbers: ValueFilter,
    usernames: ValueFilter,
    web3_wallets: ValueFilter,
    provider_user_ids: ValueFilter,
    query: Option<String>,
    email_address_query: Option<String>,
    phone_number_query: Option<String>,
    username_query: Option<String>,
    name_query: Option<String>,
    banned: Option<bool>,
    created_at_after: Option<i64>,
    created_at_before: Option<i64>,
    last_active_at_after: Option<i64>,
    last_active_at_before: Option<i64>,
    last_sign_in_at_after: Option<i64>,
    last_sign_in_at_before: Option<i64>,
}

impl UserFilters {
    /// Reads `user_id`, `organization_id` and `external_id` (with `+`/`-`), `email_address`,
    /// `phone_number`, `username`, `web3_wallet`, `provider_user_id` (exact, up to 100 each),
    /// `query` and the `*_query` partial matches, `banned`, and the `created_at`,
    /// `last_active_at` and `last_sign_in_at` bounds (`last_active_at_since` is the
    /// deprecated spelling of `last_active_at_after`).
    ///
    /// The sim's users have no web3 wallets and no external accounts, so a `web3_wallet` or
    /// `provider_user_id` filter matches nobody.
    pub(crate) fn parse(params: &QueryParams) -> Result<Self, ParamError> {
        let last_active_at_after = match params.integer("last_active_at_after")? {
            Some(after) => Some(after),
            None => params.integer("last_active_at_since")?,
        };
        let partial = |name: &str| params.non_empty(name).map(str::to_lowercase);
        Ok(Self {
            user_ids: IdFilter::parse(params, "user_id")?,
            organization_ids: IdFilter::parse(params, "organization_id")?,
            external_ids: IdFilter::parse(params, "external_id")?,
            email_addresses: ValueFilter::parse(params, "email_address")?,
            phone_numbers: ValueFilter::parse(params, "phone_number")?,
            usernames: ValueFilter::parse(params, "username")?,
            web3_wallets: ValueFilter::parse(params, "web3_wallet")?,
            provider_user_ids: ValueFilter::parse(params, "provider_user_id")?,
            query: partial("query"),
            email_address_query: partial("email_address_query"),
            phone_number_query: partial("phone_number_query"),
            username_query: partial("username_query"),
            name_query: partial("name_query"),
            banned: params.boolean("banned")?,
            created_at_after: params.integer("created_at_after")?,
            created_at_before: params.integer("created_at_before")?,
            last_active_at_after,
            last_active_at_before: params.integer("last_active_at_before")?,
            last_sign_in_at_after: params.integer("last_sign_in_at_after")?,
            last_sign_in_at_before: params.integer("last_sign_in_at_before")?,
        })
    }

    /// Whether `user` passes every filter (`after` bounds are inclusive, `before` exclusive).
    pub(crate) fn matches(&self, user: &SimUser) -> bool {
        let after = |bound: Option<i64>, value: i64| bound.is_none_or(|bound| value >= bound);
        let before = |bound: Option<i64>, value: i64| bound.is_none_or(|bound| value < bound);
        let full_name = format!("{} {}", user.first_name, user.last_name);
        let query_matches = self.query.as_deref().is_none_or(|query| {
            [
                Some(user.id.as_str()),
                Some(user.email_address.as_str()),
                user.phone_number.as_deref(),
                user.username.as_deref(),
                user.external_id.as_deref(),
                Some(full_name.as_str()),
            ]
            .into_iter()
            .any(|field| contains(field, query))
        });
        let partial = |needle: &Option<String>, field: Option<&str>| {
            needle
                .as_deref()
                .is_none_or(|needle| contains(field, needle))
        };
        self.user_ids.matches(Some(&user.id))
            && self.organization_ids.matches(
                user.membership
                    .as_ref()
                    .map(|membership| membership.organization_id.as_str()),
            )
            && self.external_ids.matches(user.external_id.as_deref())
            && self.email_addresses.matches(Some(&user.email_address))
            && self.phone_numbers.matches(user.phone_number.as_deref())
            && self.usernames.matches(user.username.as_deref())
            && self.web3_wallets.matches(None)
            && self.provider_user_ids.matches(None)
            && query_matches
            && partial(&self.email_address_query, Some(&user.email_address))
            && partial(&self.phone_number_query, user.phone_number.as_deref())
            && partial(&self.username_query, user.username.as_deref())
            && partial(&self.name_query, Some(&full_name))
            && self.banned.is_none_or(|banned| user.banned == banned)
            && after(self.created_at_after, user.created_at)
            && before(self.created_at_before, user.created_at)
            && after(self.last_active_at_after, user.last_active_at)
            && before(self.last_active_at_before, user.last_active_at)
            && after(self.last_sign_in_at_after, user.last_sign_in_at)
            && before(self.last_sign_in_at_before, user.last_sign_in_at)
    }

    /// Number of users of `store` that pass.
    pub(crate) fn count(&self, store: &Store) -> usize {
        store
            .users_newest_first()
            .filter(|user| self.matches(user))
            .count()
    }
}

/// The `order_by` field: every value the spec lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrderField {
    CreatedAt,
    UpdatedAt,
    EmailAddress,
    Web3Wallet,
    FirstName,
    LastName,
    PhoneNumber,
    Username,
    LastActiveAt,
    LastSignInAt,
}

impl OrderField {
    const ALL: [(&'static str, Self); 10] = [
        ("created_at", Self::CreatedAt),
        ("updated_at", Self::UpdatedAt),
        ("email_address", Self::EmailAddress),
        ("web3wallet", Self::Web3Wallet),
        ("first_name", Self::FirstName),
        ("last_name", Self::LastName),
        ("phone_number", Self::PhoneNumber),
        ("username", Self::Username),
        ("last_active_at", Self::LastActiveAt),
        ("last_sign_in_at", Self::LastSignInAt),
    ];

    /// Compares two users on this field; users without a value come last either way, and
    /// ties fall back to the id so that offset pages neither skip nor repeat.
    fn compare(self, a: &SimUser, b: &SimUser, descending: bool) -> Ordering {
        let text = |user: &SimUser| -> Option<String> {
            match self {
                Self::EmailAddress => Some(user.email_address.to_lowercase()),
                Self::FirstName => Some(user.first_name.to_lowercase()),
                Self::LastName => Some(user.last_name.to_lowercase()),
                Self::PhoneNumber => user.phone_number.clone(),
                Self::Username => user.username.as_deref().map(str::to_lowercase),
                _ => None,
            }
        };
        let number = |user: &SimUser| -> Option<i64> {
            match self {
                Self::CreatedAt => Some(user.created_at),
                Self::UpdatedAt => Some(user.updated_at),
                Self::LastActiveAt => Some(user.last_active_at),
                Self::LastSignInAt => Some(user.last_sign_in_at),
                _ => None,
            }
        };
        let ordered = |order: Ordering| if descending { order.reverse() } else { order };
        let by_value = match (self, text(a), text(b)) {
            (Self::EmailAddress | Self::FirstName | Self::LastName, Some(a), Some(b)) => {
                ordered(a.cmp(&b))
            }
            (Self::PhoneNumber | Self::Username, a, b) => match (a, b) {
                (Some(a), Some(b)) => ordered(a.cmp(&b)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            (Self::Web3Wallet, _, _) => Ordering::Equal,
            _ => ordered(number(a).cmp(&number(b))),
        };
        by_value.then_with(|| ordered(a.id.cmp(&b.id)))
    }
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
            (field, descending) => ordered.sort_by(|a, b| field.compare(a, b, descending)),
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

/// Parses `[+|-]<field>` for every field of [`OrderField`] (`+` implied; an unencoded `+` is
/// a space).
fn parse_order(order_by: &str) -> Result<(OrderField, bool), ParamError> {
    let (descending, name) = match order_by.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, order_by.strip_prefix(['+', ' ']).unwrap_or(order_by)),
    };
    let field = OrderField::ALL
        .iter()
        .find(|(spelling, _)| *spelling == name)
        .map(|&(_, field)| field)
        .ok_or_else(|| {
            let names: Vec<&str> = OrderField::ALL.iter().map(|(name, _)| *name).collect();
            ParamError::value(
                "order_by",
                format!(
                    "`order_by` must be one of {} with an optional +/- prefix, got `{order_by}`",
                    names.join(", ")
                ),
            )
        })?;
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
        let params = QueryParams::parse(Some("order_by=email"));
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
