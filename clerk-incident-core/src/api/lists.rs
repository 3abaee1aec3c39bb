//! The Backend API's `limit`/`offset` lists, walked page by page as Clerk's raw JSON objects:
//! what the key-compromise audit reads, where each kind of object has its own shape and the
//! audit needs every member (timestamps, roles, metadata) of whatever kind.

use serde_json::Value;

use super::client::{Call, ClerkApi};
use super::error::ApiError;

/// How a list answers, as the spec gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListShape {
    /// A bare JSON array.
    Array,
    /// `{"<key>": [...], "total_count": N}`.
    Wrapped(&'static str),
}

/// One list to walk.
#[derive(Clone, Debug)]
pub(crate) struct ListCall {
    pub(crate) operation: &'static str,
    pub(crate) path: String,
    pub(crate) params: Vec<(&'static str, String)>,
    pub(crate) shape: ListShape,
    /// Items per page; `None` for lists the spec gives no paging (one request).
    pub(crate) page_size: Option<u32>,
}

impl ClerkApi {
    /// One object at `path`, as Clerk's raw JSON.
    pub(crate) async fn get_object(
        &self,
        operation: &'static str,
        path: String,
    ) -> Result<Value, ApiError> {
        self.json(&Call::get(operation, path)).await
    }

    /// Every item of `list`, page after page, until a short or empty page, `total_count`
    /// items, or `more(page)` saying the rest is not needed (for lists ordered newest first,
    /// once a page reaches past the window).
    pub(crate) async fn list_objects(
        &self,
        list: &ListCall,
        mut more: impl FnMut(&[Value]) -> bool,
    ) -> Result<Vec<Value>, ApiError> {
        let mut items: Vec<Value> = Vec::new();
        loop {
            let mut params = list.params.clone();
            if let Some(size) = list.page_size {
                params.push(("limit", size.to_string()));
                params.push(("offset", items.len().to_string()));
            }
            let call = Call::get(list.operation, list.path.clone()).query(params);
            let body: Value = self.json(&call).await?;
            let (page, total) = match list.shape {
                ListShape::Array => (body, None),
                ListShape::Wrapped(key) => {
                    let total = body.get("total_count").and_then(Value::as_u64);
                    (body.get(key).cloned().unwrap_or(Value::Null), total)
                }
            };
            let Value::Array(page) = page else {
                return Err(ApiError::Decode {
                    operation: list.operation,
                    status: 200,
                    detail: "the list is not a JSON array".to_owned(),
                });
            };
            let fetched = page.len();
            let wanted = more(&page);
            items.extend(page);
            let Some(size) = list.page_size else {
                return Ok(items);
            };
            let short = fetched < size as usize;
            let complete = total.is_some_and(|total| items.len() as u64 >= total);
            if short || complete || !wanted {
                return Ok(items);
            }
        }
    }
}
