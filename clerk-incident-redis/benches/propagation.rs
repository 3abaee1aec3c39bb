//! How fast one write of the fleet's mode reaches every instance, on a local `redis-server`
//! (documented in docs/benchmarks.md):
//!
//! ```text
//! cargo bench -p clerk-incident-redis --bench propagation            # 10 and 50 instances, 100 writes each
//! INSTANCES=10,50,100 ROUNDS=200 cargo bench -p clerk-incident-redis --bench propagation
//! ```
//!
//! Each instance is a [`FleetMember`] with its own Redis connections (commands and pub/sub)
//! and the default periods (heartbeat 2 s, read 5 s), all in this process. Each round writes
//! the next mode (Grace for 10 minutes, then Enforce, alternately) and measures, from just
//! before the write:
//!
//! - **applied**: until the last instance's `BypassSwitch` changed (its change event);
//! - **acknowledged**: until the last instance's heartbeat in Redis shows the new version,
//!   read in a loop every millisecond (what `clerk-incident bypass` waits for, without its
//!   20 ms polling step).
//!
//! Prints p50, p99 and the maximum of each, per fleet size. The goal: acknowledged p99 under
//! 250 ms for 10 and 50 instances.

// A benchmark: a failure stops it loudly.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clerk_incident_core::auth::{AuthMode, BypassSwitch, DEFAULT_GRACE_MAX_AGE};
use clerk_incident_core::fleet::{FleetConfig, FleetMember, FleetStore, ModeRequest};
use clerk_incident_redis::{RedisFleetStore, TestServer};

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|n| n.trim().parse().expect("a number"))
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    format!(
        "p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    )
}

async fn fleet_of(
    server: &TestServer,
    name: &str,
    size: usize,
) -> (Vec<BypassSwitch>, Vec<FleetMember>) {
    let mut switches = Vec::new();
    let mut members = Vec::new();
    for i in 0..size {
        let switch = BypassSwitch::new();
        let store = Arc::new(RedisFleetStore::open(&server.url(), name).unwrap());
        let config = FleetConfig::default().with_instance_id(format!("bench-{i:03}"));
        members.push(FleetMember::join(store, switch.clone(), None, config).unwrap());
        switches.push(switch);
    }
    (switches, members)
}

async fn round(
    writer: &RedisFleetStore,
    switches: &[BypassSwitch],
    mode: AuthMode,
) -> (Duration, Duration) {
    let mut receivers: Vec<_> = switches.iter().map(BypassSwitch::subscribe).collect();
    let until = mode
        .is_bypass()
        .then(|| SystemTime::now() + Duration::from_secs(600));
    let request = ModeRequest::new(mode, until, "propagation benchmark", "bench").unwrap();
    let started = Instant::now();
    let written = writer.set_desired(request).await.unwrap();
    let applied = async {
        for receiver in &mut receivers {
            receiver.recv().await.unwrap();
        }
        started.elapsed()
    };
    let acknowledged = async {
        loop {
            let live = writer.instances().await.unwrap();
            if live.len() == switches.len()
                && live
                    .iter()
                    .all(|beat| beat.applied_version >= written.version)
            {
                break started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(applied, acknowledged)
    })
    .await
    .expect("every instance applied and acknowledged within 30 s")
}

#[tokio::main]
async fn main() {
    let sizes = env_list("INSTANCES", "10,50");
    let rounds = env_list("ROUNDS", "100")[0];
    let server = TestServer::start().unwrap_or_else(|error| panic!("{error}"));
    println!(
        "redis-server on 127.0.0.1:{}; {rounds} writes per fleet size",
        server.port()
    );
    for size in sizes {
        let name = format!("bench-{size}");
        let (switches, _members) = fleet_of(&server, &name, size).await;
        let writer = RedisFleetStore::open(&server.url(), &name).unwrap();
        while writer.instances().await.unwrap().len() < size {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let grace = AuthMode::Grace {
            max_token_age: DEFAULT_GRACE_MAX_AGE,
        };
        let mut applied = Vec::new();
        let mut acknowledged = Vec::new();
        // One warm-up write (connections, script cache), not counted.
        round(&writer, &switches, grace).await;
        round(&writer, &switches, AuthMode::Enforce).await;
        for i in 0..rounds {
            let mode = if i % 2 == 0 { grace } else { AuthMode::Enforce };
            let (a, b) = round(&writer, &switches, mode).await;
            applied.push(a);
            acknowledged.push(b);
        }
        println!("{size:>4} instances  applied       {}", summary(applied));
        println!(
            "{size:>4} instances  acknowledged  {}",
            summary(acknowledged)
        );
    }
}
