//! `clerk-incident triage`: runbook step 1, what is wrong.

use std::sync::Arc;

use clerk_incident_core::api::SecretKey;
use clerk_incident_core::auth::{ENV_HEALTH_TOKEN, ENV_SECRET_KEY, HealthToken};
use clerk_incident_core::http::{HttpClient, ReqwestClient};
use clerk_incident_core::incident::{EntryKind, IncidentLog};
use clerk_incident_core::triage::{
    self, Category, ProbeName, Severity, Symptom, TriageConfig, TriageReport,
};
use serde_json::{Value, json};

use crate::cli::{ProbeArg, SymptomArg, TriageArgs};
use crate::commands::incident;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

/// The path the adapters serve the auth health at.
const HEALTH_PATH: &str = "/api/clerk-health";

pub(crate) async fn run(global: &GlobalArgs, args: &TriageArgs) -> Exit {
    if let Err(problem) = check_skips(args) {
        terminal::problem(&problem);
        return Exit::Usage;
    }
    let http: Arc<dyn HttpClient> = match ReqwestClient::new() {
        Ok(http) => Arc::new(http),
        Err(err) => {
            terminal::problem(&terminal::error_chain(&err));
            return Exit::Failure;
        }
    };
    let mut config = config(args, SecretKey::from_env(ENV_SECRET_KEY));
    match std::env::var(ENV_HEALTH_TOKEN) {
        Ok(token) if !token.trim().is_empty() => match HealthToken::new(token.trim()) {
            Ok(token) => config = config.app_health_token(token),
            Err(err) => {
                terminal::problem(&err.to_string());
                return Exit::Usage;
            }
        },
        _ => {}
    }
    let mut report = triage::run(http, &config).await;
    report.classification.next_commands = next_commands(&report, args.app_url.as_deref());
    let exit = exit_for(&report);

    let recorded = args.incident.as_ref().map(|path| record(path, &report));
    let recorded_in = match (&args.incident, &recorded) {
        (Some(path), Some(Ok(()))) => Some(path),
        _ => None,
    };
    if global.json {
        let mut document = serde_json::to_value(&report).unwrap_or(Value::Null);
        if let Some(object) = document.as_object_mut() {
            object.insert("exit_code".into(), json!(exit as u8));
            object.insert("recorded_in".into(), json!(recorded_in));
        }
        terminal::json(&document);
    } else {
        terminal::out(report.to_string().trim_end());
        if let Some(path) = recorded_in {
            terminal::out(format!("\nRecorded in {}.", path.display()));
        }
    }
    match recorded {
        Some(Err(problem)) => {
            terminal::problem(&problem);
            Exit::Failure
        }
        _ => exit,
    }
}

/// The triage configuration the arguments and the environment describe.
fn config(args: &TriageArgs, key: Option<SecretKey>) -> TriageConfig {
    let mut config = TriageConfig::new(&args.status.status_url)
        .timeout(args.timeout)
        .symptoms(args.symptoms.iter().map(|s| symptom(*s)));
    if let Some(key) = key {
        config = config.secret_key(&args.api.api_url, key);
    }
    if let Some(url) = &args.jwks_url {
        config = config.jwks_url(url);
    }
    if let Some(kid) = &args.expected_kid {
        config = config.expected_kid(kid);
    }
    if let Some(url) = &args.app_url {
        config = config.app_health_url(health_url(url));
    }
    args.skip
        .iter()
        .fold(config, |config, probe| config.skip(probe_name(*probe)))
}

fn probe_name(arg: ProbeArg) -> ProbeName {
    match arg {
        ProbeArg::StatusPage => ProbeName::StatusPage,
        ProbeArg::Api => ProbeName::BackendApi,
        ProbeArg::Jwks => ProbeName::Jwks,
        ProbeArg::App => ProbeName::AppHealth,
    }
}

