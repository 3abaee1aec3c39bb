//! [`RejectReason`]: every way a session token can fail verification.

use std::fmt;

use serde::Serialize;

/// Why a request's session token was not accepted. Each maps to an HTTP status:
/// [`KeysUnavailable`](RejectReason::KeysUnavailable) is a 503 (our problem, not the
/// caller's), everything else a 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectReason {
    /// No token in the request.
    Missing,
    /// Not a JWT: wrong segment count, bad base64 or JSON, claims of the wrong type, a `crit`
    /// header (no extension is understood), an `Authorization` header that is not `Bearer` or
    /// not UTF-8.
    Malformed,
    /// A header `alg` other than `RS256` (including every casing of `none`).
    DisallowedAlgorithm,
    /// The header carries its own key or a key URL (`jwk`, `jku`, `x5u`, `x5c`); never trusted.
    EmbeddedKey,
    /// The signature does not verify with the key the `kid` names.
    BadSignature,
    /// No key with the token's `kid`, even after a refresh.
    UnknownKey,
    /// Past `exp` plus the leeway.
    Expired,
    /// Before `nbf` minus the leeway.
    NotYetValid,
    /// `iat` is in the future beyond the leeway.
    IssuedInFuture,
    /// `iss` is not one of the configured issuers.
    WrongIssuer,
    /// An allow-list of authorized parties is configured and the token has no `azp`.
    MissingAuthorizedParty,
    /// `azp` is not in the allow-list.
    WrongAuthorizedParty,
    /// The header's `cat` names another token category (a machine token, say).
    WrongCategory,
    /// `sts` is `pending` and pending sessions are rejected.
    Pending,
    /// Longer than the configured maximum.
    TooLarge,
    /// No verification key is available (never fetched, or too stale).
    KeysUnavailable,
    /// Two `Authorization` headers, or two `__session` cookies: which token counts cannot be
    /// told.
    Ambiguous,
    /// The session was revoked during the incident ([`SessionDenylist`](super::SessionDenylist)):
    /// its token verifies, but is refused in every mode.
    Revoked,
}

impl RejectReason {
    /// Every reason, in declaration order.
    pub const ALL: [RejectReason; 18] = [
        RejectReason::Missing,
        RejectReason::Malformed,
        RejectReason::DisallowedAlgorithm,
        RejectReason::EmbeddedKey,
        RejectReason::BadSignature,
        RejectReason::UnknownKey,
        RejectReason::Expired,
        RejectReason::NotYetValid,
        RejectReason::IssuedInFuture,
        RejectReason::WrongIssuer,
        RejectReason::MissingAuthorizedParty,
        RejectReason::WrongAuthorizedParty,
        RejectReason::WrongCategory,
        RejectReason::Pending,
        RejectReason::TooLarge,
        RejectReason::KeysUnavailable,
        RejectReason::Ambiguous,
        RejectReason::Revoked,
    ];

    /// The snake_case name used in logs, metrics and health output.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Missing => "missing",
            RejectReason::Malformed => "malformed",
            RejectReason::DisallowedAlgorithm => "disallowed_algorithm",
            RejectReason::EmbeddedKey => "embedded_key",
            RejectReason::BadSignature => "bad_signature",
            RejectReason::UnknownKey => "unknown_key",
            RejectReason::Expired => "expired",
            RejectReason::NotYetValid => "not_yet_valid",
            RejectReason::IssuedInFuture => "issued_in_future",
            RejectReason::WrongIssuer => "wrong_issuer",
            RejectReason::MissingAuthorizedParty => "missing_authorized_party",
            RejectReason::WrongAuthorizedParty => "wrong_authorized_party",
            RejectReason::WrongCategory => "wrong_category",
            RejectReason::Pending => "pending",
            RejectReason::TooLarge => "too_large",
            RejectReason::KeysUnavailable => "keys_unavailable",
            RejectReason::Ambiguous => "ambiguous_credentials",
            RejectReason::Revoked => "session_revoked",
        }
    }

    /// The HTTP status a request rejected for this reason gets: 503 for
    /// [`KeysUnavailable`](RejectReason::KeysUnavailable), 401 otherwise.
    pub fn status(self) -> u16 {
        match self {
            RejectReason::KeysUnavailable => 503,
            _ => 401,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for RejectReason {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_complete_and_indexed_in_order() {
        for (i, reason) in RejectReason::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
        assert_eq!(RejectReason::KeysUnavailable.status(), 503);
        assert_eq!(RejectReason::Expired.status(), 401);
    }
}
