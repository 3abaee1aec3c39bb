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

    /// Every item of `list`, page after page, until `total_count` items (wrapped lists) or a
    /// short page (bare arrays), or `more(page)` saying the rest is not needed. A page that
    /// repeats earlier items (a server ignoring `offset`) is an error, not an endless walk.
    pub(crate) async fn list_objects(
        &self,
        list: &ListCall,
        mut more: impl FnMut(&[Value]) -> bool,
    ) -> Result<Vec<Value>, ApiError> {
        let mut items: Vec<Value> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
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
            // A server that ignores `offset` would hand out the same full page forever.
            let new = page
                .iter()
                .filter_map(|item| item.get("id").and_then(Value::as_str))
                .filter(|id| seen.insert((*id).to_owned()))
                .count();
            if fetched > 0 && new == 0 && !items.is_empty() {
                return Err(ApiError::Decode {
                    operation: list.operation,
                    status: 200,
                    detail: format!(
                        "the page at offset {} repeats earlier items: the list cannot be walked",
                        items.len()
                    ),
                });
            }
            let wanted = more(&page);
            items.extend(page);
            let Some(size) = list.page_size else {
                return Ok(items);
            };
            // A wrapped list says how many there are: trusted over a short page (a server
            // may cap `limit` below what was asked). A bare array ends on a short page.
            let done = match total {
                Some(total) => items.len() as u64 >= total || fetched == 0,
                None => fetched < size as usize,
            };
            if done || !wanted {
                return Ok(items);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use serde_json::{Value, json};

    use super::{ListCall, ListShape};
    use crate::api::{ClerkApi, SecretKey};
    use crate::http::HttpRequest;

    /// A client answering every request with `body`, counting them.
    fn api_answering(body: &Value, calls: Arc<AtomicUsize>) -> ClerkApi {
        let body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        let client = move |_request: HttpRequest| {
            calls.fetch_add(1, Ordering::Relaxed);
            std::future::ready(Ok(http::Response::builder()
                .status(200)
                .body(body.clone())
                .unwrap_or_default()))
        };
        ClerkApi::builder(SecretKey::new("sk_test_liststest0000000000000000000000"))
            .base_url("http://127.0.0.1:9")
            .without_rate_limit()
            .http_client(Arc::new(client))
            .build()
            .unwrap_or_else(|error| panic!("{error}"))
    }

    fn list(shape: ListShape) -> ListCall {
        ListCall {
            operation: "list things",
            path: "/v1/things".to_owned(),
            params: Vec::new(),
            shape,
            page_size: Some(2),
        }
    }

    #[tokio::test]
    async fn a_list_that_ignores_offset_is_refused_not_walked_forever() {
        let calls = Arc::new(AtomicUsize::new(0));
        let api = api_answering(&json!([{"id": "a"}, {"id": "b"}]), Arc::clone(&calls));
        let error = api
            .list_objects(&list(ListShape::Array), |_| true)
            .await
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("repeats earlier items"), "{error}");
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_capped_page_size_does_not_end_a_wrapped_list_early() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let client = move |request: HttpRequest| {
            // One item per page whatever `limit` asks, three in all.
            let offset: usize = request
                .uri()
                .query()
                .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("offset=")))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            counter.fetch_add(1, Ordering::Relaxed);
            let body = json!({"data": [{"id": format!("x_{offset}")}], "total_count": 3});
            std::future::ready(Ok(http::Response::builder()
                .status(200)
                .body(Bytes::from(serde_json::to_vec(&body).unwrap_or_default()))
                .unwrap_or_default()))
        };
        let api = ClerkApi::builder(SecretKey::new("sk_test_liststest0000000000000000000000"))
            .base_url("http://127.0.0.1:9")
            .without_rate_limit()
            .http_client(Arc::new(client))
            .build()
            .unwrap_or_else(|error| panic!("{error}"));
        let items = api
            .list_objects(&list(ListShape::Wrapped("data")), |_| true)
            .await
            .unwrap_or_default();
        assert_eq!(items.len(), 3);
        assert_eq!(calls.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn wrapped_lists_stop_at_their_total_and_a_wrong_shape_is_an_error() {
        let calls = Arc::new(AtomicUsize::new(0));
        let api = api_answering(
            &json!({"data": [{"id": "a"}, {"id": "b"}], "total_count": 2}),
            Arc::clone(&calls),
        );
        let items = api
            .list_objects(&list(ListShape::Wrapped("data")), |_| true)
            .await
            .unwrap_or_default();
        assert_eq!(items.len(), 2);
        assert_eq!(
            calls.load(Ordering::Relaxed),
            1,
            "total_count reached: no second page"
        );
        let wrong = api_answering(&json!({"items": []}), Arc::new(AtomicUsize::new(0)));
        assert!(
            wrong
                .list_objects(&list(ListShape::Wrapped("data")), |_| true)
                .await
                .is_err()
        );
    }
}
