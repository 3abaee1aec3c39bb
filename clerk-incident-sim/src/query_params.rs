//! Query strings as Clerk reads them: repeatable parameters (`user_id=a&user_id=b`), the first
//! value winning for single-valued ones.

/// Why a parameter was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamErrorKind {
    /// A required parameter is absent (Clerk code `form_param_missing`).
    Missing,
    /// The value does not parse (`form_param_format_invalid`).
    Format,
    /// The value parses but is not allowed (`form_param_value_invalid`).
    Value,
}

/// A rejected query parameter; answered 422 with Clerk's error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParamError {
    /// The parameter's name.
    pub(crate) param: &'static str,
    /// What is wrong.
    pub(crate) kind: ParamErrorKind,
    /// A sentence for `long_message`.
    pub(crate) detail: String,
}

impl ParamError {
    /// A missing required parameter.
    pub(crate) fn missing(param: &'static str, detail: impl Into<String>) -> Self {
        Self {
            param,
            kind: ParamErrorKind::Missing,
            detail: detail.into(),
        }
    }

    /// A value that does not parse.
    pub(crate) fn format(param: &'static str, detail: impl Into<String>) -> Self {
        Self {
            param,
            kind: ParamErrorKind::Format,
            detail: detail.into(),
        }
    }

    /// A value that is not allowed.
    pub(crate) fn value(param: &'static str, detail: impl Into<String>) -> Self {
        Self {
            param,
            kind: ParamErrorKind::Value,
            detail: detail.into(),
        }
    }
}

/// Decoded `name=value` pairs of a query string, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes a raw query string (`application/x-www-form-urlencoded`, so `+` is a space).
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Self {
            pairs: raw
                .map(|raw| {
                    form_urlencoded::parse(raw.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The first value of `name`.
    pub(crate) fn first<'a>(&'a self, name: &str) -> Option<&'a str> {
        self.all(name).next()
    }

    /// Every value of `name`, in order.
    pub(crate) fn all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name` as an integer.
    pub(crate) fn integer(&self, name: &'static str) -> Result<Option<i64>, ParamError> {
        self.first(name)
            .map(|value| {
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ParamError::format(name, format!("`{name}` must be an integer")))
            })
            .transpose()
    }

    /// The first value of `name` as an integer in `min..=max`, or `default` when absent.
    pub(crate) fn integer_in(
        &self,
        name: &'static str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize, ParamError> {
        let Some(value) = self.integer(name)? else {
            return Ok(default);
        };
        usize::try_from(value)
            .ok()
            .filter(|value| (min..=max).contains(value))
            .ok_or_else(|| {
                ParamError::value(
                    name,
                    format!("`{name}` must be between {min} and {max}, got {value}"),
                )
            })
    }

    /// The first value of `name` as a boolean (`true`/`false`).
    pub(crate) fn boolean(&self, name: &'static str) -> Result<Option<bool>, ParamError> {
        self.first(name)
            .map(|value| match value.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ParamError::format(
                    name,
                    format!("`{name}` must be `true` or `false`"),
                )),
            })
            .transpose()
    }

    /// The first non-empty value of `name`.
    pub(crate) fn non_empty<'a>(&'a self, name: &str) -> Option<&'a str> {
        self.first(name).filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::{ParamErrorKind, QueryParams};

    #[test]
    fn repeated_parameters_are_kept_in_order() {
        let params = QueryParams::parse(Some("user_id=a&user_id=-b&limit=5&user_id=%2Bc"));
        assert_eq!(params.all("user_id").collect::<Vec<_>>(), ["a", "-b", "+c"]);
        assert_eq!(params.integer_in("limit", 10, 1, 500), Ok(5));
        assert_eq!(params.integer_in("offset", 0, 0, usize::MAX), Ok(0));
    }

    #[test]
    fn bad_values_are_reported_not_panicked_on() {
        let params = QueryParams::parse(Some(
            "limit=0&offset=x&paginated=yes&n=99999999999999999999",
        ));
        assert_eq!(
            params.integer_in("limit", 10, 1, 500).unwrap_err().kind,
            ParamErrorKind::Value
        );
        assert_eq!(
            params.integer_in("offset", 0, 0, 5).unwrap_err().kind,
            ParamErrorKind::Format
        );
        assert!(params.boolean("paginated").is_err());
        assert!(params.integer("n").is_err());
        assert!(QueryParams::parse(Some("%FF=%FE&&=")).first("x").is_none());
    }
}
