//! The checkpoint file: an append-only JSON Lines journal that lets a killed run resume
//! exactly.
//!
//! ```text
//! {"record":"start","version":1,"plan":{…},"active_since":1749308400000,"started_at":1750000000000}
//! {"record":"pace","concurrency":8,"rate_limit":{"requests":1000,"window_ms":10000}}
//! {"record":"intent","user_id":"user_a","sessions":["sess_1","sess_2"]}
//! {"record":"done","user_id":"user_a","counts":{"found":2,"kept":0,"revoked":2,"already_inactive":0}}
//! ```
//!
//! Two rules make a resume exact whenever the run was killed:
//!
//! 1. *Intent before action.* Before the first revoke call for a user, the ids of the sessions
//!    about to be revoked are appended (one `write` of a whole line; the file is not reopened
//!    or rewritten). A resumed run that finds such a session no longer live knows it was this
//!    run's to count: `revoked` if Clerk says so, `already_inactive` otherwise.
//! 2. *Done after all.* A user is recorded as done, with its counts, only once all its
//!    sessions were processed without a failure. A resumed run skips done users and adds
//!    their counts; every other user is redone, which is safe because revoking is idempotent.
//!
//! A `pace` line records how the run was paced (users at once, the rate limit); a run that
//! opens the file with another pace appends a new one. The last one is what
//! [`SessionRevoker::checkpoint_pace`](super::SessionRevoker::checkpoint_pace) returns, so
//! that a resume keeps a production run's pace instead of falling back to a default.
//!
//! An append costs one small write however long the run, where rewriting a snapshot would
//! grow with the number of users done. A line cut short by a crash is the last one, was
//! never acted upon (actions wait for the whole line), and is dropped on resume. The file is
//! locked while a run uses it.
//!
//! A fleet's revocation job keeps the same lines in the fleet store instead
//! ([`RevocationJobStore::append_checkpoint`]), each append fenced by the job's lease, so that
//! the replica that resumes a job whose holder died resumes it as exactly as a file would.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::{File, TryLockError};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::error::RevocationError;
use super::job_store::{JobLease, JobStoreError, RevocationJobStore};
use super::plan::{RevocationPlan, RevocationTarget};
use crate::api::RateLimit;

/// The journal format version this code writes: 2 added the `pace` record, which version 1
/// readers would take for corruption; they refuse the file by its version instead.
const VERSION: u32 = 2;

/// The oldest format version this code reads.
const OLDEST_VERSION: u32 = 1;

/// What identifies a plan in a checkpoint: everything that changes which sessions are
/// revoked or how they are counted (not the concurrency).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PlanFingerprint {
    target: TargetRecord,
    exclude_users: BTreeSet<String>,
    sessions_created_before: Option<i64>,
    max_session_lifetime_ms: u64,
    dry_run: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TargetRecord {
    AllUsers,
    Users { user_ids: BTreeSet<String> },
    Organization { organization_id: String },
}

impl PlanFingerprint {
    pub(crate) fn of(plan: &RevocationPlan) -> Self {
        let target = match plan.target() {
            RevocationTarget::AllUsers => TargetRecord::AllUsers,
            RevocationTarget::Users(ids) => TargetRecord::Users {
                user_ids: ids.iter().cloned().collect(),
            },
            RevocationTarget::Organization(id) => TargetRecord::Organization {
                organization_id: id.clone(),
            },
        };
        Self {
            target,
            exclude_users: plan.excluded_users().clone(),
            sessions_created_before: plan.created_before(),
            max_session_lifetime_ms: u64::try_from(plan.session_lifetime().as_millis())
                .unwrap_or(u64::MAX),
            dry_run: plan.is_dry_run(),
        }
    }

