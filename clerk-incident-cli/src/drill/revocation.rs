//! Drill phase for runbook step 4, session recovery: the mass logout of every seeded session
//! but the on-call admin's, while the sim answers some requests with 429 and 5xx.

use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, RateLimit, RetryPolicy, SecretKey};
use clerk_incident_core::incident::{ActionCounts, EntryKind};
use clerk_incident_core::revocation::{RevocationPlan, RevocationTarget, SessionRevoker};
use clerk_incident_sim::{Faults, RateLimitFault};

use super::{Drill, Observation, Recorder};
use crate::terminal;

/// A client that keeps trying through the injected faults: 5% of 5xx with six attempts is a
/// one-in-sixty-million failure per call; 429s are honoured whatever the attempt count.
fn patient_api(drill: &Drill) -> Result<ClerkApi, String> {
    let sim = drill.sim();
    ClerkApi::builder(SecretKey::new(drill.secret_key()))
        .base_url(sim.base_url())
        // Faster than the sim allows, so that the sim answers 429 bursts and the client must
        // pause every caller.
        .rate_limit(RateLimit::new(400, Duration::from_secs(1)).unwrap_or(RateLimit::DEVELOPMENT))
        .retry(RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_elapsed: Duration::from_secs(30),
        })
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|err| terminal::error_chain(&err))
}

pub(super) async fn run(drill: &Drill, rec: &mut Recorder) {
    let sim = drill.sim();
    rec.phase(
        "Phase 13",
        "session recovery: with the new key, revoke every session but the on-call admin's, \
         through 429s and 5xx",
    );
    let (Some(admin), Ok(api)) = (sim.admin_user_id(), patient_api(drill)) else {
        rec.step("setup", async {
            Observation::unexpected("no admin user or no API client")
        })
        .await;
        return;
    };
    let live_before = sim
        .sessions()
        .iter()
        .filter(|s| s.status.is_signed_in())
        .count();
    let admin_live_before = live_sessions_of(drill, &admin);
    let plan = RevocationPlan::new(RevocationTarget::AllUsers).exclude_users([admin.clone()]);
    rec.step("mass revocation", async {
        sim.set_faults(Faults {
            error_rate: 0.05,
            rate_limit: Some(RateLimitFault {
                requests: 150,
                window_ms: 1000,
            }),
            ..Faults::default()
        });
        let outcome = SessionRevoker::new(api, plan).run(None, |_| {}).await;
        sim.set_faults(Faults::default());
        let counters = sim.counters();
        let command = "clerk-incident sessions revoke --all --exclude-user <admin>".to_owned();
        match outcome {
            Ok(report) => {
                let line = format!(
                    "{} of {live_before} live sessions revoked ({} already inactive), {} skipped \
                     without a call (inactive for longer than a session lives), through {} and {}",
                    report.revoked,
                    report.already_inactive,
                    counted(report.users_skipped_by_pruning, "user", "users"),
                    counted(
                        counters.injected_errors,
                        "injected 5xx answer",
                        "injected 5xx answers"
                    ),
                    counted(counters.rate_limited, "429", "429s")
                );
                let entry = EntryKind::Action {
                    command,
                    outcome: format!("{line}; {} failed", report.failed.len()),
                    counts: ActionCounts::revocation(report.users_signed_out, report.revoked),
                };
                if report.is_complete() {
                    Observation::expected(line).with_entry(entry)
                } else {
                    Observation::unexpected(format!("{line}; {} failed", report.failed.len()))
                        .with_entry(entry)
                }
            }
            Err(err) => {
                let problem = terminal::error_chain(&err);
                Observation::unexpected(problem.clone()).with_entry(EntryKind::Action {
                    command,
                    outcome: format!("failed: {problem}"),
                    counts: ActionCounts::default(),
                })
            }
        }
    })
    .await;

    rec.step("no session left but the admin's", async {
        let still_live: Vec<_> = sim
            .sessions()
            .into_iter()
            .filter(|s| s.status.is_signed_in() && s.user_id != admin)
            .collect();
        let admin_live = live_sessions_of(drill, &admin);
        if still_live.is_empty() && admin_live == admin_live_before && admin_live > 0 {
            Observation::expected(format!(
                "0 live sessions left; the admin keeps {admin_live}"
            ))
        } else {
            Observation::unexpected(format!(
                "{} sessions still live; the admin had {admin_live_before}, has {admin_live}",
                still_live.len()
            ))
        }
    })
    .await;
}

fn live_sessions_of(drill: &Drill, user_id: &str) -> usize {
    drill
        .sim()
        .sessions()
        .iter()
        .filter(|s| s.user_id == user_id && s.status.is_signed_in())
        .count()
}

/// `1 429`, `12 injected 5xx answers`: a count and its noun, singular or plural.
fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn counts_read_as_english() {
        assert_eq!(counted(1, "429", "429s"), "1 429");
        assert_eq!(
            counted(12, "injected 5xx answer", "injected 5xx answers"),
            "12 injected 5xx answers"
        );
        assert_eq!(counted(0, "user", "users"), "0 users");
    }
}
