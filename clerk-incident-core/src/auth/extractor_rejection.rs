//! [`ExtractorRejection`]: why a handler's auth extractor refused a request, written once for
//! both adapters, whose `AuthRejection` newtypes add only the response.

use std::fmt;

use super::policy::Rejection;
use super::reject::RejectReason;

/// Why an auth extractor refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthRejectionKind {
    /// No [`AuthContext`](super::AuthContext) on the request: the route is not behind the
    /// adapter's auth middleware.
    NoContext,
    /// The context has no fully verified session (none, degraded, or bypassed).
    NotVerified,
    /// A [`Rejection`] of the handler's own, converted with `From<Rejection>`.
    Refused,
}

/// The refusal of an auth extractor: its [kind](AuthRejectionKind) and the [`Rejection`] to
/// answer with.
///
/// ```
/// use clerk_incident_core::auth::{AuthRejectionKind, ExtractorRejection, Rejection};
///
/// let refused = ExtractorRejection::unauthenticated(AuthRejectionKind::NoContext);
/// assert_eq!(refused.rejection().status(), 401);
/// assert_eq!(refused.to_string(), "no auth context on the request (401 missing)");
///
/// let own = ExtractorRejection::from(Rejection::Forbidden);
/// assert_eq!(own.kind(), AuthRejectionKind::Refused);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtractorRejection {
    kind: AuthRejectionKind,
    rejection: Rejection,
}

impl ExtractorRejection {
    /// A 401 with reason `missing`: what an extractor fails with when there is no usable
    /// identity.
    pub fn unauthenticated(kind: AuthRejectionKind) -> Self {
        Self {
            kind,
            rejection: Rejection::Unauthenticated(RejectReason::Missing),
        }
    }

    /// Why the request was refused.
    pub fn kind(&self) -> AuthRejectionKind {
        self.kind
    }

    /// The rejection to answer with: status, challenge and reason.
    pub fn rejection(&self) -> Rejection {
        self.rejection
    }
}

impl From<Rejection> for ExtractorRejection {
    /// A refusal of the handler's own, such as [`authorize`](super::authorize)'s.
    fn from(rejection: Rejection) -> Self {
        Self {
            kind: AuthRejectionKind::Refused,
            rejection,
        }
    }
}

impl fmt::Display for ExtractorRejection {
    /// `no fully verified session (401 missing)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            AuthRejectionKind::NoContext => "no auth context on the request",
            AuthRejectionKind::NotVerified => "no fully verified session",
            AuthRejectionKind::Refused => "request refused",
        };
        write!(
            f,
            "{what} ({} {})",
            self.rejection.status(),
            self.rejection.reason()
        )
    }
}

impl std::error::Error for ExtractorRejection {}
