//! Drill phase for runbook step 5, a webhook backlog: the app's endpoint misses 30 user
//! events (the sim drops them), its users table drifts from Clerk's, and a replay from the
//! Backend API, with the ids the app holds, repairs it; a second replay changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use clerk_incident_core::webhooks::UserSync;

use super::service::{self, WEBHOOKS};
use clerk_incident_core::api::{ClerkApi, RetryPolicy, SecretKey};
use clerk_incident_core::auth::{AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig};
use clerk_incident_core::incident::{ActionCounts, EntryKind};
use clerk_incident_core::webhooks::{
    KnownIds, ReplayOptions, ReplayReport, WebhookReplayer, WebhookSecret, WebhookVerifier,
};
use clerk_incident_sim::{Delivery, NewUser, Sim, UserPatch};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{Drill, Observation, Recorder};
use crate::terminal;

/// Users created, updated and deleted while deliveries are dropped: 30 events in all.
const CREATED: usize = 12;
const UPDATED: usize = 12;
const DELETED: usize = 6;

/// The drill's reference service, serving on a port of 127.0.0.1 until dropped.
struct ServedApp {
    url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves the drill's reference service with `sync` as its webhook state.
async fn serve(sim: &Sim, sync: UserSync) -> Result<ServedApp, String> {
    let keys = KeySource::pem(sim.public_key_pem()).map_err(|err| terminal::error_chain(&err))?;
    let policy = AuthPolicy::new(
        Verifier::new(keys, VerifierConfig::default()),
        BypassSwitch::new(),
    );
    let app = service::app(policy, Some(sync));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|err| format!("cannot listen on 127.0.0.1: {err}"))?;
    let addr = listener
        .local_addr()
        .map_err(|err| format!("no local address: {err}"))?;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(ServedApp {
        url: format!("http://{addr}{WEBHOOKS}"),
        stop: Some(stop),
    })
}

/// The users table's drift from Clerk's: missing, extra (deleted in Clerk) and stale users.
fn drift(sim: &Sim, sync: &UserSync) -> (usize, usize, usize) {
    let clerk: BTreeMap<String, i64> = sim
        .users()
        .into_iter()
        .map(|user| (user.id, user.updated_at))
        .collect();
    let table = sync.users().ids();
    let missing = clerk.keys().filter(|id| !sync.users().contains(id)).count();
    let extra = table.iter().filter(|id| !clerk.contains_key(*id)).count();
    let stale = clerk
        .iter()
        .filter(|(id, at)| sync.users().updated_at(id).is_some_and(|held| held != **at))
        .count();
    (missing, extra, stale)
}

/// The ids and `updated_at`s the app holds: what `--known-ids` would read from its export.
fn known_ids(sync: &UserSync) -> KnownIds {
    let mut known = KnownIds::new();
    for id in sync.users().ids() {
        let updated_at = sync.users().updated_at(&id);
        known.insert(id, updated_at);
    }
    known
}

fn replayer(drill: &Drill, target: &str) -> Result<WebhookReplayer, String> {
    let sim = drill.sim();
    let api = ClerkApi::builder(SecretKey::new(drill.secret_key()))
        .base_url(sim.base_url())
        .retry(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(500),
            max_elapsed: Duration::from_secs(10),
        })
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|err| terminal::error_chain(&err))?;
    let secret =
        WebhookSecret::new(&sim.webhook_secret()).map_err(|err| terminal::error_chain(&err))?;
    WebhookReplayer::new(api, target, secret).map_err(|err| terminal::error_chain(&err))
}

async fn replay(
    drill: &Drill,
    target: &str,
    options: &ReplayOptions,
) -> Result<ReplayReport, String> {
    replayer(drill, target)?
        .run(options, |_| {})
        .await
        .map_err(|err| terminal::error_chain(&err))
}

/// Creates, updates and deletes users in Clerk while every delivery is dropped; the number of
/// dropped deliveries.
async fn make_backlog(sim: &Sim) -> Result<usize, String> {
    let admin = sim.admin_user_id();
    let existing: Vec<String> = sim
        .users()
        .into_iter()
        .map(|user| user.id)
        .filter(|id| Some(id) != admin.as_ref())
        .take(UPDATED + DELETED)
        .collect();
    if existing.len() < UPDATED + DELETED {
        return Err(format!(
            "the drill needs at least {} seeded users",
            UPDATED + DELETED + 1
        ));
    }
    sim.drop_webhooks((CREATED + UPDATED + DELETED) as u64);
    let mut deliveries = Vec::new();
    for n in 0..CREATED {
        let new = NewUser {
            first_name: "Backlog".to_owned(),
            last_name: format!("User {n}"),
            email_address: format!("backlog-{n}@example.com"),
        };
        let (_, delivery) = sim.create_user(new).await.map_err(|err| err.to_string())?;
        deliveries.push(delivery);
    }
    let (to_update, to_delete) = existing.split_at(UPDATED);
    for id in to_update {
        let patch = UserPatch {
            last_name: Some("Renamed".to_owned()),
            ..UserPatch::default()
        };
        let (_, delivery) = sim
            .update_user(id, patch)
            .await
            .map_err(|err| err.to_string())?;
        deliveries.push(delivery);
    }
    for id in to_delete {
        deliveries.push(sim.delete_user(id).await.map_err(|err| err.to_string())?);
    }
    Ok(deliveries
        .iter()
        .filter(|delivery| matches!(delivery, Delivery::Dropped))
        .count())
}

