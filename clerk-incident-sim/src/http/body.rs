//! JSON request bodies of the Backend API's writes, read as Clerk reads them: an object whose
//! members must be among the spec's (its schemas forbid additional properties), each checked
//! for its type.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde_json::{Map, Value};

use super::error::ApiError;

/// A request body's members.
#[derive(Debug, Default)]
pub(crate) struct Body {
    members: Map<String, Value>,
}

impl Body {
    /// Parses `body` (empty counts as `{}`) and rejects members outside `allowed` with 422.
    pub(crate) fn parse(
        body: Result<Bytes, BytesRejection>,
        allowed: &[&str],
    ) -> Result<Self, ApiError> {
        let body = body.map_err(|rejection| ApiError::invalid_body(rejection.body_text()))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let members = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(members)) => members,
            Ok(_) => return Err(ApiError::invalid_body("the body must be a JSON object")),
            Err(error) => return Err(ApiError::invalid_body(format!("invalid JSON: {error}"))),
        };
        if let Some(unknown) = members.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(ApiError::unknown_param(unknown));
        }
        Ok(Self { members })
    }

    /// A present, non-null member.
    fn get(&self, name: &str) -> Option<&Value> {
        self.members.get(name).filter(|value| !value.is_null())
    }

    /// Whether the member is present (even as `null`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    /// A string member.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(ApiError::bad_param(name, "must be a string")),
        }
    }

    /// A string member that must be there and not empty.
    pub(crate) fn required_string(&self, name: &str) -> Result<String, ApiError> {
        self.string(name)?
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| ApiError::missing_param(name))
    }

    /// An array-of-strings member.
    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(values)) => values
                .iter()
                .map(|value| {
                    value
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::bad_param(name, "must be an array of strings"))
                })
                .collect(),
            Some(_) => Err(ApiError::bad_param(name, "must be an array of strings")),
        }
    }

    /// An object member.
    pub(crate) fn object(&self, name: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(value)) => Ok(Some(value.clone())),
            Some(_) => Err(ApiError::bad_param(name, "must be an object")),
        }
    }

    /// A boolean member.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(value)) => Ok(Some(*value)),
            Some(_) => Err(ApiError::bad_param(name, "must be a boolean")),
        }
    }

    /// An integer member within `min..=max`.
    pub(crate) fn integer(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .filter(|value| (min..=max).contains(value))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_param(name, &format!("must be an integer in {min}..={max}"))
                }),
        }
    }

    /// Any member, as sent.
    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}
