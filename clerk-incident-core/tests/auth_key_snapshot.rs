//! The last known good keys on disk: a service restarted while Clerk is down verifies with
//! the snapshot its predecessor saved; a snapshot that is corrupt, of another issuer, of the
//! wrong keys or too old is refused (a warning, never trusted, never a crash); replicas that
//! share one path never read a torn file; a path that cannot be written leaves the service
//! running.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod auth_common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use auth_common::{SIM_MODULUS, hand_made_token, jwks_json, over_jwks, uncached};
use clerk_incident_core::api::Jwks;
use clerk_incident_core::auth::{
    AuthPolicy, BypassSwitch, FileSnapshotStore, JwksCache, JwksCacheConfig, JwksSource,
    KeyFetchError, KeySnapshot, KeySnapshotStore, RejectReason,
};

const ISSUER: &str = "https://clerk.example.test";

/// A JWKS serving the sim's first key as `kid-1`, or failing with 503 while down.
#[derive(Clone, Default)]
struct Clerk {
    down: Arc<AtomicBool>,
}

#[async_trait]
impl JwksSource for Clerk {
    async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(KeyFetchError::Status(503));
        }
        Ok(serde_json::from_value(jwks_json("kid-1", SIM_MODULUS)).unwrap())
    }

    fn name(&self) -> &'static str {
        "test"
    }
}

/// A directory of its own, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("snapshot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("jwks.json")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A service's policy over `clerk`, keeping its snapshot at `path`.
fn service(clerk: &Clerk, path: &PathBuf, issuer: &str) -> (AuthPolicy, JwksCache) {
    let cache = JwksCache::new(clerk.clone(), JwksCacheConfig::default())
        .with_snapshot(FileSnapshotStore::new(path), Some(issuer.to_owned()));
    let policy = AuthPolicy::new(over_jwks(&cache, uncached()), BypassSwitch::new());
    (policy, cache)
}

#[tokio::test]
async fn a_service_restarted_during_an_outage_verifies_with_the_snapshot() {
    let dir = Dir::new("restart");
    let clerk = Clerk::default();
    let token = hand_made_token("kid-1");

    // Before the outage: the running service fetched, and saved what it fetched.
    let (_, before) = service(&clerk, &dir.file(), ISSUER);
    before.refresh().await.unwrap();
    let saved = std::fs::read_to_string(dir.file()).unwrap();
    assert!(saved.contains("kid-1") && saved.contains(ISSUER), "{saved}");
    assert!(!saved.contains("\"d\""), "public keys only");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.file()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(before);

    // Clerk goes down; the service restarts.
    clerk.down.store(true, Ordering::SeqCst);
    let (policy, cache) = service(&clerk, &dir.file(), ISSUER);
    assert!(cache.refresh().await.is_err());
    assert!(
        policy.verifier().verify(&token).await.is_ok(),
        "verifies with the snapshot"
    );
    let health = policy.health();
    assert!(health.ready);
    let problem = health.problem.unwrap();
    assert!(
        problem.starts_with("verifying with the keys of a snapshot"),
        "{problem}"
    );
    assert!(
        !problem.contains("20"),
        "when it was taken is in the details only: {problem}"
    );
    assert!(cache.status().from_snapshot.is_some());

    // Clerk is back: fetched keys replace the snapshot's.
    clerk.down.store(false, Ordering::SeqCst);
    cache.refresh().await.unwrap();
    assert_eq!(cache.status().from_snapshot, None);
    assert_eq!(policy.health().problem, None);
}

#[tokio::test]
async fn without_a_snapshot_a_restart_during_an_outage_fails_closed() {
    let dir = Dir::new("none");
    let clerk = Clerk::default();
    clerk.down.store(true, Ordering::SeqCst);
    let (policy, cache) = service(&clerk, &dir.file(), ISSUER);
    assert!(cache.refresh().await.is_err());
    assert_eq!(
        policy
            .verifier()
            .verify(&hand_made_token("kid-1"))
            .await
            .unwrap_err(),
        RejectReason::KeysUnavailable
    );
    assert!(!policy.health().ready);
}

/// Writes `content` as the snapshot, then restarts a service during an outage over it.
async fn restart_over(name: &str, content: &[u8]) -> AuthPolicy {
    let dir = Dir::new(name);
    std::fs::write(dir.file(), content).unwrap();
    let clerk = Clerk::default();
    clerk.down.store(true, Ordering::SeqCst);
    let (policy, cache) = service(&clerk, &dir.file(), ISSUER);
    assert!(cache.refresh().await.is_err());
    policy
}

fn snapshot_file(issuer: &str, fetched_at: SystemTime, keys: serde_json::Value) -> Vec<u8> {
    let serde_json::Value::Array(keys) = keys else {
        panic!("keys are a list")
    };
    serde_json::to_vec(&serde_json::json!({
        "format": "clerk-incident.jwks-snapshot.v1",
        "issuer": issuer,
        "fetched_at": humantime::format_rfc3339_seconds(fetched_at).to_string(),
        "jwks": {"keys": keys},
    }))
    .unwrap()
}

