//! [`AuditedChange`]: one finding of a key-compromise audit, as the incident log keeps it.

use serde::{Deserialize, Serialize};

/// Something a leaked key created or changed, as `clerk-incident audit --incident FILE`
/// records it (see [`audit`](crate::audit)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditedChange {
    /// `object.change`, such as `user.created` or `session.impersonated`.
    pub kind: String,
    /// The object's id.
    pub id: String,
    /// When, RFC 3339, when the Backend API tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What it is.
    pub what: String,
    /// What undoes it.
    pub undo: String,
}

impl AuditedChange {
    /// A change of `kind` to object `id`.
    pub fn new(
        kind: impl Into<String>,
        id: impl Into<String>,
        what: impl Into<String>,
        undo: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
            at: None,
            what: what.into(),
            undo: undo.into(),
        }
    }

    /// The same change, at `at` (RFC 3339).
    pub fn at(mut self, at: impl Into<String>) -> Self {
        self.at = Some(at.into());
        self
    }
}
