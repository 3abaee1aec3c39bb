//! [`checklist`]: the rotation procedure, in order, each step with its check.

use serde::Serialize;

/// One step of the rotation procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChecklistStep {
    /// The step's place, from 1.
    pub number: u8,
    /// A stable identifier, such as `verify_new`.
    pub id: &'static str,
    /// What to do.
    pub action: &'static str,
    /// The command that checks the step is done.
    pub check: &'static str,
    /// True for a step that depends on the incident (signing everyone out).
    pub optional: bool,
}

const STEPS: [ChecklistStep; 8] = [
    ChecklistStep {
        number: 1,
        id: "create_key",
        action: "Create a new secret key in the Clerk Dashboard (API keys) of the same instance; \
                 export it as CLERK_NEW_SECRET_KEY, keeping the old one in CLERK_SECRET_KEY",
        check: "clerk-incident keys verify-new",
        optional: false,
    },
    ChecklistStep {
        number: 2,
        id: "verify_new",
        action: "Check the new key works and belongs to the same instance and environment",
        check: "clerk-incident keys verify-new --incident <file>",
        optional: false,
    },
    ChecklistStep {
        number: 3,
        id: "deploy",
        action: "Deploy the app with CLERK_SECRET_KEY set to the new key (every service and job \
                 that holds it)",
        check: "clerk-incident triage --app-url <app-url>",
        optional: false,
    },
    ChecklistStep {
        number: 4,
        id: "app_healthy",
        action: "Check the app is healthy on the new key",
        check: "clerk-incident triage --app-url <app-url> --incident <file>",
        optional: false,
    },
    ChecklistStep {
        number: 5,
        id: "delete_old_key",
        action: "Delete the old key in the Clerk Dashboard (API keys)",
        check: "clerk-incident keys verify-old-revoked",
        optional: false,
    },
    ChecklistStep {
        number: 6,
        id: "verify_old_revoked",
        action: "Prove the old key is dead: Clerk answers it with 401 (CLERK_SECRET_KEY still \
                 holding the old key in this shell)",
        check: "clerk-incident keys verify-old-revoked --incident <file>",
        optional: false,
    },
    ChecklistStep {
        number: 7,
        id: "revoke_sessions",
        action: "If the key may have been used, sign everyone out (runbook step 4), with the \
                 new key in CLERK_SECRET_KEY",
        check: "clerk-incident sessions revoke --all --exclude-user <your user id> --incident <file>",
        optional: true,
    },
    ChecklistStep {
        number: 8,
        id: "record",
        action: "Record the rotation in the incident log and check the timeline",
        check: "clerk-incident incident show --incident <file>",
        optional: false,
    },
];

/// The rotation procedure in order: create the key in the Dashboard, verify-new, deploy, app
/// healthy on the new key, delete the old key, verify-old-revoked, optionally revoke all
/// sessions, record.
///
/// ```
/// let steps = clerk_incident_core::rotation::checklist();
/// assert_eq!(steps.first().map(|s| s.id), Some("create_key"));
/// assert_eq!(steps.last().map(|s| s.id), Some("record"));
/// ```
pub fn checklist() -> Vec<ChecklistStep> {
    STEPS.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_in_order() {
        let ids: Vec<_> = checklist().iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "create_key",
                "verify_new",
                "deploy",
                "app_healthy",
                "delete_old_key",
                "verify_old_revoked",
                "revoke_sessions",
                "record"
            ]
        );
        for (index, step) in checklist().iter().enumerate() {
            assert_eq!(usize::from(step.number), index + 1);
        }
        assert!(checklist().iter().filter(|s| s.optional).count() == 1);
    }
}
