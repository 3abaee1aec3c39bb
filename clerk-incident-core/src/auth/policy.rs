//! [`AuthPolicy::decide`]: the one function that turns a request's credentials and its route
//! class into allow or reject, in every mode. Both middleware crates only translate its
//! [`Decision`] into a response.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::bypass_log::BypassLog;
use super::credentials::{Credentials, TokenPresence, extract_token};
use super::fleet_membership::{FleetHealth, FleetMembership};
use super::health::{AuthCounters, AuthHealth};
use super::health_token::HealthToken;
use super::mode::{AuthMode, BypassSwitch, DEFAULT_GRACE_MAX_AGE};
use super::operator::{Operator, OperatorRefusal, Operators};
use super::reject::RejectReason;
use super::session::{Check, VerifiedSession};
use super::session_denylist::{SessionDenier, SessionDenylist};
use super::verifier::{Expiry, Verifier};
use crate::api::SharedBudget;

/// How a route is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteClass {
    /// No token needed, in any mode.
    Public,
    /// A valid token needed in `Enforce`; degraded access in `Grace` and `Open`.
    Protected,
    /// A fully valid token needed in every mode (admin, role and permission guards).
    Sensitive,
}

/// What one middleware instance enforces: a [`RouteClass`] and the [`Requirement`]s of a
/// guard, and whether the routes are for [operators](Operators) only. Adding a requirement
/// makes the rule [`Sensitive`](RouteClass::Sensitive): a guarded route never runs on a
/// bypassed or degraded identity.
///
/// A [`Requirement::role`] is held in the token's *active* organisation, whichever that is:
/// right for the app's own organisation-scoped routes, wrong for actions that affect the whole
/// instance (the creator of any new organisation is its `org:admin`). Those use
/// [`RouteRule::operator`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRule {
    class: RouteClass,
    requirements: Vec<Requirement>,
    operator: bool,
}

impl RouteRule {
    /// Valid token in `Enforce`, degraded access in `Grace` and `Open`.
    pub fn protected() -> Self {
        Self {
            class: RouteClass::Protected,
            requirements: Vec::new(),
            operator: false,
        }
    }

    /// A fully valid token in every mode.
    pub fn sensitive() -> Self {
        Self {
            class: RouteClass::Sensitive,
            requirements: Vec::new(),
            operator: false,
        }
    }

    /// For instance-wide actions: a fully valid token in every mode whose session is an
    /// operator of the policy's [`Operators`]; anyone else gets a 403
    /// ([`Rejection::NotOperator`]), everyone when no operator is configured.
    pub fn operator() -> Self {
        Self {
            operator: true,
            ..Self::sensitive()
        }
    }

    /// True when the routes are for operators only.
    pub fn is_operator_only(&self) -> bool {
        self.operator
    }

    /// Adds a requirement (all must hold) and makes the rule sensitive.
    #[must_use]
    pub fn require(mut self, requirement: Requirement) -> Self {
        self.class = RouteClass::Sensitive;
        self.requirements.push(requirement);
        self
    }

    /// The route class.
    pub fn class(&self) -> RouteClass {
        self.class
    }

    /// The requirements.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
}

impl Default for RouteRule {
    fn default() -> Self {
        Self::protected()
    }
}

/// The request's identity, handed to handlers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthContext {
    /// The verified session, if the request carried a token that verified.
    pub session: Option<Arc<VerifiedSession>>,
    /// The mode the decision was made in.
    pub mode: AuthMode,
    /// True when the session was accepted although expired (Grace).
    pub degraded: bool,
    /// True when the request passed without a valid token (Open): it would have been refused
    /// in `Enforce`. A valid token in `Open` is not bypassed.
    pub bypassed: bool,
    /// Who the operator is and how they qualified, on [operator-only](RouteRule::operator)
    /// routes; `None` elsewhere.
    pub operator: Option<Operator>,
}

impl AuthContext {
    /// True for a session that verified in full: not expired, not bypassed.
    pub fn is_fully_verified(&self) -> bool {
        self.session.is_some() && !self.degraded && !self.bypassed
    }

