//! Drill phases for runbook step 1's first checks: the status page and Backend API
//! connectivity, in normal operation, during a Clerk outage, and after recovery.

use std::time::Duration;

use clerk_incident_core::api::UserQuery;
use clerk_incident_core::triage::status_page::{self, Indicator};
use clerk_incident_sim::{Faults, Outage, StatusPage};

use super::{Drill, Observation, Recorder};
use crate::terminal;

const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) async fn run(drill: &Drill, rec: &mut Recorder) {
    rec.phase("Phase 1", "normal operation");
    rec.step("status page", check_status(drill, Expect::Healthy))
        .await;
    rec.step("Backend API", check_api(drill, Expect::Healthy))
        .await;

    rec.phase(
        "Phase 2",
        "Clerk outage: the status page reports a major outage, the API answers 503",
    );
    drill.sim().set_status_page(StatusPage::major_outage());
    drill.sim().set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    rec.step("status page", check_status(drill, Expect::Outage))
        .await;
    rec.step("Backend API", check_api(drill, Expect::Outage))
        .await;

    rec.phase("Phase 3", "recovery: Clerk is back");
    drill.sim().set_faults(Faults::default());
    drill.sim().set_status_page(StatusPage::operational());
    rec.step("status page", check_status(drill, Expect::Healthy))
        .await;
    rec.step("Backend API", check_api(drill, Expect::Healthy))
        .await;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Healthy,
    Outage,
}

async fn check_status(drill: &Drill, expect: Expect) -> Observation {
    match status_page::fetch(drill.http(), drill.sim().base_url(), STATUS_TIMEOUT).await {
        Ok(report) => {
            let outage = matches!(report.indicator, Indicator::Major | Indicator::Critical);
            let observed = report.to_string();
            match (expect, report.is_operational(), outage) {
                (Expect::Healthy, true, _) | (Expect::Outage, _, true) => {
                    Observation::expected(observed)
                }
                _ => Observation::unexpected(observed),
            }
        }
        Err(err) => Observation::unexpected(terminal::error_chain(&err)),
    }
}

async fn check_api(drill: &Drill, expect: Expect) -> Observation {
    let api = drill.api();
    let result = async {
        let instance = api.instance().await?;
        let users = api.count_users(&UserQuery::new()).await?;
        Ok::<_, clerk_incident_core::api::ApiError>((instance, users))
    }
    .await;
    match (expect, result) {
        (Expect::Healthy, Ok((instance, users))) => Observation::expected(format!(
            "reachable: instance {} ({}), {users} users",
            instance.id, instance.environment_type
        )),
        (Expect::Outage, Err(err)) if err.status() == Some(503) => {
            Observation::expected(format!("unavailable as expected: {err}"))
        }
        (_, Ok(_)) => Observation::unexpected("reachable, but an outage was injected"),
        (_, Err(err)) => Observation::unexpected(terminal::error_chain(&err)),
    }
}