/// `--skip` that contradicts the other flags, or leaves nothing to check.
fn check_skips(args: &TriageArgs) -> Result<(), String> {
    let skips = |probe| args.skip.contains(&probe);
    if skips(ProbeArg::App) && args.app_url.is_some() {
        return Err("--skip app and --app-url contradict each other: give one".to_owned());
    }
    if skips(ProbeArg::Jwks) && args.expected_kid.is_some() {
        return Err("--skip jwks and --expected-kid contradict each other: give one".to_owned());
    }
    if [
        ProbeArg::StatusPage,
        ProbeArg::Api,
        ProbeArg::Jwks,
        ProbeArg::App,
    ]
    .into_iter()
    .all(skips)
    {
        return Err("--skip leaves nothing to check: drop at least one".to_owned());
    }
    Ok(())
}

fn symptom(arg: SymptomArg) -> Symptom {
    match arg {
        SymptomArg::UnauthorizedAccess => Symptom::UnauthorizedAccess,
        SymptomArg::RandomLogouts => Symptom::RandomLogouts,
        SymptomArg::UsersMissing => Symptom::UsersMissing,
    }
}

/// `URL/api/clerk-health`, unless the URL already names the health path.
fn health_url(app_url: &str) -> String {
    let base = app_url.trim_end_matches('/');
    if base.ends_with(HEALTH_PATH) {
        base.to_owned()
    } else {
        format!("{base}{HEALTH_PATH}")
    }
}

/// The report's next commands, with the app URL filled in when it was given.
fn next_commands(report: &TriageReport, app_url: Option<&str>) -> Vec<String> {
    report
        .classification
        .next_commands
        .iter()
        .map(|line| match app_url {
            Some(url) => line.replace("<app-url>", url.trim_end_matches('/')),
            None => line.clone(),
        })
        .collect()
}

/// The exit code scripts branch on: the severity, or "unknown".
pub(crate) fn exit_for(report: &TriageReport) -> Exit {
    if report.classification.category == Category::Unknown {
        return Exit::TriageUnknown;
    }
    match report.classification.severity {
        Severity::None => Exit::Ok,
        Severity::Low => Exit::TriageLow,
        Severity::Medium => Exit::TriageMedium,
        Severity::High => Exit::TriageHigh,
        _ => Exit::TriageCritical,
    }
}

/// Appends the result to the incident log at `path`.
fn record(path: &std::path::Path, report: &TriageReport) -> Result<(), String> {
    let log = IncidentLog::open(path).map_err(|err| incident::explain(&err))?;
    log.append(EntryKind::from(report))
        .map_err(|err| incident::explain(&err))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_urls_are_built_once() {
        assert_eq!(
            health_url("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/api/clerk-health"
        );
        assert_eq!(
            health_url("https://app.example.com/api/clerk-health"),
            "https://app.example.com/api/clerk-health"
        );
    }

    #[test]
    fn exit_codes_follow_severity_and_unknown() {
        let report = |category, severity| {
            let mut report = TriageReport::new(
                triage::classify(&[], &[]),
                Vec::new(),
                Vec::new(),
                std::time::Duration::ZERO,
            );
            report.classification.category = category;
            report.classification.severity = severity;
            report
        };
        assert_eq!(
            exit_for(&report(Category::Healthy, Severity::None)),
            Exit::Ok
        );
        assert_eq!(
            exit_for(&report(Category::SessionIssues, Severity::Low)) as u8,
            10
        );
        assert_eq!(
            exit_for(&report(Category::WebhookBacklog, Severity::Medium)) as u8,
            11
        );
        assert_eq!(
            exit_for(&report(Category::MiddlewareFailure, Severity::High)) as u8,
            12
        );
        assert_eq!(
            exit_for(&report(Category::ClerkOutage, Severity::Critical)) as u8,
            13
        );
        assert_eq!(
            exit_for(&report(Category::Unknown, Severity::Medium)) as u8,
            14
        );
    }
}