    /// The plan this fingerprint was taken from, with the default concurrency.
    pub(crate) fn to_plan(&self) -> RevocationPlan {
        let target = match &self.target {
            TargetRecord::AllUsers => RevocationTarget::AllUsers,
            TargetRecord::Users { user_ids } => {
                RevocationTarget::Users(user_ids.iter().cloned().collect())
            }
            TargetRecord::Organization { organization_id } => {
                RevocationTarget::Organization(organization_id.clone())
            }
        };
        let mut plan = RevocationPlan::new(target)
            .exclude_users(self.exclude_users.iter().cloned())
            .max_session_lifetime(std::time::Duration::from_millis(
                self.max_session_lifetime_ms,
            ))
            .dry_run(self.dry_run);
        if let Some(cutoff) = self.sessions_created_before {
            plan = plan.sessions_created_before(cutoff);
        }
        plan
    }

    /// What differs between two plans, in words; empty when nothing does.
    fn differences(&self, other: &Self) -> Vec<&'static str> {
        let mut differences = Vec::new();
        if self.target != other.target {
            differences.push("target");
        }
        if self.exclude_users != other.exclude_users {
            differences.push("excluded users");
        }
        if self.sessions_created_before != other.sessions_created_before {
            differences.push("created-before cutoff");
        }
        if self.max_session_lifetime_ms != other.max_session_lifetime_ms {
            differences.push("maximum session lifetime");
        }
        if self.dry_run != other.dry_run {
            differences.push("dry run");
        }
        differences
    }
}

/// How a run recorded in a checkpoint was paced: what a resume restores unless told otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckpointPace {
    /// Users processed at once.
    pub concurrency: usize,
    /// The rate limit the run's client paced itself to; `None` when it was not paced.
    pub rate_limit: Option<RateLimit>,
}

impl CheckpointPace {
    /// The pace of a run with `concurrency` users at once under `rate_limit`.
    pub fn new(concurrency: usize, rate_limit: Option<RateLimit>) -> Self {
        Self {
            concurrency,
            rate_limit,
        }
    }
}

/// A rate limit as a checkpoint line holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct RateRecord {
    requests: u32,
    window_ms: u64,
}

impl RateRecord {
    fn of(limit: RateLimit) -> Self {
        Self {
            requests: limit.requests(),
            window_ms: u64::try_from(limit.window().as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn to_limit(self) -> Option<RateLimit> {
        RateLimit::new(
            self.requests,
            std::time::Duration::from_millis(self.window_ms),
        )
    }
}

/// One user's counts, as recorded when the user is done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UserCounts {
    pub(crate) found: u64,
    pub(crate) kept: u64,
    pub(crate) revoked: u64,
    pub(crate) already_inactive: u64,
}

impl UserCounts {
    pub(crate) fn add(&mut self, other: &UserCounts) {
        self.found = self.found.saturating_add(other.found);
        self.kept = self.kept.saturating_add(other.kept);
        self.revoked = self.revoked.saturating_add(other.revoked);
        self.already_inactive = self.already_inactive.saturating_add(other.already_inactive);
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Record {
    Start {
        version: u32,
        plan: PlanFingerprint,
        active_since: i64,
        started_at: i64,
    },
    Intent {
        user_id: String,
        sessions: BTreeSet<String>,
    },
    Done {
        user_id: String,
        counts: UserCounts,
    },
    Pace {
        concurrency: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rate_limit: Option<RateRecord>,
    },
    /// A record kind a newer version writes: skipped, since it cannot change what this
    /// version revokes or counts.
    #[serde(other)]
    Unknown,
}

/// What a checkpoint holds, replayed.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// The pruning bound of the first run, kept so that every resumed part scans the same users.
    pub(crate) active_since: i64,
    /// Users recorded as done.
    pub(crate) done: HashSet<String>,
    /// Sessions recorded as about to be revoked, for users not done.
    pub(crate) intents: HashMap<String, BTreeSet<String>>,
    /// The counts of the done users, summed.
    pub(crate) counts: UserCounts,
    /// Done users with at least one session revoked.
    pub(crate) users_signed_out: u64,
    /// The last pace recorded, if any.
    pub(crate) pace: Option<CheckpointPace>,
    /// When the first part of the run started (Unix ms): with the plan, what identifies it.
    pub(crate) started_at: i64,
}

/// An open checkpoint, appended to: a locked file, or a job's lines in the fleet store.
pub(crate) struct Journal {
    sink: Sink,
}

enum Sink {
    File {
        path: PathBuf,
        file: Mutex<File>,
    },
    Shared {
        store: Arc<dyn RevocationJobStore>,
        lease: JobLease,
    },
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("at", &self.location())
            .finish()
    }
}

impl Journal {
    /// Opens (or creates) the checkpoint at `path` for `plan`, replaying what it holds. A new
    /// file starts with the plan and `active_since`; `pace` is appended when it is not the
    /// last one recorded.
    pub(crate) async fn open(
        path: &Path,
        plan: &PlanFingerprint,
        active_since: i64,
        started_at: i64,
        pace: CheckpointPace,
    ) -> Result<(Self, Replay), RevocationError> {
        let mut file = crate::private_file::options()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .and_then(|file| crate::private_file::restrict(&file).map(|()| file))
            .map_err(|err| RevocationError::io(path, err))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(RevocationError::CheckpointInUse {
                    path: path.to_owned(),
                });
            }
            Err(TryLockError::Error(err)) if err.kind() == std::io::ErrorKind::Unsupported => {
                tracing::warn!(path = %path.display(), "the file system cannot lock the checkpoint; make sure no other run uses it");
            }
            Err(TryLockError::Error(err)) => return Err(RevocationError::io(path, err)),
        }
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|err| RevocationError::io(path, err))?;

