//! The classifier: probe results and reported symptoms in, category, severity, evidence and
//! next commands out.
//!
//! [`RULES`] is the whole decision, one row per situation, evaluated top to bottom; the first
//! rule whose predicate holds wins, and the last one always holds. To change how triage
//! decides, edit the table: each predicate is a one-line function over [`Facts`], the
//! normalised view of the probes.

use serde::Serialize;

use super::category::{Category, Severity};
use super::probe::{ProbeName, ProbeOutcome, ProbeResult};
use super::symptom::Symptom;

mod facts;

use self::facts::{Api, App, Bypass, Facts, Jwks, Page, Probe};
use super::status_page::Area;

/// Where a piece of evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EvidenceSource {
    /// A probe.
    Probe(ProbeName),
    /// The operator, through a reported [`Symptom`].
    Operator,
}

/// One fact that decided the classification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Evidence {
    /// Where it comes from.
    pub source: EvidenceSource,
    /// What it says, on one line.
    pub detail: String,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// A classification: what [`classify`] decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Classification {
    /// The incident category.
    pub category: Category,
    /// How bad it is.
    pub severity: Severity,
    /// The name of the rule that decided, such as `status_page_outage`.
    pub rule: &'static str,
    /// The rule's reading of the situation, one sentence.
    pub summary: &'static str,
    /// The evidence that decided it.
    pub evidence: Vec<Evidence>,
    /// What to run next, as shell lines (a `#` comment says why).
    pub next_commands: Vec<String>,
}

/// One row of the rule table, as [`rules`] lists it (for documentation and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RuleInfo {
    /// The rule's name.
    pub name: &'static str,
    /// When it applies, one sentence.
    pub when: &'static str,
    /// The category it gives.
    pub category: Category,
    /// The severity it gives.
    pub severity: Severity,
    /// The commands it suggests.
    pub next_commands: &'static [&'static str],
}

/// Every rule, in evaluation order.
pub fn rules() -> impl Iterator<Item = RuleInfo> {
    RULES.iter().map(|rule| RuleInfo {
        name: rule.name,
        when: rule.when,
        category: rule.category,
        severity: rule.severity,
        next_commands: rule.next,
    })
}