    /// The `X-Auth-Bypass` value every response in this mode carries, if any.
    pub fn bypass_header(&self) -> Option<&'static str> {
        self.mode.bypass_header_value()
    }

    /// The context as a flat JSON object, for `/api/me`-style endpoints and logs: the
    /// identity and how the request was let in. Never contains the token.
    ///
    /// ```json
    /// {"authenticated": true, "user_id": "user_…", "session_id": "sess_…",
    ///  "org_id": "org_…", "org_role": "org:admin", "org_permissions": ["org:teams:read"],
    ///  "degraded": false, "bypassed": false, "mode": "enforce"}
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let session = self.session.as_deref();
        let organization = session.and_then(|session| session.organization.as_ref());
        serde_json::json!({
            "authenticated": session.is_some(),
            "user_id": session.map(|session| session.user_id.as_str()),
            "session_id": session.map(|session| session.session_id.as_str()),
            "org_id": organization.map(|org| org.id.as_str()),
            "org_role": organization.map(|org| org.role.as_str()),
            "org_permissions": organization.map(|org| org.permissions.as_slice()),
            "degraded": self.degraded,
            "bypassed": self.bypassed,
            "mode": self.mode.name(),
        })
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No acceptable token: 401, or 503 when keys are unavailable.
    Unauthenticated(RejectReason),
    /// A valid token without the role or permission the route needs: 403.
    Forbidden,
    /// A valid token of someone who is not an operator, on an operator-only route: 403.
    NotOperator(OperatorRefusal),
}

impl Rejection {
    /// How long clients should wait before retrying a 503, in seconds.
    pub const RETRY_AFTER_SECS: u32 = 5;

    /// The HTTP status: 401, 403 or 503.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Unauthenticated(reason) => reason.status(),
            Rejection::Forbidden | Rejection::NotOperator(_) => 403,
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750) for 401 and 403; none for 503.
    pub fn www_authenticate(&self) -> Option<&'static str> {
        match self.status() {
            401 => Some(r#"Bearer error="invalid_token""#),
            403 => Some(r#"Bearer error="insufficient_scope""#),
            _ => None,
        }
    }

    /// The `Retry-After` seconds for a 503.
    pub fn retry_after_secs(&self) -> Option<u32> {
        (self.status() == 503).then_some(Self::RETRY_AFTER_SECS)
    }

    /// The default JSON body: `{"error":"invalid_token","reason":"expired"}`, with `error`
    /// `insufficient_scope` for a 403 and `temporarily_unavailable` for a 503; an operator
    /// refusal adds a `message` saying what to do. It names the reason, never anything from
    /// the request.
    pub fn json_body(&self) -> String {
        let error = match self.status() {
            401 => "invalid_token",
            403 => "insufficient_scope",
            _ => "temporarily_unavailable",
        };
        match self {
            Rejection::NotOperator(refusal) => format!(
                r#"{{"error":"{error}","reason":"{}","message":"{}"}}"#,
                refusal.as_str(),
                refusal.message()
            ),
            _ => format!(r#"{{"error":"{error}","reason":"{}"}}"#, self.reason()),
        }
    }

    /// A short snake_case reason for logs and JSON bodies; never request data.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Unauthenticated(reason) => reason.as_str(),
            Rejection::Forbidden => "insufficient_scope",
            Rejection::NotOperator(refusal) => refusal.as_str(),
        }
    }
}

/// The outcome of [`AuthPolicy::decide`]. Deliberately exhaustive: a new kind of decision
/// must make every adapter fail to compile rather than guess.
#[derive(Clone, Debug)]
pub enum Decision {
    /// Serve the request with this context.
    Allow(AuthContext),
    /// Refuse it.
    Reject {
        /// Why.
        rejection: Rejection,
        /// The mode in force (rejections carry `X-Auth-Bypass` too outside `Enforce`).
        mode: AuthMode,
    },
}

impl Decision {
    /// The context of an allowed request, or why it was refused.
    pub fn into_result(self) -> Result<AuthContext, Rejection> {
        match self {
            Decision::Allow(context) => Ok(context),
            Decision::Reject { rejection, .. } => Err(rejection),
        }
    }

    /// The `X-Auth-Bypass` value of the response, if any.
    pub fn bypass_header(&self) -> Option<&'static str> {
        match self {
            Decision::Allow(context) => context.bypass_header(),
            Decision::Reject { mode, .. } => mode.bypass_header_value(),
        }
    }
}

/// The whole auth policy: a [`Verifier`], the [`BypassSwitch`], the [`Operators`], and the
/// counters of what was let through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AuthPolicy {
    verifier: Verifier,
    switch: BypassSwitch,
    operators: Arc<Operators>,
    health_token: Option<HealthToken>,
    counters: Arc<PolicyCounters>,
    fleet: Option<Arc<dyn FleetMembership>>,
    denylist: SessionDenylist,
}

#[derive(Debug, Default)]
struct PolicyCounters {
    bypassed: AtomicU64,
    grace_allowed: AtomicU64,
    bypass_log: BypassLog,
}