        // A line without its newline was being written when the run died: never acted upon.
        let complete = text.rfind('\n').map_or(0, |end| end + 1);
        if complete < text.len() {
            tracing::warn!(path = %path.display(), "dropping a checkpoint line cut short by a crash");
            file.set_len(complete as u64)
                .map_err(|err| RevocationError::io(path, err))?;
        }
        let journal = Journal {
            sink: Sink::File {
                path: path.to_owned(),
                file: Mutex::new(file),
            },
        };
        let text = text.get(..complete).unwrap_or_default();
        let (journal, mut replay) = if text.trim().is_empty() {
            journal.begin(plan, active_since, started_at).await?
        } else {
            let (stored, replay) = replay_lines(text.lines())
                .map_err(|(line, reason)| RevocationError::corrupt(path, line, reason))?;
            let differences = plan.differences(&stored);
            if !differences.is_empty() {
                return Err(RevocationError::PlanMismatch {
                    path: path.to_owned(),
                    differences: differences.join(", "),
                });
            }
            (journal, replay)
        };
        if replay.pace != Some(pace) {
            journal
                .append(&Record::Pace {
                    concurrency: pace.concurrency,
                    rate_limit: pace.rate_limit.map(RateRecord::of),
                })
                .await?;
            replay.pace = Some(pace);
        }
        Ok((journal, replay))
    }

    /// Starts the checkpoint of `lease`'s new job in the fleet store, with `plan` and
    /// `active_since` ([`resume_shared`](Self::resume_shared) opens one to resume it).
    pub(crate) async fn start_shared(
        store: Arc<dyn RevocationJobStore>,
        lease: JobLease,
        plan: &PlanFingerprint,
        active_since: i64,
        started_at: i64,
    ) -> Result<(Self, Replay), RevocationError> {
        let journal = Journal {
            sink: Sink::Shared { store, lease },
        };
        journal.begin(plan, active_since, started_at).await
    }

    /// Opens the checkpoint of `lease`'s job in the fleet store to resume it: its plan (with
    /// the default concurrency), read from the same lines as the replay.
    pub(crate) async fn resume_shared(
        store: Arc<dyn RevocationJobStore>,
        lease: JobLease,
    ) -> Result<(RevocationPlan, Self, Replay), RevocationError> {
        let lines = store
            .checkpoint(&lease.job)
            .await
            .map_err(|err| RevocationError::shared(&lease.job, err))?;
        let (plan, replay) = replay_shared(&lease.job, &lines)?;
        let journal = Journal {
            sink: Sink::Shared { store, lease },
        };
        Ok((plan.to_plan(), journal, replay))
    }

    /// Writes the start record of a new checkpoint: nothing to replay yet.
    async fn begin(
        self,
        plan: &PlanFingerprint,
        active_since: i64,
        started_at: i64,
    ) -> Result<(Self, Replay), RevocationError> {
        self.append(&Record::Start {
            version: VERSION,
            plan: plan.clone(),
            active_since,
            started_at,
        })
        .await?;
        Ok((
            self,
            Replay {
                active_since,
                ..Replay::default()
            },
        ))
    }

    /// Records that `sessions` of `user_id` are about to be revoked. Returns once the line is
    /// in the file.
    pub(crate) async fn intent(
        &self,
        user_id: &str,
        sessions: &BTreeSet<String>,
    ) -> Result<(), RevocationError> {
        self.append(&Record::Intent {
            user_id: user_id.to_owned(),
            sessions: sessions.clone(),
        })
        .await
    }

    /// Records that `user_id` is done, with its counts.
    pub(crate) async fn done(
        &self,
        user_id: &str,
        counts: UserCounts,
    ) -> Result<(), RevocationError> {
        self.append(&Record::Done {
            user_id: user_id.to_owned(),
            counts,
        })
        .await
    }

    /// Where the checkpoint is, for logs.
    pub(crate) fn location(&self) -> String {
        match &self.sink {
            Sink::File { path, .. } => path.display().to_string(),
            Sink::Shared { lease, .. } => format!("the fleet store (job {})", lease.job),
        }
    }

    /// Appends one whole line: a single `write` to the file, or one fenced append to the
    /// store (refused once another instance took the job's lease over).
    async fn append(&self, record: &Record) -> Result<(), RevocationError> {
        let line = serde_json::to_string(record).map_err(|err| match &self.sink {
            Sink::File { path, .. } => RevocationError::io(path, std::io::Error::other(err)),
            Sink::Shared { lease, .. } => {
                RevocationError::shared(&lease.job, JobStoreError::Invalid(err.to_string()))
            }
        })?;
        match &self.sink {
            Sink::File { path, file } => {
                let mut bytes = line.into_bytes();
                bytes.push(b'\n');
                file.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .write_all(&bytes)
                    .map_err(|err| RevocationError::io(path, err))
            }
            Sink::Shared { store, lease } => match store.append_checkpoint(lease, &[line]).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(RevocationError::LeaseLost {
                    job: lease.job.clone(),
                }),
                Err(err) => Err(RevocationError::shared(&lease.job, err)),
            },
        }
    }
}

