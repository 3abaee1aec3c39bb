//! [`Area`]: what a status page component means for an app's users.

use std::fmt;

use serde::Serialize;

/// The part of Clerk a status page component stands for, as it bears on an app's users.
///
/// Ordered by reach, widest first: when a page names several, the first decides the
/// classification. Names are matched whole, in any letter case; a component this version
/// does not know counts as [`Area::SignIn`], so that a renamed component never understates
/// an outage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Area {
    /// Sign-in and the APIs behind it (*User and authentication*, *Machine authentication*,
    /// Statuspage's *Frontend API* and *Backend API*), and any component not known here.
    SignIn,
    /// *Session management*: session tokens stop refreshing, signed-in users drop out.
    Sessions,
    /// *Email delivery*, *SMS delivery*: sign-ins and sign-ups by code or link fail.
    Delivery,
    /// *Webhooks*: deliveries are late or failing; the app's copy of users falls behind.
    Webhooks,
    /// *Dashboard*, *Platform API*: operators' tools; users are not affected.
    Operations,
}

impl Area {
    /// The area of the component named `name` (any letter case).
    ///
    /// ```
    /// use clerk_incident_core::triage::status_page::Area;
    ///
    /// assert_eq!(Area::of("Webhooks"), Area::Webhooks);
    /// assert_eq!(Area::of("session management"), Area::Sessions);
    /// assert_eq!(Area::of("A component added next year"), Area::SignIn);
    /// ```
    pub fn of(name: &str) -> Area {
        match name.trim().to_ascii_lowercase().as_str() {
            "session management" => Area::Sessions,
            "webhooks" => Area::Webhooks,
            "email delivery" | "sms delivery" => Area::Delivery,
            "dashboard" | "platform api" => Area::Operations,
            _ => Area::SignIn,
        }
    }

    /// The snake_case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::SignIn => "sign_in",
            Area::Sessions => "sessions",
            Area::Delivery => "delivery",
            Area::Webhooks => "webhooks",
            Area::Operations => "operations",
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Area;

    #[test]
    fn clerks_components_map_to_their_areas() {
        for (name, area) in [
            ("User and authentication", Area::SignIn),
            ("Session management", Area::Sessions),
            ("Machine authentication", Area::SignIn),
            ("Webhooks", Area::Webhooks),
            ("Platform API", Area::Operations),
            ("Dashboard", Area::Operations),
            ("Email delivery", Area::Delivery),
            ("SMS delivery", Area::Delivery),
            ("Frontend API", Area::SignIn),
            ("Backend API", Area::SignIn),
            ("", Area::SignIn),
            // Names are matched whole: a sign-in component that mentions email is sign-in.
            ("Email/password sign-in", Area::SignIn),
            ("Frontend API (sessions)", Area::SignIn),
        ] {
            assert_eq!(Area::of(name), area, "{name:?}");
        }
        assert!(Area::SignIn < Area::Sessions && Area::Webhooks < Area::Operations);
    }
}