impl AuthPolicy {
    /// A policy verifying with `verifier`, in the mode `switch` holds, with no operator
    /// ([`with_operators`](Self::with_operators)) and no health token.
    pub fn new(verifier: Verifier, switch: BypassSwitch) -> Self {
        Self {
            verifier,
            switch,
            operators: Arc::default(),
            health_token: None,
            counters: Arc::default(),
            fleet: None,
            denylist: SessionDenylist::new(),
        }
    }

    /// Refuses the sessions `denylist` holds (instead of the policy's own, empty list): in
    /// every mode, `Grace` and `Open` included. Set it before
    /// [`join_fleet`](Self::join_fleet), which keeps the policy's list in step with the
    /// fleet's.
    #[must_use]
    pub fn with_denylist(mut self, denylist: SessionDenylist) -> Self {
        self.denylist = denylist;
        self
    }

    /// The revoked sessions this policy refuses.
    pub fn denylist(&self) -> &SessionDenylist {
        &self.denylist
    }

    /// True when the denylist may miss a revoked session (full, or behind the fleet's).
    fn denylist_in_doubt(&self) -> bool {
        self.denylist.is_full() || !self.denylist.is_current()
    }

    /// The fleet's Backend API budget, when the policy is in a fleet: a client built for this
    /// service's revocations shares it
    /// ([`ClerkApiBuilder::shared_budget`](crate::api::ClerkApiBuilder::shared_budget)).
    pub fn fleet_budget(&self) -> Option<Arc<dyn SharedBudget>> {
        self.fleet.as_ref().map(|fleet| fleet.api_budget())
    }

    /// The fleet's revocation jobs, when the policy is in a fleet: the admin routes'
    /// [`RevocationJobs`](crate::revocation::RevocationJobs) share them, so that one mass
    /// revocation runs at a time fleet-wide, visible and cancellable from every replica.
    pub fn fleet_jobs(&self) -> Option<crate::revocation::SharedJobs> {
        self.fleet.as_ref().map(|fleet| fleet.shared_jobs())
    }

    /// Where a revocation made for this service reports the sessions it revoked: the fleet's
    /// denylist in a fleet (every instance refuses them), else this policy's own list. The
    /// admin routes use it; give it to a [`SessionRevoker`](crate::revocation::SessionRevoker)
    /// run in-process.
    pub fn session_denier(&self) -> Arc<dyn SessionDenier> {
        match &self.fleet {
            Some(fleet) => fleet.denier(),
            None => Arc::new(self.denylist.clone()),
        }
    }

    /// Puts the policy in a fleet: its health shows `membership`'s, and revocations for it
    /// report to the fleet's denylist. What [`join_fleet`](Self::join_fleet) does, with the
    /// [`FleetMember`](crate::fleet::FleetMember) it starts; use `join_fleet`, which also keeps
    /// this policy's [denylist](Self::denylist) in step with the fleet's (a member joined on
    /// its own does not).
    #[must_use]
    pub fn with_fleet(mut self, membership: Arc<dyn FleetMembership>) -> Self {
        self.fleet = Some(membership);
        self
    }

    /// The fleet as this instance sees it, when the policy is in one.
    pub fn fleet_health(&self) -> Option<FleetHealth> {
        self.fleet.as_ref().map(|membership| membership.health())
    }

    /// Sets who may use the [operator-only](RouteRule::operator) routes.
    #[must_use]
    pub fn with_operators(mut self, operators: Operators) -> Self {
        self.operators = Arc::new(operators);
        self
    }

    /// Sets the bearer token that unlocks the health endpoint's details for callers that are
    /// not operators (a monitoring system, `clerk-incident triage`).
    #[must_use]
    pub fn with_health_token(mut self, token: HealthToken) -> Self {
        self.health_token = Some(token);
        self
    }

    /// Who may use the operator-only routes.
    pub fn operators(&self) -> &Operators {
        &self.operators
    }

