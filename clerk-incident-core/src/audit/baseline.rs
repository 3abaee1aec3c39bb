//! [`Baseline`]: a snapshot of what a leaked key could change, taken before any incident, so
//! that an audit can tell what changed even where the Backend API keeps no timestamps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::digest::digest;

/// The `format` member of every baseline file.
pub const BASELINE_FORMAT: &str = "clerk-incident audit baseline";

/// The version of the baseline format this crate writes; it reads only this one.
pub const BASELINE_VERSION: u32 = 1;

/// What one user looked like: digests only, never the metadata itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserDigest {
    /// `updated_at`, Unix ms.
    pub updated_at: i64,
    /// Digest of `public_metadata`.
    pub public_metadata: String,
    /// Digest of `private_metadata`.
    pub private_metadata: String,
    /// Digest of `unsafe_metadata`.
    pub unsafe_metadata: String,
    /// Digest of how the user signs in: identifiers (email addresses, phone numbers,
    /// username, external id), password and second factors, banned and locked.
    pub account: String,
}

impl UserDigest {
    /// The digest of a raw `User` object.
    pub(crate) fn of(user: &Value) -> Self {
        let identifiers = |list: &str, member: &str| -> Value {
            let mut values: Vec<Value> = user[list]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| item[member].clone())
                .collect();
            values.sort_by_key(Value::to_string);
            Value::Array(values)
        };
        let account = serde_json::json!({
            "emails": identifiers("email_addresses", "email_address"),
            "phones": identifiers("phone_numbers", "phone_number"),
            "wallets": identifiers("web3_wallets", "web3_wallet"),
            "username": user["username"],
            "external_id": user["external_id"],
            "password_enabled": user["password_enabled"],
            "password_last_updated_at": user["password_last_updated_at"],
            "two_factor_enabled": user["two_factor_enabled"],
            "totp_enabled": user["totp_enabled"],
            "banned": user["banned"],
            "locked": user["locked"],
        });
        Self {
            updated_at: user["updated_at"].as_i64().unwrap_or_default(),
            public_metadata: digest(&user["public_metadata"]),
            private_metadata: digest(&user["private_metadata"]),
            unsafe_metadata: digest(&user["unsafe_metadata"]),
            account: digest(&account),
        }
    }

    /// The parts of `now` that differ from this digest, by name.
    pub(crate) fn differences(&self, now: &UserDigest) -> Vec<&'static str> {
        [
            (
                "public_metadata",
                &self.public_metadata,
                &now.public_metadata,
            ),
            (
                "private_metadata",
                &self.private_metadata,
                &now.private_metadata,
            ),
            (
                "unsafe_metadata",
                &self.unsafe_metadata,
                &now.unsafe_metadata,
            ),
            (
                "sign-in details (identifiers, password, second factors, ban)",
                &self.account,
                &now.account,
            ),
        ]
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(name, _, _)| name)
        .collect()
    }
}

/// A membership with an admin role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MembershipDigest {
    /// The organisation.
    pub organization_id: String,
    /// The member.
    pub user_id: String,
    /// The role, such as `org:admin`.
    pub role: String,
}

/// A snapshot of the instance for [`audit`](super::audit) to compare against: take one
/// regularly (`clerk-incident audit snapshot --out FILE`), before any incident.
///
/// It holds ids, roles and digests, never metadata or secrets; still, it names every user,
/// so keep it readable by its owner only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Baseline {
    /// Always [`BASELINE_FORMAT`].
    pub format: String,
    /// [`BASELINE_VERSION`].
    pub version: u32,
    /// When it was taken, Unix ms.
    pub taken_at_ms: i64,
    /// The instance (`ins_…`): a baseline of another instance is refused.
    pub instance_id: String,
    /// Digest of `GET /v1/instance`.
    pub instance: String,
    /// Users: id → digest.
    pub users: BTreeMap<String, UserDigest>,
    /// Memberships with an admin role: membership id → what.
    pub admin_memberships: BTreeMap<String, MembershipDigest>,
    /// Organisations: id → digest.
    pub organizations: BTreeMap<String, String>,
    /// Machines: id → digest.
    pub machines: BTreeMap<String, String>,
    /// API keys of organisations and machines: id → subject.
    pub api_keys: BTreeMap<String, String>,
    /// The other lists (`redirect_urls`, `domains`, `jwt_templates`, ...): list → id → digest.
    pub objects: BTreeMap<String, BTreeMap<String, String>>,
}

