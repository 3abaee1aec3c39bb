//! Clerk's Backend API JSON shapes (`User`, `EmailAddress`, `Session`, `TotalCount`,
//! `Instance`), rendered from the sim's records with every `required` member of the spec.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use crate::model::{SimSession, SimUser};

/// Clerk's default avatar.
const DEFAULT_IMAGE_URL: &str = "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9";

/// `[]`.
struct EmptyList;

impl Serialize for EmptyList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_seq(Some(0))?.end()
    }
}

/// `{}`.
struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }
}

/// Clerk's `User`.
#[derive(serde::Serialize)]
pub(crate) struct UserJson<'a> {
    id: &'a str,
    object: &'static str,
    external_id: Option<&'a str>,
    primary_email_address_id: Option<&'a str>,
    primary_phone_number_id: Option<String>,
    primary_web3_wallet_id: Option<&'a str>,
    username: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    locale: Option<&'a str>,
    profile_image_url: &'static str,
    image_url: &'static str,
    has_image: bool,
    public_metadata: &'a Map<String, Value>,
    private_metadata: &'a Map<String, Value>,
    unsafe_metadata: &'a Map<String, Value>,
    email_addresses: [EmailAddressJson<'a>; 1],
    phone_numbers: Vec<PhoneNumberJson<'a>>,
    web3_wallets: EmptyList,
    passkeys: EmptyList,
    password_enabled: bool,
    two_factor_enabled: bool,
    totp_enabled: bool,
    backup_code_enabled: bool,
    mfa_enabled_at: Option<i64>,
    mfa_disabled_at: Option<i64>,
    password_last_updated_at: Option<i64>,
    external_accounts: EmptyList,
    saml_accounts: EmptyList,
    enterprise_accounts: EmptyList,
    last_sign_in_at: Option<i64>,
    banned: bool,
    locked: bool,
    deprovisioned: bool,
    lockout_expires_in_seconds: Option<i64>,
    verification_attempts_remaining: Option<i64>,
    updated_at: i64,
    created_at: i64,
    delete_self_enabled: bool,
    create_organization_enabled: bool,
    create_organizations_limit: Option<i64>,
    last_active_at: Option<i64>,
    legal_accepted_at: Option<i64>,
    bypass_client_trust: bool,
}

impl<'a> UserJson<'a> {
    pub(crate) fn new(user: &'a SimUser) -> Self {
        let phone = PhoneNumberJson::new(user);
        Self {
            id: &user.id,
            object: "user",
            external_id: user.external_id.as_deref(),
            primary_email_address_id: Some(&user.email_address_id),
            primary_phone_number_id: phone.as_ref().map(|phone| phone.id.clone()),
            primary_web3_wallet_id: None,
            username: user.username.as_deref(),
            first_name: Some(&user.first_name),
            last_name: Some(&user.last_name),
            locale: None,
            profile_image_url: DEFAULT_IMAGE_URL,
            image_url: DEFAULT_IMAGE_URL,
            has_image: false,
            public_metadata: &user.public_metadata,
            private_metadata: &user.private_metadata,
            unsafe_metadata: &user.unsafe_metadata,
            email_addresses: [EmailAddressJson::new(user)],
            phone_numbers: phone.into_iter().collect(),
            web3_wallets: EmptyList,
            passkeys: EmptyList,
            password_enabled: true,
            two_factor_enabled: false,
            totp_enabled: false,
            backup_code_enabled: false,
            mfa_enabled_at: None,
            mfa_disabled_at: None,
            password_last_updated_at: None,
            external_accounts: EmptyList,
            saml_accounts: EmptyList,
            enterprise_accounts: EmptyList,
            last_sign_in_at: Some(user.last_sign_in_at),
            banned: user.banned,
            locked: false,
            deprovisioned: false,
            lockout_expires_in_seconds: None,
            verification_attempts_remaining: None,
            updated_at: user.updated_at,
            created_at: user.created_at,
            delete_self_enabled: true,
            create_organization_enabled: true,
            create_organizations_limit: None,
            last_active_at: Some(user.last_active_at),
            legal_accepted_at: None,
            bypass_client_trust: false,
        }
    }
}

/// Clerk's `EmailAddress`, verified by an admin.
#[derive(serde::Serialize)]
struct EmailAddressJson<'a> {
    id: &'a str,
    object: &'static str,
    email_address: &'a str,
    reserved: bool,
    verification: AdminVerificationJson,
    linked_to: EmptyList,
    matches_sso_connection: bool,
    created_at: i64,
    updated_at: i64,
}

