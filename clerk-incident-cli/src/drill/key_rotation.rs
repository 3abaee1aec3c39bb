//! Drill phase for runbook step 3, a leaked secret key: create a new key, prove it opens the
//! same instance, move to it, delete the old one and prove Clerk rejects it. The session
//! recovery phase that follows revokes every session with the new key.

use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::incident::{ActionCounts, EntryKind};
use clerk_incident_core::rotation::{
    OldKeyStatus, rotation_retry_policy, verify_new, verify_old_revoked,
};

use super::{Drill, Observation, Recorder};
use crate::terminal;

/// The rotated key: the old key's prefix (so its kind fits the instance) and a fixed tail.
fn new_key_for(old: &str) -> String {
    let prefix = if old.starts_with("sk_live_") {
        "sk_live_"
    } else {
        "sk_test_"
    };
    format!("{prefix}drillRotatedKey0000000000000000000000")
}

fn api_for(drill: &Drill, key: &str) -> Result<ClerkApi, String> {
    ClerkApi::builder(SecretKey::new(key))
        .base_url(drill.sim().base_url())
        .retry(rotation_retry_policy())
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|err| terminal::error_chain(&err))
}

/// An `Action` entry for the drill's incident log.
fn action(command: &str, outcome: impl Into<String>) -> EntryKind {
    EntryKind::Action {
        command: command.to_owned(),
        outcome: outcome.into(),
        counts: ActionCounts::default(),
    }
}

pub(super) async fn run(drill: &Drill, rec: &mut Recorder) {
    let sim = drill.sim();
    rec.phase(
        "Phase 12",
        "key compromise: rotate the leaked secret key, prove the new one, prove the old one dead",
    );
    let old_key = drill.secret_key();
    let new_key = new_key_for(&old_key);
    let (Ok(old), Ok(new)) = (api_for(drill, &old_key), api_for(drill, &new_key)) else {
        rec.step("setup", async {
            Observation::unexpected("cannot build the API clients")
        })
        .await;
        return;
    };

    rec.step("new key created", async {
        // The Dashboard's "create secret key", done on the sim.
        sim.add_secret_key(&new_key);
        Observation::expected("a second secret key exists for the instance (Dashboard)").with_entry(
            action(
                "Dashboard: API keys → create secret key",
                "new key created; the old key still works",
            ),
        )
    })
    .await;

    rec.step("keys verify-new", async {
        let command = "clerk-incident keys verify-new";
        match verify_new(&old, &new).await {
            Ok(check) => {
                let line = format!(
                    "the new key opens the same instance {} ({})",
                    check.instance_id, check.environment_type
                );
                Observation::expected(line.clone()).with_entry(action(command, line))
            }
            Err(err) => {
                let problem = terminal::error_chain(&err);
                Observation::unexpected(problem.clone()).with_entry(action(command, problem))
            }
        }
    })
    .await;

    rec.step("old key before deletion", async {
        // Checked before the old key is deleted: the check must tell "still valid" apart.
        match verify_old_revoked(&old).await {
            Ok(check) if check.status == OldKeyStatus::StillValid => Observation::expected(
                "keys verify-old-revoked says still valid: delete it once the app runs on the new key",
            ),
            Ok(check) => Observation::unexpected(check.detail),
            Err(err) => Observation::unexpected(terminal::error_chain(&err)),
        }
    })
    .await;

    rec.step("app deployed on new key", async {
        match new.instance().await {
            Ok(_) => {
                drill.set_secret_key(&new_key);
                Observation::expected("Backend API calls succeed with the new key").with_entry(
                    action(
                        "deploy CLERK_SECRET_KEY=<new key>",
                        "the app runs on the new key",
                    ),
                )
            }
            Err(err) => Observation::unexpected(terminal::error_chain(&err)),
        }
    })
    .await;

    rec.step("keys verify-old-revoked", async {
        // The Dashboard's "delete secret key", done on the sim, then the proof.
        sim.revoke_secret_key(&old_key);
        let command = "clerk-incident keys verify-old-revoked";
        match verify_old_revoked(&old).await {
            Ok(check) if check.passed() => Observation::expected(format!(
                "Clerk answers the old key with {}: it is dead",
                check
                    .http_status
                    .map_or_else(|| "?".to_owned(), |s| s.to_string())
            ))
            .with_entry(action(command, "the old key is rejected (401)")),
            Ok(check) => Observation::unexpected(check.detail.clone())
                .with_entry(action(command, check.detail)),
            Err(err) => Observation::unexpected(terminal::error_chain(&err)),
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::new_key_for;

    #[test]
    fn the_new_key_keeps_the_old_kind() {
        assert!(new_key_for("sk_live_abc").starts_with("sk_live_"));
        assert!(new_key_for("sk_test_abc").starts_with("sk_test_"));
        assert_ne!(new_key_for("sk_test_abc"), "sk_test_abc");
    }
}