    /// The health token, if one is set.
    pub(crate) fn health_token(&self) -> Option<&HealthToken> {
        self.health_token.as_ref()
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The bypass switch (operators flip it; requests never can).
    pub fn switch(&self) -> &BypassSwitch {
        &self.switch
    }

    /// Decides a request on a route of class `route`.
    ///
    /// | Mode | Public | Protected | Sensitive |
    /// | --- | --- | --- | --- |
    /// | `Enforce` | allow | valid token, else 401 (503 without keys) | same |
    /// | `Grace` | allow | valid token, or one expired for at most `max_token_age` (degraded) | valid token |
    /// | `Open` | allow | allow; a valid token is served as in `Enforce`, otherwise the request is bypassed (logged, counted), keeping the identity of a token expired within the Grace default | valid token |
    pub async fn decide(&self, credentials: &Credentials<'_>, route: RouteClass) -> Decision {
        let mode = self.switch.mode();
        if route == RouteClass::Public {
            return Decision::Allow(AuthContext {
                session: None,
                mode,
                degraded: false,
                bypassed: false,
                operator: None,
            });
        }
        let presence = extract_token(credentials, self.verifier.config().cookie);
        let lenient = route == RouteClass::Protected;
        match mode {
            AuthMode::Open if lenient => self.open(presence, mode, credentials).await,
            AuthMode::Grace { max_token_age } if lenient => {
                self.verify(presence, mode, Expiry::AllowExpiredFor(max_token_age))
                    .await
            }
            _ => self.verify(presence, mode, Expiry::Strict).await,
        }
    }

    /// Decides a request on a route protected by `rule`: [`decide`](Self::decide) for the
    /// rule's [class](RouteRule::class), then, when that allows, every
    /// [requirement](RouteRule::requirements) checked with [`authorize`]. A valid token without
    /// a requirement is [`Rejection::Forbidden`].
    ///
    /// This is what both middleware crates call: they only translate the [`Decision`].
    ///
    /// On an [operator-only](RouteRule::operator) rule the fully verified session must also
    /// qualify with [`Operators::qualify`]; the context then names the [`Operator`], and a
    /// session that does not qualify is [`Rejection::NotOperator`].
    pub async fn decide_rule(&self, credentials: &Credentials<'_>, rule: &RouteRule) -> Decision {
        let mut decision = self.decide(credentials, rule.class()).await;
        if let Decision::Allow(context) = &mut decision {
            let reject = |rejection| Decision::Reject {
                rejection,
                mode: context.mode,
            };
            for requirement in rule.requirements() {
                if let Err(rejection) = authorize(context, requirement.as_check()) {
                    return reject(rejection);
                }
            }
            if rule.is_operator_only() {
                let qualified = match &context.session {
                    Some(session) if context.is_fully_verified() => self
                        .operators
                        .qualify(session)
                        .map_err(Rejection::NotOperator),
                    _ => Err(Rejection::Unauthenticated(RejectReason::Missing)),
                };
                match qualified {
                    Ok(operator) => context.operator = Some(operator),
                    Err(rejection) => return reject(rejection),
                }
            }
        }
        decision
    }

    async fn verify(
        &self,
        presence: TokenPresence<'_>,
        mode: AuthMode,
        expiry: Expiry,
    ) -> Decision {
        let reject = |reason| Decision::Reject {
            rejection: Rejection::Unauthenticated(reason),
            mode,
        };
        let token = match presence {
            TokenPresence::Present(token) => token,
            TokenPresence::Missing => {
                self.verifier.count_rejection(RejectReason::Missing);
                return reject(RejectReason::Missing);
            }
            TokenPresence::Malformed => {
                self.verifier.count_rejection(RejectReason::Malformed);
                return reject(RejectReason::Malformed);
            }
            TokenPresence::Ambiguous => {
                self.verifier.count_rejection(RejectReason::Ambiguous);
                return reject(RejectReason::Ambiguous);
            }
        };
        // A full denylist may have dropped a revoked session, and one that has not read the
        // fleet's lately may miss one: only fully valid tokens then.
        let expiry = if self.denylist_in_doubt() {
            Expiry::Strict
        } else {
            expiry
        };
        match self.verifier.verify_with(token, expiry).await {
            Ok(verified) if self.denylist.is_denied(&verified.session.session_id) => {
                self.denylist.count_refused();
                self.verifier.count_rejection(RejectReason::Revoked);
                reject(RejectReason::Revoked)
            }
            Ok(verified) => {
                let degraded = verified.expired_for.is_some();
                if degraded {
                    self.counters.grace_allowed.fetch_add(1, Ordering::Relaxed);
                }
                Decision::Allow(AuthContext {
                    session: Some(verified.session),
                    mode,
                    degraded,
                    bypassed: false,
                    operator: None,
                })
            }
            Err(reason) => reject(reason),
        }
    }

    /// Open mode on a protected route: always allowed, counted, and logged (rate-limited:
    /// [`BypassLog`]); the identity is kept when the token still verifies (expired up to the
    /// Grace default).
    async fn open(
        &self,
        presence: TokenPresence<'_>,
        mode: AuthMode,
        credentials: &Credentials<'_>,
    ) -> Decision {
        let expiry = if self.denylist_in_doubt() {
            Expiry::Strict
        } else {
            Expiry::AllowExpiredFor(DEFAULT_GRACE_MAX_AGE)
        };
        let verified = match presence {
            TokenPresence::Present(token) => {
                self.verifier.verify_uncounted(token, expiry).await.ok()
            }
            _ => None,
        };
        // A revoked session's token is refused, not bypassed: its identity must not reach
        // the handlers.
        if let Some(verified) = &verified
            && self.denylist.is_denied(&verified.session.session_id)
        {
            self.denylist.count_refused();
            self.verifier.count_rejection(RejectReason::Revoked);
            return Decision::Reject {
                rejection: Rejection::Unauthenticated(RejectReason::Revoked),
                mode,
            };
        }
        // A token that verifies in full needs no bypass: the request is served as in Enforce,
        // so guards and `is_fully_verified` keep working for genuine users during the bypass.
        if let Some(verified) = verified.as_ref().filter(|v| v.expired_for.is_none()) {
            return Decision::Allow(AuthContext {
                session: Some(Arc::clone(&verified.session)),
                mode,
                degraded: false,
                bypassed: false,
                operator: None,
            });
        }
        self.counters.bypassed.fetch_add(1, Ordering::Relaxed);
        let user = verified.as_ref().map(|v| v.session.user_id.as_str());
        self.counters.bypass_log.record(credentials, user);
        Decision::Allow(AuthContext {
            degraded: verified.is_some(),
            session: verified.map(|v| v.session),
            mode,
            bypassed: true,
            operator: None,
        })
    }

    /// Waits up to `wait` for the keys to verify tokens with; true when they are there. A
    /// service calls it once at start-up, after [`from_env`](Self::from_env) started the key
    /// checks, and starts either way: until it holds keys its health answers 503 (ready
    /// false) and protected routes answer 503 `keys_unavailable`.
    pub async fn wait_ready(&self, wait: std::time::Duration) -> bool {
        self.verifier.keys().wait_for_keys(wait).await
    }

    /// The whole health state: what the adapters' health endpoint shows operators and
    /// health-token holders ([`health_for`](Self::health_for)).
    pub fn health(&self) -> AuthHealth {
        let counters = self.verifier.counters();
        let rejected = RejectReason::ALL
            .iter()
            .zip(counters.rejected.iter())
            .map(|(reason, count)| (reason.as_str(), count.load(Ordering::Relaxed)))
            .collect();
        AuthHealth::new(
            self.fleet_health(),
            self.denylist.health(),
            self.switch.current(),
            self.verifier.keys().status(),
            AuthCounters {
                verified: counters.verified.load(Ordering::Relaxed),
                cache_hits: counters.cache_hits.load(Ordering::Relaxed),
                rejected,
                bypassed: self.counters.bypassed.load(Ordering::Relaxed),
                grace_allowed: self.counters.grace_allowed.load(Ordering::Relaxed),
            },
        )
    }
}

/// What a guarded route needs, owned so that a middleware layer can hold it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Requirement {
    /// An organisation role, such as `org:admin` (`admin` works too).
    Role(String),
    /// An organisation permission, such as `org:dashboard:manage`.
    Permission(String),
    /// A feature, such as `dashboard` or `org:dashboard`.
    Feature(String),
    /// A plan, such as `pro` or `user:pro`.
    Plan(String),
}