impl<'a> EmailAddressJson<'a> {
    fn new(user: &'a SimUser) -> Self {
        Self {
            id: &user.email_address_id,
            object: "email_address",
            email_address: &user.email_address,
            reserved: false,
            verification: AdminVerificationJson::verified(),
            linked_to: EmptyList,
            matches_sso_connection: false,
            created_at: user.created_at,
            updated_at: user.created_at,
        }
    }
}

/// Clerk's `PhoneNumber`, verified by an admin; its id is derived from the user's.
#[derive(serde::Serialize)]
struct PhoneNumberJson<'a> {
    id: String,
    object: &'static str,
    phone_number: &'a str,
    reserved: bool,
    verification: AdminVerificationJson,
    linked_to: EmptyList,
    created_at: i64,
    updated_at: i64,
}

impl<'a> PhoneNumberJson<'a> {
    fn new(user: &'a SimUser) -> Option<Self> {
        let phone_number = user.phone_number.as_deref()?;
        let body = user
            .id
            .split_once('_')
            .map_or(user.id.as_str(), |(_, body)| body);
        Some(Self {
            id: format!("idn_{body}"),
            object: "phone_number",
            phone_number,
            reserved: false,
            verification: AdminVerificationJson::verified(),
            linked_to: EmptyList,
            created_at: user.created_at,
            updated_at: user.updated_at,
        })
    }
}

/// Clerk's `verification_admin`.
#[derive(serde::Serialize)]
struct AdminVerificationJson {
    object: &'static str,
    status: &'static str,
    strategy: &'static str,
    attempts: Option<i64>,
    expire_at: Option<i64>,
}

impl AdminVerificationJson {
    fn verified() -> Self {
        Self {
            object: "verification_admin",
            status: "verified",
            strategy: "admin",
            attempts: None,
            expire_at: None,
        }
    }
}

/// Clerk's `Session`.
#[derive(serde::Serialize)]
pub(crate) struct SessionJson<'a> {
    object: &'static str,
    id: &'a str,
    user_id: &'a str,
    client_id: &'a str,
    actor: Option<&'a Value>,
    status: &'static str,
    last_active_organization_id: Option<&'a str>,
    last_active_at: i64,
    latest_activity: Option<EmptyObject>,
    expire_at: i64,
    abandon_at: i64,
    updated_at: i64,
    created_at: i64,
    tasks: Option<EmptyList>,
}

impl<'a> SessionJson<'a> {
    pub(crate) fn new(session: &'a SimSession) -> Self {
        Self {
            object: "session",
            id: &session.id,
            user_id: &session.user_id,
            client_id: &session.client_id,
            actor: session.actor.as_ref(),
            status: session.status.as_str(),
            last_active_organization_id: session.last_active_organization_id.as_deref(),
            last_active_at: session.last_active_at,
            latest_activity: None,
            expire_at: session.expire_at,
            abandon_at: session.abandon_at,
            updated_at: session.updated_at,
            created_at: session.created_at,
            tasks: None,
        }
    }
}

/// `{"data": [...], "total_count": N}` of `paginated=true` lists.
#[derive(serde::Serialize)]
pub(crate) struct PaginatedJson<T> {
    pub(crate) data: Vec<T>,
    pub(crate) total_count: usize,
}

/// Clerk's `TotalCount`.
#[derive(serde::Serialize)]
pub(crate) struct TotalCountJson {
    object: &'static str,
    total_count: usize,
}

impl TotalCountJson {
    pub(crate) fn new(total_count: usize) -> Self {
        Self {
            object: "total_count",
            total_count,
        }
    }
}

/// Clerk's `Instance`.
#[derive(serde::Serialize)]
pub(crate) struct InstanceJson<'a> {
    object: &'static str,
    id: &'a str,
    environment_type: &'static str,
    allowed_origins: &'a [String],
    workspace_id: Option<&'a str>,
}

impl<'a> InstanceJson<'a> {
    pub(crate) fn new(
        id: &'a str,
        environment_type: &'static str,
        allowed_origins: &'a [String],
    ) -> Self {
        Self {
            object: "instance",
            id,
            environment_type,
            allowed_origins,
            workspace_id: None,
        }
    }
}
