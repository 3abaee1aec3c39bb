//! [`verify_new`] and [`verify_old_revoked`]: the two checks `GET /v1/instance` answers.

use std::time::Duration;

use serde::Serialize;

use super::error::RotationError;
use crate::api::{ApiError, ClerkApi, EnvironmentType, Instance, KeyKind, RetryPolicy};
use crate::error_chain::error_chain;

/// A short retry policy for rotation checks (2 attempts, waits under a second), so that a
/// check answers within seconds during an incident.
pub fn rotation_retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(1),
        max_elapsed: Duration::from_secs(5),
    }
}

/// What [`verify_new`] proved: the new key works on the old key's instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewKeyCheck {
    /// The instance both keys belong to, `ins_…`.
    pub instance_id: String,
    /// The instance's environment.
    pub environment_type: EnvironmentType,
    /// The new key's kind from its prefix: `live`, `test` or `unknown`.
    pub new_key_kind: String,
    /// The old key's kind from its prefix.
    pub old_key_kind: String,
}

/// Checks that the key of `new` works and belongs to the same instance, in the same
/// environment, as the key of `old`, and that its prefix fits the environment (a `sk_test_`
/// key for a production instance is refused).
///
/// # Errors
///
/// [`RotationError::NewKeyRejected`] when Clerk answers the new key with 401,
/// [`RotationError::InstanceMismatch`] or [`RotationError::KeyKindMismatch`] when the keys do
/// not match, and the other variants when a key could not be checked.
pub async fn verify_new(old: &ClerkApi, new: &ClerkApi) -> Result<NewKeyCheck, RotationError> {
    let new_instance = new.instance().await.map_err(|err| match err {
        ApiError::Config(_) => RotationError::Config(err),
        err if err.is_unauthorized() => RotationError::NewKeyRejected(err),
        err => RotationError::NewKeyUnchecked(err),
    })?;
    let old_instance = old.instance().await.map_err(|err| match err {
        ApiError::Config(_) => RotationError::Config(err),
        err if err.is_unauthorized() => RotationError::OldKeyRejected(err),
        err => RotationError::OldKeyUnchecked(err),
    })?;
    compare(&old_instance, &new_instance, new.key_kind())?;
    Ok(NewKeyCheck {
        instance_id: new_instance.id,
        environment_type: new_instance.environment_type,
        new_key_kind: new.key_kind().to_string(),
        old_key_kind: old.key_kind().to_string(),
    })
}

/// The instance and kind checks of [`verify_new`].
fn compare(old: &Instance, new: &Instance, new_kind: KeyKind) -> Result<(), RotationError> {
    if old.id != new.id || old.environment_type != new.environment_type {
        return Err(RotationError::InstanceMismatch {
            old_instance: old.id.clone(),
            old_environment: old.environment_type.clone(),
            new_instance: new.id.clone(),
            new_environment: new.environment_type.clone(),
        });
    }
    let expected = match new.environment_type {
        EnvironmentType::Production => Some(KeyKind::Live),
        EnvironmentType::Development => Some(KeyKind::Test),
        _ => None,
    };
    match expected {
        Some(expected) if new_kind != KeyKind::Unknown && new_kind != expected => {
            Err(RotationError::KeyKindMismatch {
                key_kind: new_kind,
                expected,
                instance: new.id.clone(),
                environment: new.environment_type.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// What Clerk said about the old key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OldKeyStatus {
    /// Clerk still accepts the old key (200): it has not been deleted yet.
    StillValid,
    /// Clerk rejects the old key (401): the rotation is done.
    Rejected,
    /// No answer that decides: Clerk could not be reached, or answered 5xx or another error.
    Unknown,
}

/// What [`verify_old_revoked`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OldKeyCheck {
    /// Still valid, rejected, or unknown.
    pub status: OldKeyStatus,
    /// The HTTP status Clerk answered with, when it answered.
    pub http_status: Option<u16>,
    /// The instance the old key still opens, when it is still valid.
    pub instance_id: Option<String>,
    /// A one-line explanation, without any key.
    pub detail: String,
}

impl OldKeyCheck {
    /// True when Clerk rejects the old key: the check passed.
    pub fn passed(&self) -> bool {
        self.status == OldKeyStatus::Rejected
    }
}

/// Checks whether Clerk still accepts the key of `old` (`GET /v1/instance`).
///
/// A 401 is the success this check looks for ([`OldKeyStatus::Rejected`]); a 200 means the old
/// key still works ([`OldKeyStatus::StillValid`]); transport failures, 5xx, 429 and other
/// answers are [`OldKeyStatus::Unknown`].
///
/// # Errors
///
/// [`RotationError::Config`] when nothing could be sent.
pub async fn verify_old_revoked(old: &ClerkApi) -> Result<OldKeyCheck, RotationError> {
    match old.instance().await {
        Ok(instance) => Ok(OldKeyCheck {
            status: OldKeyStatus::StillValid,
            http_status: Some(200),
            detail: format!(
                "Clerk still accepts the old secret key on instance {} ({}): delete it in the Dashboard (API keys)",
                instance.id, instance.environment_type
            ),
            instance_id: Some(instance.id),
        }),
        Err(err @ ApiError::Config(_)) => Err(RotationError::Config(err)),
        Err(err) if err.is_unauthorized() => Ok(OldKeyCheck {
            status: OldKeyStatus::Rejected,
            http_status: Some(401),
            instance_id: None,
            detail: "Clerk rejects the old secret key (HTTP 401)".to_owned(),
        }),
        Err(err) => Ok(OldKeyCheck {
            status: OldKeyStatus::Unknown,
            http_status: err.status(),
            instance_id: None,
            detail: format!("unknown: {}", error_chain(&err)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, environment: &str) -> Instance {
        serde_json::from_value(serde_json::json!({
            "object": "instance", "id": id, "environment_type": environment
        }))
        .unwrap()
    }

    #[test]
    fn kinds_must_fit_the_environment() {
        let prod = instance("ins_a", "production");
        let dev = instance("ins_a", "development");
        assert!(compare(&prod, &prod, KeyKind::Live).is_ok());
        assert!(compare(&dev, &dev, KeyKind::Test).is_ok());
        assert!(matches!(
            compare(&prod, &prod, KeyKind::Test),
            Err(RotationError::KeyKindMismatch { .. })
        ));
        assert!(matches!(
            compare(&dev, &dev, KeyKind::Live),
            Err(RotationError::KeyKindMismatch { .. })
        ));
        let staging = instance("ins_a", "staging");
        assert!(compare(&staging, &staging, KeyKind::Test).is_ok());
    }

    #[test]
    fn mismatches_name_both_instances() {
        let err = compare(
            &instance("ins_old", "production"),
            &instance("ins_new", "development"),
            KeyKind::Test,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ins_old (production)"), "{err}");
        assert!(err.contains("ins_new (development)"), "{err}");
    }
}