#[tokio::test]
async fn a_snapshot_that_cannot_be_trusted_is_refused_never_used() {
    let now = SystemTime::now();
    let good_keys = jwks_json("kid-1", SIM_MODULUS)["keys"].clone();
    let good = snapshot_file(ISSUER, now, good_keys.clone());
    // The good one is used, so the refusals below are the content's doing.
    let policy = restart_over("good", &good).await;
    assert!(policy.health().ready);

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("corrupt", b"{not json".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("foreign", snapshot_file("https://evil.example.com", now, good_keys.clone())),
        ("old", snapshot_file(ISSUER, now - Duration::from_secs(2 * 86_400), good_keys.clone())),
        ("future", snapshot_file(ISSUER, now + Duration::from_secs(3600), good_keys.clone())),
        ("ec", snapshot_file(ISSUER, now, serde_json::json!([{"kid": "kid-1", "kty": "EC", "crv": "P-256"}]))),
        (
            "huge-key",
            snapshot_file(ISSUER, now, serde_json::json!([{"kid": "kid-1", "kty": "RSA", "n": "A".repeat(4000), "e": "AQAB"}])),
        ),
        ("huge-file", vec![b' '; 300 * 1024]),
        ("no-issuer", {
            let mut file: serde_json::Value = serde_json::from_slice(&good).unwrap();
            file["issuer"] = serde_json::Value::Null;
            serde_json::to_vec(&file).unwrap()
        }),
        ("other-format", br#"{"format":"something-else","issuer":null,"fetched_at":"2026-12-01T00:00:00Z","jwks":{"keys":[]}}"#.to_vec()),
    ];
    for (name, content) in cases {
        let policy = restart_over(name, &content).await;
        let health = policy.health();
        assert!(!health.ready, "{name}: the snapshot must not be trusted");
        assert_eq!(
            policy
                .verifier()
                .verify(&hand_made_token("kid-1"))
                .await
                .unwrap_err(),
            RejectReason::KeysUnavailable,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_sharing_one_path_never_read_a_torn_file() {
    let dir = Dir::new("shared");
    let store = FileSnapshotStore::new(dir.file());
    let jwks: Jwks = serde_json::from_value(jwks_json("kid-1", SIM_MODULUS)).unwrap();
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (store, jwks) = (store.clone(), jwks.clone());
            tokio::spawn(async move {
                for _ in 0..50 {
                    store
                        .save(&KeySnapshot::new(Some(ISSUER.into()), jwks.clone()))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut read = 0;
            for _ in 0..200 {
                match store.load().await {
                    Ok(Some(snapshot)) => {
                        assert_eq!(snapshot.jwks.keys.len(), 1);
                        read += 1;
                    }
                    Ok(None) => {}
                    Err(err) => panic!("a torn read: {err}"),
                }
            }
            read
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    reader.await.unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
}

#[tokio::test]
async fn a_snapshot_path_that_cannot_be_written_leaves_the_service_running() {
    let dir = Dir::new("unwritable");
    // A path whose parent is a file: nothing can be written there, whoever runs the test.
    let blocker = dir.0.join("not-a-directory");
    std::fs::write(&blocker, b"").unwrap();
    let clerk = Clerk::default();
    let (policy, cache) = service(&clerk, &blocker.join("jwks.json"), ISSUER);
    cache.refresh().await.unwrap();
    assert!(
        policy
            .verifier()
            .verify(&hand_made_token("kid-1"))
            .await
            .is_ok()
    );
    assert!(policy.health().ready);
}

/// Whoever can write the snapshot can plant a key: a file others may write, or a link, is
/// refused.
#[cfg(unix)]
#[tokio::test]
async fn a_snapshot_others_may_write_or_a_link_is_refused() {
    use std::os::unix::fs::PermissionsExt;

    let good_keys = jwks_json("kid-1", SIM_MODULUS)["keys"].clone();
    let good = snapshot_file(ISSUER, SystemTime::now(), good_keys);
    let dir = Dir::new("permissions");
    let clerk = Clerk::default();
    clerk.down.store(true, Ordering::SeqCst);

    std::fs::write(dir.file(), &good).unwrap();
    std::fs::set_permissions(dir.file(), std::fs::Permissions::from_mode(0o664)).unwrap();
    let (policy, cache) = service(&clerk, &dir.file(), ISSUER);
    assert!(cache.refresh().await.is_err());
    assert!(
        !policy.health().ready,
        "a group-writable snapshot is not trusted"
    );

    let real = dir.0.join("real.json");
    std::fs::write(&real, &good).unwrap();
    let link = dir.0.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (policy, cache) = service(&clerk, &link, ISSUER);
    assert!(cache.refresh().await.is_err());
    assert!(!policy.health().ready, "a link is not followed");

    let (policy, cache) = service(&clerk, &real, ISSUER);
    assert!(cache.refresh().await.is_err());
    assert!(
        policy.health().ready,
        "the same content, as a private regular file, is used"
    );
}

/// A key set that also serves a key type a snapshot may not hold is saved without it, so
/// the snapshot stays usable.
#[tokio::test]
async fn only_rsa_keys_are_saved() {
    #[derive(Clone)]
    struct Mixed;

    #[async_trait]
    impl JwksSource for Mixed {
        async fn fetch(&self) -> Result<Jwks, KeyFetchError> {
            let mut jwks = jwks_json("kid-1", SIM_MODULUS);
            jwks["keys"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"kid": "ec-1", "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}));
            Ok(serde_json::from_value(jwks).unwrap())
        }

        fn name(&self) -> &'static str {
            "mixed"
        }
    }

    let dir = Dir::new("mixed");
    let cache = JwksCache::new(Mixed, JwksCacheConfig::default())
        .with_snapshot(FileSnapshotStore::new(dir.file()), Some(ISSUER.to_owned()));
    cache.refresh().await.unwrap();
    let saved = FileSnapshotStore::new(dir.file())
        .load()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.jwks.keys.len(), 1);
    assert!(
        saved
            .check(Some(ISSUER), Some(Duration::from_secs(60)))
            .is_ok()
    );
}
