//! `limit`/`offset` pages of the Backend API's lists, and their two shapes: a bare array, or
//! `{"data": [...], "total_count": N}`.

use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::error::ApiError;
use super::json;
use crate::query_params::{ParamError, QueryParams};

/// Default page size of Clerk's lists.
const DEFAULT_LIMIT: usize = 10;
/// Largest page size of most lists.
pub(crate) const MAX_LIMIT: usize = 500;

/// A page request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PageRequest {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

impl PageRequest {
    /// Reads `limit` (1..=`max_limit`, default 10) and `offset`.
    pub(crate) fn parse(params: &QueryParams, max_limit: usize) -> Result<Self, ParamError> {
        Ok(Self {
            limit: params.integer_in("limit", DEFAULT_LIMIT, 1, max_limit)?,
            offset: params.integer_in("offset", 0, 0, usize::MAX)?,
        })
    }

    /// The page of `items` and how many there are in all.
    pub(crate) fn take<T>(self, items: Vec<T>) -> (Vec<T>, usize) {
        let total = items.len();
        let page = items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        (page, total)
    }
}

/// `{"<key>": page, "total_count": total}`.
pub(crate) fn wrapped<T: Serialize>(key: &str, page: &[T], total: usize) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), json!(page));
    body.insert("total_count".to_owned(), json!(total));
    json::ok(&body)
}

/// A page in its wrapper, or the parameter error that prevented it.
pub(crate) fn answer<T: Serialize>(
    key: &str,
    result: Result<(Vec<T>, usize), ParamError>,
) -> Response {
    match result {
        Ok((page, total)) => wrapped(key, &page, total),
        Err(error) => ApiError::from(error).into_response(),
    }
}