pub(super) async fn run(drill: &Drill, rec: &mut Recorder) {
    let sim = drill.sim();
    rec.phase(
        "Phase 14",
        "webhook backlog: the app misses 30 user events; a replay from the Backend API repairs its users table",
    );
    let setup = async {
        let secret =
            WebhookSecret::new(&sim.webhook_secret()).map_err(|err| terminal::error_chain(&err))?;
        let sync = UserSync::new(WebhookVerifier::new(secret));
        let served = serve(sim, sync.clone()).await?;
        sim.set_webhook_endpoint(Some(served.url.clone()))
            .map_err(|err| err.to_string())?;
        Ok::<_, String>((sync, served))
    };
    let (sync, served) = match setup.await {
        Ok(setup) => setup,
        Err(problem) => {
            rec.step("setup", async { Observation::unexpected(problem) })
                .await;
            return;
        }
    };
    let target = served.url.clone();

    rec.step("backfill the users table", async {
        match replay(
            drill,
            &target,
            &ReplayOptions::since(0).known_ids(KnownIds::new()),
        )
        .await
        {
            Ok(report) if report.is_complete() && sync.users().len() == sim.users().len() => {
                Observation::expected(format!(
                    "{} users sent as user.created: the app's table holds Clerk's {}",
                    report.delivered.created,
                    sync.users().len()
                ))
            }
            Ok(report) => Observation::unexpected(format!(
                "{}; the table holds {} of {} users",
                report.summary(),
                sync.users().len(),
                sim.users().len()
            )),
            Err(problem) => Observation::unexpected(problem),
        }
    })
    .await;

    rec.step("live delivery", async {
        let before = sync.users().len();
        let new = NewUser {
            first_name: "Live".to_owned(),
            last_name: "Signup".to_owned(),
            email_address: "live-signup@example.com".to_owned(),
        };
        match sim.create_user(new).await {
            Ok((user, Delivery::Delivered { status })) if sync.users().contains(&user.id) => {
                Observation::expected(format!(
                    "a sign-up reaches the app (HTTP {status}): {before} → {} users",
                    sync.users().len()
                ))
            }
            Ok((_, delivery)) => Observation::unexpected(format!("delivery: {delivery:?}")),
            Err(err) => Observation::unexpected(err.to_string()),
        }
    })
    .await;

    // The window starts just after the last change the app saw.
    let since = sim
        .users()
        .iter()
        .map(|user| user.updated_at)
        .max()
        .unwrap_or(0)
        + 1;
    rec.step("endpoint misses deliveries", async {
        match make_backlog(sim).await {
            Ok(dropped) => {
                let (missing, extra, stale) = drift(sim, &sync);
                let line = format!(
                    "{dropped} deliveries dropped: the table misses {missing} users, keeps {extra} \
                     deleted ones and has {stale} stale"
                );
                let entry = EntryKind::Action {
                    command: "webhook deliveries to the app (its endpoint answered 503)".to_owned(),
                    outcome: format!("{line}."),
                    counts: ActionCounts::default().dropped(dropped as u64),
                };
                if dropped == CREATED + UPDATED + DELETED
                    && (missing, extra, stale) == (CREATED, DELETED, UPDATED)
                {
                    Observation::expected(line).with_entry(entry)
                } else {
                    Observation::unexpected(line).with_entry(entry)
                }
            }
            Err(problem) => Observation::unexpected(problem),
        }
    })
    .await;

    let known = known_ids(&sync);
    let options = ReplayOptions::since(since).known_ids(known);
    rec.step("webhooks replay", async {
        let command = "clerk-incident webhooks replay --since <incident start> --target <app> \
                       --known-ids <exported ids>";
        match replay(drill, &target, &options).await {
            Ok(report) => {
                let line = report.summary();
                let entry = EntryKind::Action {
                    command: command.to_owned(),
                    outcome: line.clone(),
                    counts: ActionCounts::replay(
                        report.delivered.total(),
                        report.failed.len() as u64,
                    ),
                };
                let expected = report.is_complete()
                    && (
                        report.delivered.created,
                        report.delivered.updated,
                        report.delivered.deleted,
                    ) == (CREATED as u64, UPDATED as u64, DELETED as u64);
                if expected && drift(sim, &sync) == (0, 0, 0) {
                    Observation::expected(format!("{line}: the table matches Clerk's"))
                        .with_entry(entry)
                } else {
                    Observation::unexpected(format!("{line}; drift {:?}", drift(sim, &sync)))
                        .with_entry(entry)
                }
            }
            Err(problem) => Observation::unexpected(problem),
        }
    })
    .await;

    rec.step("replay again", async {
        let seen = sync.inbox().len();
        let users = sync.users().ids();
        match replay(drill, &target, &options).await {
            Ok(report)
                if report.is_complete()
                    && sync.inbox().len() == seen
                    && sync.users().ids() == users =>
            {
                Observation::expected(format!(
                    "{} events re-sent with the same message ids: all deduplicated, nothing changed",
                    report.delivered.total()
                ))
            }
            Ok(report) => Observation::unexpected(format!(
                "{}; the inbox grew from {seen} to {}",
                report.summary(),
                sync.inbox().len()
            )),
            Err(problem) => Observation::unexpected(problem),
        }
    })
    .await;

    let _ = sim.set_webhook_endpoint(None);
    drop(served);
}