/// Why a baseline file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// Not JSON, or not a baseline.
    #[error("not an audit baseline: {0}")]
    Invalid(String),
    /// A baseline of another format version.
    #[error(
        "baseline format version {found} is not supported (this version reads {BASELINE_VERSION}); take a new snapshot"
    )]
    Version {
        /// The version in the file.
        found: u32,
    },
}

impl Baseline {
    /// An empty baseline of `instance_id` taken at `taken_at_ms`.
    pub(crate) fn new(instance_id: String, instance: String, taken_at_ms: i64) -> Self {
        Self {
            format: BASELINE_FORMAT.to_owned(),
            version: BASELINE_VERSION,
            taken_at_ms,
            instance_id,
            instance,
            users: BTreeMap::new(),
            admin_memberships: BTreeMap::new(),
            organizations: BTreeMap::new(),
            machines: BTreeMap::new(),
            api_keys: BTreeMap::new(),
            objects: BTreeMap::new(),
        }
    }

    /// Reads a baseline from its JSON.
    ///
    /// # Errors
    ///
    /// [`BaselineError`] for anything but a baseline of this format version.
    pub fn from_json(text: &str) -> Result<Self, BaselineError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| BaselineError::Invalid(error.to_string()))?;
        if value.get("format").and_then(Value::as_str) != Some(BASELINE_FORMAT) {
            return Err(BaselineError::Invalid(format!(
                "its `format` is not \"{BASELINE_FORMAT}\""
            )));
        }
        let version = value
            .get("version")
            .and_then(Value::as_u64)
            .unwrap_or_default();
        if version != u64::from(BASELINE_VERSION) {
            return Err(BaselineError::Version {
                found: u32::try_from(version).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_value(value).map_err(|error| BaselineError::Invalid(error.to_string()))
    }

    /// The baseline as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Number of objects of every kind it holds (users included).
    pub fn len(&self) -> usize {
        self.users.len()
            + self.admin_memberships.len()
            + self.organizations.len()
            + self.machines.len()
            + self.api_keys.len()
            + self.objects.values().map(BTreeMap::len).sum::<usize>()
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Baseline, BaselineError, UserDigest};

    #[test]
    fn baselines_round_trip_and_refuse_other_files() {
        let mut baseline = Baseline::new("ins_1".to_owned(), "d".to_owned(), 5);
        let user = json!({"id": "user_1", "updated_at": 3, "public_metadata": {}, "private_metadata": {"role": "supervisor"}, "unsafe_metadata": {}, "email_addresses": [{"email_address": "a@b.example"}]});
        baseline
            .users
            .insert("user_1".to_owned(), UserDigest::of(&user));
        let text = baseline.to_json();
        assert_eq!(Baseline::from_json(&text).unwrap(), baseline);
        assert!(!text.contains("supervisor"), "no metadata in the file");
        assert!(matches!(
            Baseline::from_json("{}"),
            Err(BaselineError::Invalid(_))
        ));
        let newer = text.replace("\"version\": 1", "\"version\": 9");
        assert!(matches!(
            Baseline::from_json(&newer),
            Err(BaselineError::Version { found: 9 })
        ));
    }

    #[test]
    fn user_digests_name_what_differs() {
        let before = json!({"updated_at": 1, "public_metadata": {}, "private_metadata": {}, "unsafe_metadata": {}, "email_addresses": [{"email_address": "a@b.example"}]});
        let mut after = before.clone();
        after["private_metadata"] = json!({"role": "admin"});
        after["updated_at"] = json!(2);
        let differences = UserDigest::of(&before).differences(&UserDigest::of(&after));
        assert_eq!(differences, ["private_metadata"]);
        after["email_addresses"] = json!([{"email_address": "evil@x.example"}]);
        let differences = UserDigest::of(&before).differences(&UserDigest::of(&after));
        assert_eq!(differences.len(), 2);
        assert!(
            UserDigest::of(&before)
                .differences(&UserDigest::of(&before))
                .is_empty()
        );
    }
}
