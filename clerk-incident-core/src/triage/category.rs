//! The runbook's incident categories and severities.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of incident the evidence points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// Clerk itself is down or degraded.
    ClerkOutage,
    /// A secret key or signing key may be in the wrong hands.
    KeyCompromise,
    /// Clerk is fine, the app's auth middleware is not.
    MiddlewareFailure,
    /// Users are logged out or refused at random.
    SessionIssues,
    /// Webhook deliveries are failing or behind.
    WebhookBacklog,
    /// A key, URL or setting is wrong (a revoked or mistyped key, a wrong instance).
    ConfigurationError,
    /// Nothing is wrong.
    Healthy,
    /// The evidence does not decide.
    Unknown,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 8] = [
        Category::ClerkOutage,
        Category::KeyCompromise,
        Category::MiddlewareFailure,
        Category::SessionIssues,
        Category::WebhookBacklog,
        Category::ConfigurationError,
        Category::Healthy,
        Category::Unknown,
    ];

    /// The snake_case name, as in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::ClerkOutage => "clerk_outage",
            Category::KeyCompromise => "key_compromise",
            Category::MiddlewareFailure => "middleware_failure",
            Category::SessionIssues => "session_issues",
            Category::WebhookBacklog => "webhook_backlog",
            Category::ConfigurationError => "configuration_error",
            Category::Healthy => "healthy",
            Category::Unknown => "unknown",
        }
    }

    /// A human title, such as `Clerk outage`.
    pub fn title(self) -> &'static str {
        match self {
            Category::ClerkOutage => "Clerk outage",
            Category::KeyCompromise => "Key compromise",
            Category::MiddlewareFailure => "Middleware failure",
            Category::SessionIssues => "Session issues",
            Category::WebhookBacklog => "Webhook backlog",
            Category::ConfigurationError => "Configuration error",
            Category::Healthy => "Healthy",
            Category::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that is not one of the names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of: {expected}")]
pub struct UnknownName {
    value: String,
    expected: &'static str,
}

impl FromStr for Category {
    type Err = UnknownName;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let wanted = value.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == wanted)
            .ok_or_else(|| UnknownName {
                value: value.to_owned(),
                expected: "clerk_outage, key_compromise, middleware_failure, session_issues, \
                           webhook_backlog, configuration_error, healthy, unknown",
            })
    }
}

/// How bad it is. Ordered: `None < Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Nothing to do.
    None,
    /// Watch it.
    Low,
    /// Some users affected, a workaround exists.
    Medium,
    /// Many users affected, or security at risk.
    High,
    /// Sign-in is down for everyone, or a key is compromised.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::None,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = UnknownName;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let wanted = value.trim().to_ascii_lowercase();
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| UnknownName {
                value: value.to_owned(),
                expected: "none, low, medium, high, critical",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for category in Category::ALL {
            assert_eq!(category.as_str().parse::<Category>(), Ok(category));
            assert_eq!(
                serde_json::to_string(&category).unwrap(),
                format!("\"{category}\"")
            );
        }
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>(), Ok(severity));
        }
        assert_eq!(
            "Clerk-Outage".parse::<Category>(),
            Ok(Category::ClerkOutage)
        );
        assert!("meltdown".parse::<Category>().is_err());
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::None);
    }
}
