//! Drill phase for runbook step 3, a leaked secret key: the audit baseline taken before the
//! incident, the attacker using the leaked key (the sim's `compromise` scenario), then create
//! a new key, prove it opens the same instance, move to it, delete the old one and prove
//! Clerk rejects it, and audit the window from the leak: every attacker change found, nothing
//! from before. The session recovery phase that follows revokes every session with the new
//! key.

use std::collections::BTreeSet;

use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::audit::{self, AuditOutcome, AuditWindow, Baseline, ObjectKind};
use clerk_incident_core::incident::{ActionCounts, EntryKind};
use clerk_incident_core::rotation::{
    OldKeyStatus, rotation_retry_policy, verify_new, verify_old_revoked,
};
use clerk_incident_sim::Compromise;

use super::{Drill, Observation, Recorder};
use crate::terminal;
use crate::time_arg::now_ms;

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
        "key compromise: the attacker uses the leaked key; rotate it, prove the new one and the old one dead, audit what it changed",
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

    let mut baseline = None;
    rec.step("audit snapshot (before)", async {
        // Taken regularly, before any incident, as the runbook asks.
        match audit::snapshot(&old, now_ms()).await {
            Ok(taken) => {
                let line = format!(
                    "baseline of {} user(s) and {} object(s) in all",
                    taken.users.len(),
                    taken.len()
                );
                baseline = Some(taken);
                Observation::expected(line)
            }
            Err(err) => Observation::unexpected(terminal::error_chain(&err)),
        }
    })
    .await;

    let mut compromise = None;
    rec.step("attacker uses the key", async {
        match sim.compromise(None).await {
            Ok(done) => {
                let line = format!(
                    "{} change(s) through the Backend API from {} ({} ordinary one(s) just before)",
                    done.attacker.len(),
                    crate::time_arg::rfc3339(done.leaked_at),
                    done.before.len()
                );
                compromise = Some(done);
                Observation::expected(line.clone()).with_entry(EntryKind::Note {
                    text: format!("the leaked key was used: {line}"),
                })
            }
            Err(err) => Observation::unexpected(terminal::error_chain(&err)),
        }
    })
    .await;

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

    let mut sessions = Vec::new();
    rec.step("audit --since <leak>", async {
        let Some(compromise) = &compromise else {
            return Observation::unexpected("no compromise to audit: the attacker step failed");
        };
        audited(&new, compromise, baseline.as_ref(), &mut sessions).await
    })
    .await;

    rec.step("attacker sessions revoked", async {
        // The audit's undo for sessions; the mass revocation that follows spares the on-call
        // admin's sessions, and an impersonation session is one of them.
        let mut revoked = 0;
        for id in &sessions {
            match new.revoke_session(id).await {
                Ok(_) => revoked += 1,
                Err(err) => return Observation::unexpected(terminal::error_chain(&err)),
            }
        }
        let line =
            format!("{revoked} session(s) the attacker started revoked (impersonation included)");
        Observation::expected(line.clone()).with_entry(action(
            "the audit's undo: POST /v1/sessions/{id}/revoke",
            line,
        ))
    })
    .await;
}

/// Audits the window from the leak with the new key, and checks the findings are exactly
/// the attacker's changes.
async fn audited(
    api: &ClerkApi,
    compromise: &Compromise,
    baseline: Option<&Baseline>,
    sessions: &mut Vec<String>,
) -> Observation {
    let last_change = compromise.attacker.iter().map(|action| action.at).max();
    let window = AuditWindow {
        since_ms: compromise.leaked_at,
        until_ms: now_ms().max(last_change.unwrap_or_default()),
    };
    let report = audit::audit(api, window, baseline, &mut |_| {}).await;
    sessions.extend(
        report
            .findings
            .iter()
            .filter(|finding| finding.kind.object == ObjectKind::Session)
            .map(|finding| finding.id.clone()),
    );
    let entry = report.incident_entry();
    let found: BTreeSet<(String, &str)> = report
        .findings
        .iter()
        .map(|finding| (finding.kind.to_string(), finding.id.as_str()))
        .collect();
    let missed: Vec<String> = compromise
        .attacker
        .iter()
        .filter(|action| !found.contains(&(action.kind.clone(), action.id.as_str())))
        .map(|action| format!("{} {}", action.kind, action.id))
        .collect();
    let before: BTreeSet<&str> = compromise
        .before
        .iter()
        .map(|action| action.id.as_str())
        .collect();
    let wrongly: Vec<&str> = report
        .findings
        .iter()
        .filter(|finding| before.contains(finding.id.as_str()))
        .map(|finding| finding.id.as_str())
        .collect();
    let observation = if report.outcome() == AuditOutcome::Incomplete {
        let lists: Vec<&str> = report
            .not_checked
            .iter()
            .map(|c| c.check.as_str())
            .collect();
        Observation::unexpected(format!("incomplete: {} not checked", lists.join(", ")))
    } else if !missed.is_empty() {
        Observation::unexpected(format!("missed {}", missed.join(", ")))
    } else if !wrongly.is_empty() {
        Observation::unexpected(format!(
            "reported changes from before the leak: {}",
            wrongly.join(", ")
        ))
    } else if report.findings.len() != compromise.attacker.len() {
        Observation::unexpected(format!(
            "{} finding(s) for {} attacker change(s)",
            report.findings.len(),
            compromise.attacker.len()
        ))
    } else {
        Observation::expected(format!(
            "all {} attacker change(s) found, none from before the leak, in {} request(s); undo each, then revoke the sessions",
            report.findings.len(),
            report.calls
        ))
    };
    observation.with_entry(entry)
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