/// Replays a job's checkpoint lines from the fleet store.
fn replay_shared(
    job: &str,
    lines: &[String],
) -> Result<(PlanFingerprint, Replay), RevocationError> {
    replay_lines(lines.iter().map(String::as_str)).map_err(|(line, reason)| {
        RevocationError::shared(
            job,
            JobStoreError::Invalid(format!("checkpoint line {line}: {reason}")),
        )
    })
}

/// The plan stored in the checkpoint at `path` (with the default concurrency), so that a run
/// can be resumed without restating its filters.
pub(crate) fn stored_plan(path: &Path) -> Result<RevocationPlan, RevocationError> {
    read_file(path).map(|(plan, _)| plan.to_plan())
}

/// The last pace recorded in the checkpoint at `path`; `None` when it records none (written
/// by an earlier version).
pub(crate) fn stored_pace(path: &Path) -> Result<Option<CheckpointPace>, RevocationError> {
    read_file(path).map(|(_, replay)| replay.pace)
}

/// What identifies the run recorded at `path`, whatever path it is reached by: the time its
/// first part started, the same in every resumed part.
pub(crate) fn stored_run_id(path: &Path) -> Result<String, RevocationError> {
    read_file(path).map(|(_, replay)| format!("revocation started at {}", replay.started_at))
}

/// Replays the complete lines of the checkpoint file at `path`, without locking it.
fn read_file(path: &Path) -> Result<(PlanFingerprint, Replay), RevocationError> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut file| file.read_to_string(&mut text))
        .map_err(|err| RevocationError::io(path, err))?;
    let complete = text.rfind('\n').map_or(0, |end| end + 1);
    replay_lines(text.get(..complete).unwrap_or_default().lines())
        .map_err(|(line, reason)| RevocationError::corrupt(path, line, reason))
}

