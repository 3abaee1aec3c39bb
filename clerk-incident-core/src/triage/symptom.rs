//! [`Symptom`]: what the operator (or the users) report, as an input to classification.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Something the operator reports that no probe can observe from the outside.
///
/// Named in kebab case on the command line, in JSON and by [`Display`](fmt::Display);
/// [`FromStr`] also accepts snake case and any letter case.
///
/// ```
/// use clerk_incident_core::triage::Symptom;
///
/// assert_eq!("random-logouts".parse(), Ok(Symptom::RandomLogouts));
/// assert_eq!("Users_Missing".parse(), Ok(Symptom::UsersMissing));
/// assert_eq!(Symptom::UnauthorizedAccess.to_string(), "unauthorized-access");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Symptom {
    /// Someone reached data or actions they should not have: the secret key or a signing key
    /// may be in the wrong hands.
    UnauthorizedAccess,
    /// Signed-in users are logged out, or refused, at random.
    RandomLogouts,
    /// Users who signed up (or changed) in Clerk are missing or stale in the app's database:
    /// webhook deliveries are not arriving.
    UsersMissing,
}

impl Symptom {
    /// Every symptom, in declaration order.
    pub const ALL: [Symptom; 3] = [
        Symptom::UnauthorizedAccess,
        Symptom::RandomLogouts,
        Symptom::UsersMissing,
    ];

    /// The kebab-case name, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Symptom::UnauthorizedAccess => "unauthorized-access",
            Symptom::RandomLogouts => "random-logouts",
            Symptom::UsersMissing => "users-missing",
        }
    }

    /// What the operator reported, as a sentence fragment for evidence lines.
    pub fn description(self) -> &'static str {
        match self {
            Symptom::UnauthorizedAccess => "unauthorized access",
            Symptom::RandomLogouts => "users logged out at random",
            Symptom::UsersMissing => "users missing from the app's database",
        }
    }
}

impl fmt::Display for Symptom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Symptom {
    type Err = UnknownSymptom;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let wanted = value.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Symptom::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| UnknownSymptom(value.to_owned()))
    }
}

/// A value that is not a [`Symptom`]'s name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not one of: unauthorized-access, random-logouts, users-missing")]
pub struct UnknownSymptom(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for symptom in Symptom::ALL {
            assert_eq!(symptom.as_str().parse::<Symptom>(), Ok(symptom));
            assert_eq!(
                serde_json::to_string(&symptom).unwrap(),
                format!("\"{symptom}\"")
            );
        }
        assert_eq!(
            " UNAUTHORIZED_ACCESS ".parse::<Symptom>(),
            Ok(Symptom::UnauthorizedAccess)
        );
        let err = "slow".parse::<Symptom>().unwrap_err();
        assert!(err.to_string().contains("random-logouts"), "{err}");
    }
}