/// Classifies what the probes found and the operator reports. Never fails: when nothing
/// decides, the answer is [`Category::Unknown`].
///
/// Each probe name is read once (the first result wins); a probe missing from `probes` counts
/// as not checked, so it caps the verdict at unknown.
pub fn classify(probes: &[ProbeResult], symptoms: &[Symptom]) -> Classification {
    let facts = Facts::from_probes(probes, symptoms);
    let rule = RULES
        .iter()
        .find(|rule| (rule.applies)(&facts))
        .unwrap_or(&INCONCLUSIVE);
    let mut evidence: Vec<Evidence> = ProbeName::ALL
        .into_iter()
        .filter(|name| rule.sources.contains(&EvidenceSource::Probe(*name)))
        .filter_map(|name| probes.iter().find(|p| p.name == name))
        .filter(|probe| !matches!(probe.outcome, ProbeOutcome::Skipped { .. }))
        .map(|probe| Evidence {
            source: EvidenceSource::Probe(probe.name),
            detail: format!("{}: {}", probe.name.title(), probe.summary()),
        })
        .collect();
    if rule.sources.contains(&EvidenceSource::Operator) {
        evidence.extend(facts.symptoms.iter().map(|symptom| Evidence {
            source: EvidenceSource::Operator,
            detail: format!("operator reports {}", symptom.description()),
        }));
    }
    Classification {
        category: rule.category,
        severity: rule.severity,
        rule: rule.name,
        summary: rule.when,
        evidence,
        next_commands: rule.next.iter().map(|line| (*line).to_owned()).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// The rules.
// ---------------------------------------------------------------------------------------------

/// One row of the table.
struct Rule {
    name: &'static str,
    when: &'static str,
    applies: fn(&Facts) -> bool,
    category: Category,
    severity: Severity,
    /// Whose evidence is quoted.
    sources: &'static [EvidenceSource],
    next: &'static [&'static str],
}

use EvidenceSource::Operator;
const PAGE: EvidenceSource = EvidenceSource::Probe(ProbeName::StatusPage);
const API: EvidenceSource = EvidenceSource::Probe(ProbeName::BackendApi);
const JWKS: EvidenceSource = EvidenceSource::Probe(ProbeName::Jwks);
const APP: EvidenceSource = EvidenceSource::Probe(ProbeName::AppHealth);
const CLERK: &[EvidenceSource] = &[PAGE, API, JWKS];
const ALL: &[EvidenceSource] = &[PAGE, API, JWKS, APP, Operator];

const NEXT_OUTAGE: &[&str] = &[
    "clerk-incident incident start --incident incident.jsonl --title 'Clerk outage' --severity critical --category clerk_outage",
    "CLERK_EMERGENCY_BYPASS=grace CLERK_EMERGENCY_BYPASS_UNTIL=$(date -u -d '+45 min' +%FT%TZ) <restart the service>   # signed-in users stay in",
    "clerk-incident triage --app-url <app-url> --incident incident.jsonl   # confirm the app runs in grace",
    "clerk-incident status   # until Clerk is operational; then restart without the bypass",
];

/// The rule table, evaluated top to bottom; the first that applies decides.
const RULES: &[Rule] = &[
    Rule {
        name: "no_answer",
        when: "No probe got an answer: every one timed out or could not connect.",
        applies: |f| {
            let runs = f.runs();
            runs.iter().any(|(ran, _)| *ran) && runs.iter().all(|(ran, none)| !ran || *none)
        },
        category: Category::Unknown,
        severity: Severity::Medium,
        sources: ALL,
        next: &[
            "curl -sS https://status.clerk.com/proxy/status.clerk.com   # does this machine reach the internet?",
            "clerk-incident triage --timeout 15s   # again, once the network is ruled out",
        ],
    },
    Rule {
        name: "key_compromise",
        when: "Unauthorized access is reported and the secret key still works (or was just revoked).",
        applies: |f| {
            f.reports(Symptom::UnauthorizedAccess)
                && matches!(f.api, Probe::Answered(Api::Ok | Api::Unauthorized))
        },
        category: Category::KeyCompromise,
        severity: Severity::Critical,
        sources: &[Operator, API, APP],
        next: &[
            "clerk-incident incident start --incident incident.jsonl --title 'Secret key compromise' --severity critical --category key_compromise",
            "# roll the secret key in the Clerk Dashboard (API keys) and deploy the new one, then:",
            "export CLERK_NEW_SECRET_KEY=…   # the new key; never a flag",
            "clerk-incident keys verify-new --incident incident.jsonl   # the new key opens the same instance",
            "clerk-incident sessions revoke --all --exclude-user user_… --dry-run   # then without --dry-run",
        ],
    },
    Rule {
        name: "status_page_outage",
        when: "Clerk's status page reports a major outage of sign-in and the Backend API is not known to work.",
        applies: |f| {
            f.page == Probe::Answered(Page::Outage)
                && f.page_trouble_in(Area::SignIn)
                && f.api != Probe::Answered(Api::Ok)
        },
        category: Category::ClerkOutage,
        severity: Severity::Critical,
        sources: CLERK,
        next: NEXT_OUTAGE,
    },
    Rule {
        name: "clerk_server_errors",
        when: "The Backend API or the JWKS answers 5xx.",
        applies: |f| {
            f.api == Probe::Answered(Api::ServerError)
                || f.jwks == Probe::Answered(Jwks::ServerError)
        },
        category: Category::ClerkOutage,
        severity: Severity::Critical,
        sources: CLERK,
        next: NEXT_OUTAGE,
    },
    Rule {
        name: "clerk_unreachable_status_operational",
        when: "The Backend API or the JWKS does not answer from here, yet the status page says all is operational: check this network and the URLs first.",
        applies: |f| {
            (f.api.no_answer() || f.jwks.no_answer())
                && f.page == Probe::Answered(Page::Operational)
        },
        category: Category::Unknown,
        severity: Severity::Medium,
        sources: CLERK,
        next: &[
            "curl -sS -o /dev/null -w '%{http_code}\\n' \"${CLERK_API_URL:-https://api.clerk.com}/v1/users\"   # 401 means Clerk answers",
            "clerk-incident triage --timeout 15s   # again, with a longer timeout",
            "clerk-incident status",
        ],
    },
    Rule {
        name: "clerk_unreachable",
        when: "The Backend API or the JWKS times out or refuses connections, and the status page does not say all is well.",
        applies: |f| f.api.no_answer() || f.jwks.no_answer(),
        category: Category::ClerkOutage,
        severity: Severity::Critical,
        sources: CLERK,
        next: NEXT_OUTAGE,
    },
    Rule {
        name: "status_page_outage_api_ok",
        when: "Clerk's status page reports a major outage of sign-in, but this instance's Backend API answers.",
        applies: |f| f.page == Probe::Answered(Page::Outage) && f.page_trouble_in(Area::SignIn),
        category: Category::ClerkOutage,
        severity: Severity::High,
        sources: CLERK,
        next: &[
            "clerk-incident status   # which components are down?",
            "clerk-incident triage --app-url <app-url> --timeout 5s   # again in a few minutes",
            "CLERK_EMERGENCY_BYPASS=grace CLERK_EMERGENCY_BYPASS_UNTIL=$(date -u -d '+45 min' +%FT%TZ) <restart the service>   # if sign-ins fail",
        ],
    },
    Rule {
        name: "status_page_degraded",
        when: "Clerk's status page reports degraded sign-in (or does not say which part).",
        applies: |f| f.page_trouble_in(Area::SignIn),
        category: Category::ClerkOutage,
        severity: Severity::High,
        sources: CLERK,
        next: &[
            "clerk-incident status   # which components are degraded?",
            "clerk-incident triage --app-url <app-url>   # again in a few minutes",
            "CLERK_EMERGENCY_BYPASS=grace CLERK_EMERGENCY_BYPASS_UNTIL=$(date -u -d '+45 min' +%FT%TZ) <restart the service>   # if users cannot refresh their sessions",
        ],
    },
    Rule {
        name: "api_rate_limited",
        when: "The Backend API answers 429: this instance is over its rate limit, and Backend API calls fail until the window passes.",
        applies: |f| f.api == Probe::Answered(Api::RateLimited),
        category: Category::ClerkOutage,
        severity: Severity::High,
        sources: &[API, PAGE],
        next: &[
            "# find the caller exhausting the limit (a batch job, a retry loop, a leaked key), stop it, then:",
            "clerk-incident triage --app-url <app-url>",
        ],
    },
    Rule {
        name: "unauthorized_access_unverified",
        when: "Unauthorized access is reported; the secret key could not be checked.",
        applies: |f| f.reports(Symptom::UnauthorizedAccess),
        category: Category::KeyCompromise,
        severity: Severity::High,
        sources: &[Operator, API, APP],
        next: &[
            "CLERK_SECRET_KEY=… clerk-incident triage --symptom unauthorized-access   # check the key",
            "clerk-incident incident start --incident incident.jsonl --title 'Unauthorized access' --severity high --category key_compromise",
        ],
    },
    Rule {
        name: "secret_key_rejected",
        when: "The Backend API rejects the secret key (401): revoked, mistyped, or from another instance.",
        applies: |f| f.api == Probe::Answered(Api::Unauthorized),
        category: Category::ConfigurationError,
        severity: Severity::High,
        sources: &[API, JWKS],
        next: &[
            "# check CLERK_SECRET_KEY against the Clerk Dashboard (API keys) for this instance",
            "CLERK_NEW_SECRET_KEY=… clerk-incident keys verify-new   # a key of another instance or environment?",
            "clerk-incident triage --symptom unauthorized-access   # if the key may have leaked",
        ],
    },
    Rule {
        name: "app_secret_key_rejected",
        when: "The app's own JWKS fetch is answered 401: the service runs on a rejected secret key (revoked, rolled, or of another instance).",
        applies: |f| f.app_key_rejected,
        category: Category::ConfigurationError,
        severity: Severity::High,
        sources: &[APP, API],
        next: &[
            "# deploy the instance's current secret key (Clerk Dashboard, API keys) to the service and restart it, then:",
            "clerk-incident triage --app-url <app-url>",
        ],
    },
    Rule {
        name: "jwks_missing_kid",
        when: "The JWKS holds no key, or not the key id the app's tokens carry.",
        applies: |f| f.jwks == Probe::Answered(Jwks::MissingKid),
        category: Category::ConfigurationError,
        severity: Severity::High,
        sources: &[JWKS, APP],
        next: &[
            "# check CLERK_JWKS_URL / CLERK_JWT_KEY belong to the instance that issues the tokens",
            "clerk-incident triage --jwks-url <frontend-api>/.well-known/jwks.json --expected-kid <kid>",
        ],
    },
    Rule {
        name: "app_key_refresh_failing",
        when: "The app cannot refresh its keys although Clerk answers this machine; its cached keys still verify, until they are too stale: the app's network or key settings.",
        applies: |f| f.key_refresh_failing && f.app_verifies && f.clerk_answers(),
        category: Category::MiddlewareFailure,
        severity: Severity::Medium,
        sources: &[APP, API, JWKS],
        next: &[
            "# check the service reaches CLERK_API_URL / CLERK_JWKS_URL (egress, proxy, DNS)",
            "curl -sS <app-url>/api/clerk-health",
        ],
    },
    Rule {
        name: "app_health_failing",
        when: "The app's auth health fails (unreachable, 5xx, not ready, or no usable key) while Clerk answers.",
        applies: |f| f.app_down() && f.clerk_answers(),
        category: Category::MiddlewareFailure,
        severity: Severity::High,
        sources: &[APP, PAGE, API, JWKS],
        next: &[
            "# read the service's logs for the middleware's errors and restart it",
            "curl -sS <app-url>/api/clerk-health",
            "CLERK_EMERGENCY_BYPASS=open CLERK_EMERGENCY_BYPASS_UNTIL=$(date -u -d '+30 min' +%FT%TZ) <restart the service>   # last resort, audited",
        ],
    },
    Rule {
        name: "app_failing_clerk_unconfirmed",
        when: "The app's auth health fails, and no probe confirms Clerk works: the cause may be Clerk or the app.",
        applies: |f| f.app_down(),
        category: Category::Unknown,
        severity: Severity::High,
        sources: ALL,
        next: &[
            "CLERK_SECRET_KEY=… clerk-incident triage --app-url <app-url>   # does Clerk answer this machine?",
            "curl -sS <app-url>/api/clerk-health",
        ],
    },
    Rule {
        name: "status_page_sessions",
        when: "Clerk's status page reports trouble with Session management: session tokens stop refreshing and signed-in users drop out.",
        applies: |f| f.page_trouble_in(Area::Sessions),
        category: Category::SessionIssues,
        severity: Severity::High,
        sources: &[PAGE, API, APP],
        next: &[
            "CLERK_EMERGENCY_BYPASS=grace CLERK_EMERGENCY_BYPASS_UNTIL=$(date -u -d '+45 min' +%FT%TZ) <restart the service>   # signed-in users stay in",
            "clerk-incident incident start --incident incident.jsonl --title 'Clerk session management' --severity high --category session_issues",
            "clerk-incident status   # until Session management is operational",
        ],
    },
    Rule {
        name: "status_page_delivery",
        when: "Clerk's status page reports trouble with email or SMS delivery: sign-ins and sign-ups by code or link fail; passwords, OAuth and signed-in users are not affected.",
        applies: |f| f.page_trouble_in(Area::Delivery),
        category: Category::ClerkOutage,
        severity: Severity::Medium,
        sources: &[PAGE, API],
        next: &[
            "# tell users to sign in with a password or OAuth meanwhile; no bypass helps here",
            "clerk-incident status   # until delivery is operational",
        ],
    },
    Rule {
        name: "status_page_webhooks",
        when: "Clerk's status page reports trouble with Webhooks: deliveries are late or failing, and the app's copy of users falls behind.",
        applies: |f| f.page_trouble_in(Area::Webhooks),
        category: Category::WebhookBacklog,
        severity: Severity::Medium,
        sources: &[PAGE, API, APP],
        next: &[
            "clerk-incident status   # until Webhooks is operational; Clerk retries deliveries meanwhile",
            "clerk-incident webhooks replay --since 24h --target <app-url>/api/webhooks/clerk --known-ids ids.csv --dry-run   # then without --dry-run, once it is",
        ],
    },
    Rule {
        name: "status_page_operations",
        when: "Clerk's status page reports trouble with the Dashboard or the Platform API only: operators' tools, not users' sign-in.",
        applies: |f| f.page_trouble_in(Area::Operations),
        category: Category::ClerkOutage,
        severity: Severity::Low,
        sources: &[PAGE, API],
        next: &[
            "# users are not affected; changes in the Clerk Dashboard wait until it recovers",
            "clerk-incident status",
        ],
    },
    Rule {
        name: "session_rejection_spike",
        when: "Random logouts are reported and the app rejects many session tokens (expired, unknown key…).",
        applies: |f| f.reports(Symptom::RandomLogouts) && f.rejection_spike,
        category: Category::SessionIssues,
        severity: Severity::Medium,
        sources: &[Operator, APP],
        next: &[
            "# expired: check the servers' clocks (NTP) and the leeway; unknown_key: a signing key rotation",
            "CLERK_EMERGENCY_BYPASS=grace CLERK_EMERGENCY_BYPASS_UNTIL=$(date -u -d '+45 min' +%FT%TZ) <restart the service>   # keeps users in meanwhile",
            "clerk-incident incident start --incident incident.jsonl --title 'Random logouts' --severity medium --category session_issues",
        ],
    },
    Rule {
        name: "open_bypass_while_clerk_healthy",
        when: "Clerk works, but the app still runs the Open bypass: protected routes take no token.",
        applies: |f| f.bypass == Some(Bypass::Open) && f.clerk_answers(),
        category: Category::ConfigurationError,
        severity: Severity::Medium,
        sources: &[APP, PAGE, API],
        next: &[
            "# restart the service without CLERK_EMERGENCY_BYPASS, then:",
            "clerk-incident triage --app-url <app-url>",
        ],
    },
    Rule {
        name: "webhook_backlog",
        when: "Users are reported missing while Clerk and the app work: webhook deliveries are failing or behind.",
        applies: |f| f.reports(Symptom::UsersMissing) && f.clerk_answers(),
        category: Category::WebhookBacklog,
        severity: Severity::Medium,
        sources: &[Operator, PAGE, API, APP],
        next: &[
            "# check the endpoint's delivery attempts in the Clerk Dashboard (Webhooks)",
            "clerk-incident webhooks replay --since 24h --target <app-url>/api/webhooks/clerk --known-ids ids.csv --dry-run   # then without --dry-run",
        ],
    },
    Rule {
        name: "grace_while_clerk_healthy",
        when: "Clerk works, but the app still runs in Grace: expired tokens are accepted.",
        applies: |f| f.bypass == Some(Bypass::Grace) && f.clerk_answers(),
        category: Category::ConfigurationError,
        severity: Severity::Low,
        sources: &[APP, PAGE, API],
        next: &[
            "# restart the service without CLERK_EMERGENCY_BYPASS (or let the bypass expire), then:",
            "clerk-incident triage --app-url <app-url>",
        ],
    },
    Rule {
        name: "random_logouts_reported",
        when: "Random logouts are reported, but the app's counters show no rejection spike (or were not read).",
        applies: |f| f.reports(Symptom::RandomLogouts),
        category: Category::SessionIssues,
        severity: Severity::Low,
        sources: &[Operator, APP],
        next: &[
            "clerk-incident triage --app-url <app-url> --symptom random-logouts   # read the app's rejection counters",
            "# check the browser: __session cookie domain, third-party cookie blocking, clock skew",
        ],
    },
    Rule {
        name: "rejection_spike",
        when: "The app rejects many session tokens (expired, unknown key…), though nobody reported logouts.",
        applies: |f| f.rejection_spike,
        category: Category::SessionIssues,
        severity: Severity::Low,
        sources: &[APP],
        next: &[
            "curl -sS <app-url>/api/clerk-health   # watch counters.rejected",
            "# expired: check the servers' clocks (NTP); unknown_key: a signing key rotation",
        ],
    },
    Rule {
        name: "status_page_unavailable",
        when: "Clerk's status page could not be read from here (no answer, an error, or a shape this version does not know), and nothing else points at a problem.",
        applies: |f| {
            f.page.ran() && f.page != Probe::Answered(Page::Operational) && f.clerk_answers()
        },
        category: Category::Unknown,
        severity: Severity::Low,
        sources: ALL,
        next: &[
            "curl -sS https://status.clerk.com/proxy/status.clerk.com   # does this machine reach the status page?",
            "clerk-incident triage --app-url <app-url> --skip status-page   # if this network cannot reach it",
        ],
    },
    Rule {
        name: "not_checked",
        when: "No probe shows a problem, but not every probe could run: a healthy verdict needs them all (or --skip for the ones left out on purpose).",
        applies: |f| f.anything_not_checked(),
        category: Category::Unknown,
        severity: Severity::Medium,
        sources: ALL,
        next: &[
            "CLERK_SECRET_KEY=… clerk-incident triage --app-url <app-url>   # supply what was not checked",
            "clerk-incident triage --app-url <app-url> --skip jwks   # or leave a probe out on purpose",
        ],
    },
    Rule {
        name: "healthy",
        when: "Every probe ran (or was left out on purpose) and passed, and nothing is reported.",
        applies: |f| {
            f.symptoms.is_empty()
                && f.clerk_answers()
                && matches!(f.page, Probe::Skipped | Probe::Answered(Page::Operational))
                && matches!(f.api, Probe::Skipped | Probe::Answered(Api::Ok))
                && matches!(f.jwks, Probe::Skipped | Probe::Answered(Jwks::Ok))
                && matches!(f.app, Probe::Skipped | Probe::Answered(App::Ok))
        },
        category: Category::Healthy,
        severity: Severity::None,
        sources: &[PAGE, API, JWKS, APP],
        next: &[],
    },
    INCONCLUSIVE,
];

/// The last rule: nothing above decided.
const INCONCLUSIVE: Rule = Rule {
    name: "inconclusive",
    when: "The evidence does not decide: it conflicts, or too little could be checked.",
    applies: |_| true,
    category: Category::Unknown,
    severity: Severity::Medium,
    sources: ALL,
    next: &[
        "CLERK_SECRET_KEY=… clerk-incident triage --app-url <app-url> --timeout 10s   # probe everything",
        "clerk-incident status",
    ],
};

#[cfg(test)]
mod tests;
