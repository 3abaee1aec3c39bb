//! The fleet store contract and the fleet's semantics on the in-memory store.

use std::sync::Arc;

use clerk_incident_conformance::fleet_jobs::{
    check_a_job_resumed_after_its_holder_stopped, check_job_store_contract,
    check_jobs_without_the_store, check_one_job_for_the_fleet,
    check_orphans_that_cannot_run_are_ended,
};
use clerk_incident_conformance::fleet_shared::{
    check_budget_contract, check_denylist_contract,
    check_keys_for_an_instance_started_in_an_outage, check_revoked_sessions_refused_everywhere,
};
use clerk_incident_conformance::fleet_store::{
    check_expiry_without_the_store, check_restart_empty, check_store_contract, check_switching,
};
use clerk_incident_core::fleet::{FleetStore, MemoryFleetStore};

#[tokio::test]
async fn the_memory_store_keeps_the_contract() {
    let store = MemoryFleetStore::new();
    check_store_contract(Arc::new(store.clone()), Arc::new(store.connection())).await;
}

#[tokio::test]
async fn a_write_switches_every_member() {
    let store = MemoryFleetStore::new();
    check_switching(Arc::new(store.clone()), || {
        Arc::new(store.connection()) as Arc<dyn FleetStore>
    })
    .await;
}

#[tokio::test]
async fn a_member_cut_off_from_the_store_expires_on_time() {
    let store = MemoryFleetStore::new();
    let lost = store.connection();
    let cut = lost.clone();
    check_expiry_without_the_store(Arc::new(store), Arc::new(lost), move || {
        cut.set_reachable(false);
    })
    .await;
}

#[tokio::test]
async fn a_store_restarted_empty_means_enforce() {
    let store = MemoryFleetStore::new();
    let restart = store.clone();
    check_restart_empty(
        Arc::new(store.clone()),
        Arc::new(store.connection()),
        async move || {
            restart.clear();
        },
    )
    .await;
}

#[tokio::test]
async fn an_instance_started_in_an_outage_verifies_with_the_fleets_keys() {
    let store = MemoryFleetStore::new();
    check_keys_for_an_instance_started_in_an_outage(
        Arc::new(store.connection()),
        &store,
        "memory://",
    )
    .await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_denylist_contract() {
    let store = MemoryFleetStore::new();
    check_denylist_contract(Arc::new(store.clone()), Arc::new(store.connection())).await;
}

#[tokio::test]
async fn a_revoked_session_is_refused_everywhere() {
    let store = MemoryFleetStore::new();
    let replica = store.connection();
    let cut = replica.clone();
    let (restart, back) = (store.clone(), replica.clone());
    check_revoked_sessions_refused_everywhere(
        Arc::new(store.clone()),
        Arc::new(replica),
        move || cut.set_reachable(false),
        async move || {
            restart.clear();
            back.set_reachable(true);
        },
    )
    .await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_budget_contract() {
    let store = MemoryFleetStore::new();
    check_budget_contract(Arc::new(store.clone()), Arc::new(store.connection())).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_job_store_contract() {
    let store = MemoryFleetStore::new();
    check_job_store_contract(Arc::new(store.clone()), Arc::new(store.connection())).await;
}

#[tokio::test]
async fn one_revocation_job_runs_for_the_fleet_and_is_cancelled_from_another_replica() {
    let store = MemoryFleetStore::new();
    check_one_job_for_the_fleet(Arc::new(store.connection()), Arc::new(store.connection())).await;
}

#[tokio::test]
async fn a_job_whose_holder_was_cut_off_is_resumed_elsewhere_with_exact_counts() {
    let store = MemoryFleetStore::new();
    let holder = store.connection();
    let cut = holder.clone();
    check_a_job_resumed_after_its_holder_stopped(
        Arc::new(holder),
        Arc::new(store.connection()),
        move || cut.set_reachable(false),
    )
    .await;
}

#[tokio::test]
async fn no_job_runs_without_the_store_and_one_runs_once_it_is_back_empty() {
    let store = MemoryFleetStore::new();
    let (a, b) = (store.connection(), store.connection());
    let (cut_a, cut_b) = (a.clone(), b.clone());
    let (back_a, back_b) = (a.clone(), b.clone());
    check_jobs_without_the_store(
        Arc::new(a),
        Arc::new(b),
        move || {
            cut_a.set_reachable(false);
            cut_b.set_reachable(false);
        },
        async move || {
            store.clear();
            back_a.set_reachable(true);
            back_b.set_reachable(true);
        },
    )
    .await;
}

#[tokio::test]
async fn orphaned_jobs_that_cannot_run_are_ended() {
    check_orphans_that_cannot_run_are_ended(Arc::new(MemoryFleetStore::new())).await;
}