impl Requirement {
    /// Needs the organisation role `role` **in the token's active organisation**, whichever
    /// that is: right for the app's own organisation-scoped routes. Never use it for actions
    /// that affect the whole instance: the creator of any new organisation is its
    /// `org:admin`. Those use [`RouteRule::operator`].
    pub fn role(role: impl Into<String>) -> Self {
        Self::Role(role.into())
    }

    /// Needs the organisation permission `permission`.
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::Permission(permission.into())
    }

    /// The borrowed [`Check`] for [`VerifiedSession::has`].
    pub fn as_check(&self) -> Check<'_> {
        match self {
            Requirement::Role(role) => Check::Role(role),
            Requirement::Permission(permission) => Check::Permission(permission),
            Requirement::Feature(feature) => Check::Feature(feature),
            Requirement::Plan(plan) => Check::Plan(plan),
        }
    }
}

/// Checks a role, permission, feature or plan for a guard: a fully verified session that has
/// it passes, one without it is [`Rejection::Forbidden`], and a context without a fully
/// verified session (bypassed or degraded) is refused as unauthenticated.
///
/// # Errors
///
/// The [`Rejection`] to answer with.
pub fn authorize(context: &AuthContext, check: Check<'_>) -> Result<(), Rejection> {
    let session = match &context.session {
        Some(session) if context.is_fully_verified() => session,
        _ => return Err(Rejection::Unauthenticated(RejectReason::Missing)),
    };
    if session.has(check) {
        Ok(())
    } else {
        Err(Rejection::Forbidden)
    }
}
