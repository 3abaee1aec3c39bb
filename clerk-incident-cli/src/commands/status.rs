//! `clerk-incident status`: Clerk's status page in one line.

use clerk_incident_core::http::ReqwestClient;
use clerk_incident_core::triage::status_page::{
    self, ComponentStatus, Indicator, StatusPageReport,
};
use serde_json::json;

use crate::cli::StatusArgs;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

pub(crate) async fn run(global: &GlobalArgs, args: &StatusArgs) -> Exit {
    let http = match ReqwestClient::new() {
        Ok(http) => http,
        Err(err) => {
            terminal::problem(&terminal::error_chain(&err));
            return Exit::Failure;
        }
    };
    match status_page::fetch(&http, &args.status.status_url, args.timeout).await {
        Ok(report) => {
            let exit = exit_for(&report);
            if global.json {
                terminal::json(&json!({ "operational": exit == Exit::Ok, "report": report }));
            } else {
                terminal::out(format!("Clerk status: {} — {report}", label(exit)));
            }
            exit
        }
        Err(err) => {
            let reason = terminal::error_chain(&err);
            if global.json {
                terminal::json(&json!({ "operational": false, "error": reason }));
            } else {
                terminal::out(format!(
                    "Clerk status: unknown — {reason} ({})",
                    args.status.status_url
                ));
            }
            Exit::Unknown
        }
    }
}

/// The exit code a status page report maps to.
pub(crate) fn exit_for(report: &StatusPageReport) -> Exit {
    let component_down = report
        .components
        .iter()
        .any(|c| c.status == ComponentStatus::MajorOutage);
    match report.indicator {
        _ if report.is_operational() => Exit::Ok,
        Indicator::Major | Indicator::Critical => Exit::Outage,
        _ if component_down => Exit::Outage,
        Indicator::Unknown if report.components.is_empty() => Exit::Unknown,
        _ => Exit::Degraded,
    }
}

fn label(exit: Exit) -> &'static str {
    match exit {
        Exit::Ok => "operational",
        Exit::Degraded => "DEGRADED",
        Exit::Outage => "OUTAGE",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_map_to_exit_codes() {
        let parse = |json: &str| StatusPageReport::parse(json.as_bytes());
        assert_eq!(
            exit_for(&parse(r#"{"status":{"indicator":"none"}}"#)),
            Exit::Ok
        );
        assert_eq!(
            exit_for(&parse(r#"{"status":{"indicator":"minor"}}"#)),
            Exit::Degraded
        );
        assert_eq!(
            exit_for(&parse(r#"{"status":{"indicator":"critical"}}"#)),
            Exit::Outage
        );
        assert_eq!(exit_for(&parse("garbage")), Exit::Unknown);
        assert_eq!(
            exit_for(&parse(
                r#"{"status":{"indicator":"none"},"components":[{"name":"API","status":"major_outage"}]}"#
            )),
            Exit::Outage
        );
    }
}
