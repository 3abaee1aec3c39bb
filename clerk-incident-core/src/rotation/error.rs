//! [`RotationError`]: why a rotation check could not pass.

use crate::api::{ApiError, EnvironmentType, KeyKind};

/// Why a rotation check failed or could not be made.
///
/// Messages name instance ids, environments and key kinds (`live`, `test`), never a key; they
/// never repeat their source (walk [`std::error::Error::source`] for it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotationError {
    /// Clerk rejected the new key (401): it was mistyped, deleted, or belongs nowhere.
    #[error(
        "Clerk rejected the new secret key (HTTP 401): check it was copied whole from the Dashboard of the right instance"
    )]
    NewKeyRejected(#[source] ApiError),
    /// The new key could not be checked: Clerk could not be reached, or answered an error other
    /// than 401.
    #[error("could not check the new secret key")]
    NewKeyUnchecked(#[source] ApiError),
    /// Clerk rejected the old key (401), so the new key's instance cannot be compared with it.
    #[error(
        "Clerk rejected the old secret key (HTTP 401), so the instances cannot be compared: run verify-new before deleting the old key"
    )]
    OldKeyRejected(#[source] ApiError),
    /// The old key could not be checked: Clerk could not be reached, or answered an error other
    /// than 401.
    #[error("could not check the old secret key")]
    OldKeyUnchecked(#[source] ApiError),
    /// The two keys belong to different instances, or to different environments.
    #[error(
        "the new secret key belongs to instance {new_instance} ({new_environment}), but the old key belongs to instance {old_instance} ({old_environment}): copy the new key from the Dashboard of {old_instance}"
    )]
    InstanceMismatch {
        /// The old key's instance id.
        old_instance: String,
        /// The old key's environment.
        old_environment: EnvironmentType,
        /// The new key's instance id.
        new_instance: String,
        /// The new key's environment.
        new_environment: EnvironmentType,
    },
    /// The new key's prefix names another environment than its instance's, such as a
    /// development (`sk_test_`) key for a production instance.
    #[error(
        "the new secret key is a {key_kind} key (sk_{key_kind}_…), but instance {instance} is a {environment} instance: a {expected} key is needed"
    )]
    KeyKindMismatch {
        /// The new key's kind, from its prefix.
        key_kind: KeyKind,
        /// The kind the instance needs.
        expected: KeyKind,
        /// The instance id.
        instance: String,
        /// The instance's environment.
        environment: EnvironmentType,
    },
    /// The client was configured wrongly; nothing was sent.
    #[error("the rotation check could not be made")]
    Config(#[source] ApiError),
}
