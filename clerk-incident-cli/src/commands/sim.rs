//! `clerk-incident sim`: serve the simulated Clerk until Ctrl-C.

use std::time::Duration;

use clerk_incident_core::auth::{ENV_HEALTH_TOKEN, ENV_OPERATOR_ORG};
use clerk_incident_sim::{
    Faults, Outage, RateLimitFault, Sim, SimBuilder, StatusPage, StatusPageFormat,
};
use serde_json::json;

use crate::cli::{OutageArg, SimArgs, StatusPageFormatArg};
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

/// Starts a sim, or says on stderr why it could not.
pub(crate) async fn start(builder: SimBuilder) -> Result<Sim, Exit> {
    builder.start().await.map_err(|err| {
        terminal::problem(&format!(
            "cannot start the sim: {}",
            terminal::error_chain(&err)
        ));
        Exit::Failure
    })
}

pub(crate) async fn run(global: &GlobalArgs, args: &SimArgs) -> Exit {
    let builder = Sim::builder()
        .bind(args.bind)
        .users(args.users)
        .sessions(args.sessions)
        .seed(args.seed)
        .status_page(
            StatusPage::operational().in_format(match args.status_page_format {
                StatusPageFormatArg::IncidentIo => StatusPageFormat::IncidentIo,
                StatusPageFormatArg::Statuspage => StatusPageFormat::Statuspage,
            }),
        )
        .faults(faults(args));
    let sim = match start(builder).await {
        Ok(sim) => sim,
        Err(exit) => return exit,
    };
    if let Some(url) = &args.webhook_url
        && let Err(err) = sim.set_webhook_endpoint(Some(url.clone()))
    {
        terminal::problem(&format!("--webhook-url: {err}"));
        sim.shutdown().await;
        return Exit::Usage;
    }

    let exports = exports(&sim);
    if global.json {
        let vars: serde_json::Map<String, serde_json::Value> = exports
            .iter()
            .map(|(name, value)| ((*name).to_owned(), json!(value)))
            .collect();
        terminal::json_line(&json!({ "base_url": sim.base_url(), "env": vars }));
    } else {
        terminal::out(format!(
            "# simulated Clerk at {} ({} users, {} sessions, seed {}); Ctrl-C stops it",
            sim.base_url(),
            args.users,
            args.sessions,
            args.seed
        ));
        terminal::out("# point the other commands and the example services at it:");
        for (name, value) in &exports {
            terminal::out(format!("export {name}={value}"));
        }
        terminal::out(
            "# a session token for the seeded admin: clerk-incident sim token (with these exports)",
        );
        terminal::out(format!(
            "# drive it: curl {}/_sim/counters ; curl -X PUT {}/_sim/faults -d '{{\"outage\":\"unavailable\"}}' -H 'content-type: application/json'",
            sim.base_url(),
            sim.base_url()
        ));
        terminal::out(match sim.webhook_endpoint() {
            Some(endpoint) => format!(
                "# webhooks: user events are delivered to {endpoint}, signed with CLERK_WEBHOOK_SIGNING_SECRET"
            ),
            None => format!(
                "# webhooks: none delivered; start with --webhook-url URL, or curl -X PUT {}/_sim/webhooks -d '{{\"endpoint\":\"URL\"}}' -H 'content-type: application/json'",
                sim.base_url()
            ),
        });
        terminal::out(format!(
            "# its status page ({}): curl {}/_sim/status-page, then PUT it back changed",
            match args.status_page_format {
                StatusPageFormatArg::IncidentIo => "incident.io widget at /proxy/<host>",
                StatusPageFormatArg::Statuspage => "Statuspage at /api/v2/summary.json",
            },
            sim.base_url()
        ));
    }

    // Ctrl-C, or SIGTERM from a supervisor.
    crate::interrupt::signal().await;
    sim.shutdown().await;
    Exit::Ok
}

/// The environment that points every command and example at `sim`. The secret key is the
/// sim's own, a public test value; the operators are the `org:admin`s of the seeded admin's
/// organisation; the health token is fresh for each run.
pub(crate) fn exports(sim: &Sim) -> Vec<(&'static str, String)> {
    let mut exports = vec![
        ("CLERK_API_URL", sim.base_url().to_owned()),
        ("CLERK_STATUS_URL", sim.base_url().to_owned()),
        ("CLERK_SECRET_KEY", sim.secret_key().to_owned()),
        ("CLERK_JWKS_URL", sim.jwks_url()),
        ("CLERK_ISSUER", sim.issuer()),
        (
            "CLERK_AUTHORIZED_PARTIES",
            clerk_incident_sim::DEFAULT_AZP.to_owned(),
        ),
    ];
    let admin = sim.admin_user_id();
    let operator_org = sim
        .users()
        .into_iter()
        .find(|user| Some(&user.id) == admin.as_ref())
        .and_then(|user| user.membership)
        .map(|membership| membership.organization_id);
    if let Some(org) = operator_org {
        exports.push((ENV_OPERATOR_ORG, org));
    }
    exports.push((ENV_HEALTH_TOKEN, random_token()));
    // The sim's own test values, as Clerk's Dashboard shows them for an instance.
    exports.push(("CLERK_PUBLISHABLE_KEY", sim.publishable_key()));
    exports.push(("CLERK_WEBHOOK_SIGNING_SECRET", sim.webhook_secret()));
    exports
}

/// 32 hex digits from the standard library's per-process random hasher keys: unguessable
/// enough for a health token on a simulated Clerk's loopback.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut token = String::with_capacity(32);
    for part in 0_u8..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u8(part);
        token.push_str(&format!("{:016x}", hasher.finish()));
    }
    token
}

fn faults(args: &SimArgs) -> Faults {
    Faults {
        outage: args.outage.map(|outage| match outage {
            OutageArg::Unavailable => Outage::Unavailable,
            OutageArg::Hang => Outage::Hang,
        }),
        latency_ms: args.latency.map_or(0, |latency| {
            u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)
        }),
        error_rate: args.error_rate.unwrap_or(0.0),
        rate_limit: args
            .rate_limit
            .map(|(requests, window): (u32, Duration)| RateLimitFault {
                requests,
                window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            }),
        failing_endpoints: Vec::new(),
    }
}