/// Reads the journal's complete lines; an error names the first unreadable line (from 1) and
/// what is wrong with it.
fn replay_lines<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<(PlanFingerprint, Replay), (usize, String)> {
    let mut lines = lines
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    let (plan, mut replay) = match lines.next() {
        Some((_, line)) => match serde_json::from_str::<Record>(line) {
            Ok(Record::Start {
                version,
                plan,
                active_since,
                started_at,
            }) if (OLDEST_VERSION..=VERSION).contains(&version) => (
                plan,
                Replay {
                    active_since,
                    started_at,
                    ..Replay::default()
                },
            ),
            Ok(Record::Start { version, .. }) => {
                return Err((
                    1,
                    format!(
                        "format version {version}, written by another version of clerk-incident; \
                         this one reads versions {OLDEST_VERSION} to {VERSION}"
                    ),
                ));
            }
            Ok(_) => return Err((1, "no start record".to_owned())),
            Err(err) => return Err((1, err.to_string())),
        },
        None => return Err((1, "the checkpoint is empty".to_owned())),
    };
    for (index, line) in lines {
        let record =
            serde_json::from_str::<Record>(line).map_err(|err| (index + 1, err.to_string()))?;
        match record {
            Record::Start { .. } => {
                return Err((index + 1, "a second start record".to_owned()));
            }
            Record::Intent { user_id, sessions } => {
                if !replay.done.contains(&user_id) {
                    replay.intents.entry(user_id).or_default().extend(sessions);
                }
            }
            Record::Done { user_id, counts } => {
                replay.intents.remove(&user_id);
                if replay.done.insert(user_id) {
                    replay.counts.add(&counts);
                    if counts.revoked > 0 {
                        replay.users_signed_out += 1;
                    }
                }
            }
            Record::Pace {
                concurrency,
                rate_limit,
            } => {
                replay.pace = Some(CheckpointPace {
                    concurrency,
                    rate_limit: rate_limit.and_then(RateRecord::to_limit),
                });
            }
            Record::Unknown => {}
        }
    }
    Ok((plan, replay))
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::time::Duration;

    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "clerk-incident-checkpoint-{}-{name}.jsonl",
            std::process::id()
        ))
    }

    fn pace() -> CheckpointPace {
        CheckpointPace::new(8, Some(RateLimit::PRODUCTION))
    }

    fn plan() -> PlanFingerprint {
        PlanFingerprint::of(
            &RevocationPlan::new(RevocationTarget::AllUsers).exclude_users(["user_admin"]),
        )
    }

    #[tokio::test]
    async fn replays_intents_and_done_users() {
        let path = temp_path("replay");
        let _ = std::fs::remove_file(&path);
        {
            let (journal, replay) = Journal::open(&path, &plan(), 42, 1000, pace())
                .await
                .unwrap();
            assert_eq!(replay.active_since, 42);
            let sessions: BTreeSet<String> = ["sess_1".to_owned()].into();
            journal.intent("user_a", &sessions).await.unwrap();
            journal.intent("user_b", &sessions).await.unwrap();
            let counts = UserCounts {
                found: 1,
                revoked: 1,
                ..UserCounts::default()
            };
            journal.done("user_a", counts).await.unwrap();
            // A duplicate done line must not count twice.
            journal.done("user_a", counts).await.unwrap();
        }
        let (_journal, replay) = Journal::open(&path, &plan(), 99, 2000, pace())
            .await
            .unwrap();
        assert_eq!(replay.active_since, 42, "the first run's bound is kept");
        assert!(replay.done.contains("user_a"));
        assert_eq!(replay.counts.revoked, 1);
        assert_eq!(replay.users_signed_out, 1);
        assert_eq!(replay.intents.len(), 1);
        assert!(replay.intents.contains_key("user_b"));
        drop(_journal);
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn a_new_pace_is_recorded_and_the_last_one_read_back() {
        let path = temp_path("pace");
        let _ = std::fs::remove_file(&path);
        let lines = || std::fs::read_to_string(&path).unwrap().lines().count();
        drop(Journal::open(&path, &plan(), 1, 1, pace()).await.unwrap());
        assert_eq!(lines(), 2, "start and pace");
        drop(Journal::open(&path, &plan(), 1, 1, pace()).await.unwrap());
        assert_eq!(lines(), 2, "the same pace is not recorded twice");
        let faster = CheckpointPace::new(16, RateLimit::new(5000, Duration::from_secs(10)));
        let (_journal, replay) = Journal::open(&path, &plan(), 1, 1, faster).await.unwrap();
        assert_eq!(replay.pace, Some(faster));
        assert_eq!(lines(), 3);
        drop(_journal);
        assert_eq!(stored_pace(&path).unwrap(), Some(faster));

        // A checkpoint written before paces were recorded has none.
        std::fs::write(
            &path,
            format!(
                "{}\n",
                serde_json::to_string(&Record::Start {
                    version: VERSION,
                    plan: plan(),
                    active_since: 1,
                    started_at: 1,
                })
                .unwrap()
            ),
        )
        .unwrap();
        assert_eq!(stored_pace(&path).unwrap(), None);
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn older_versions_and_unknown_records_read_newer_versions_are_refused_by_name() {
        let path = temp_path("versions");
        let start = |version: u32| {
            serde_json::to_string(&Record::Start {
                version,
                plan: plan(),
                active_since: 1,
                started_at: 7,
            })
            .unwrap()
        };
        let done = r#"{"record":"done","user_id":"user_a","counts":{"found":1,"kept":0,"revoked":1,"already_inactive":0}}"#;
        let future = r#"{"record":"shard","of":3}"#;
        std::fs::write(&path, format!("{}\n{done}\n{future}\n", start(1))).unwrap();
        let (journal, replay) = Journal::open(&path, &plan(), 1, 1, pace()).await.unwrap();
        assert!(replay.done.contains("user_a"), "a version 1 file resumes");
        assert_eq!(
            replay.counts.revoked, 1,
            "an unknown record kind is skipped"
        );
        drop(journal);
        assert_eq!(stored_run_id(&path).unwrap(), "revocation started at 7");

        std::fs::write(&path, format!("{}\n", start(VERSION + 1))).unwrap();
        let err = Journal::open(&path, &plan(), 1, 1, pace())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("written by another version"),
            "{err}"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_dropped_and_a_torn_middle_is_corrupt() {
        let path = temp_path("torn");
        let _ = std::fs::remove_file(&path);
        drop(Journal::open(&path, &plan(), 1, 1, pace()).await.unwrap());
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"record":"done","user_id":"user_a","cou"#)
            .unwrap();
        drop(file);
        let (journal, replay) = Journal::open(&path, &plan(), 1, 1, pace()).await.unwrap();
        assert!(replay.done.is_empty());
        journal.done("user_b", UserCounts::default()).await.unwrap();
        drop(journal);
        let (_journal, replay) = Journal::open(&path, &plan(), 1, 1, pace()).await.unwrap();
        assert!(replay.done.contains("user_b"), "appends continue cleanly");
        drop(_journal);

        std::fs::write(&path, "{\"record\":\"start\"\n{}\n").unwrap();
        assert!(matches!(
            Journal::open(&path, &plan(), 1, 1, pace()).await,
            Err(RevocationError::CorruptCheckpoint { line: 1, .. })
        ));
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn another_plan_or_a_second_run_is_refused() {
        let path = temp_path("mismatch");
        let _ = std::fs::remove_file(&path);
        let journal = Journal::open(&path, &plan(), 1, 1, pace()).await.unwrap();
        assert!(matches!(
            Journal::open(&path, &plan(), 1, 1, pace()).await,
            Err(RevocationError::CheckpointInUse { .. })
        ));
        drop(journal);
        let other = PlanFingerprint::of(
            &RevocationPlan::new(RevocationTarget::Organization("org_1".into())).dry_run(true),
        );
        let err = Journal::open(&path, &other, 1, 1, pace())
            .await
            .unwrap_err();
        let RevocationError::PlanMismatch { differences, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(differences, "target, excluded users, dry run");
        assert_eq!(stored_plan(&path).unwrap(), plan().to_plan());
        let _ = std::fs::remove_file(&path);
    }
}
