//! Short, stable digests of Backend API objects, so that a baseline can tell what changed
//! without keeping anyone's metadata.

use aws_lc_rs::digest;
use serde_json::Value;

/// Members that change without anyone changing the object (activity, counters).
const VOLATILE: [&str; 6] = [
    "updated_at",
    "last_active_at",
    "last_used_at",
    "user_count",
    "members_count",
    "pending_invitations_count",
];

/// The SHA-256 of `value` as canonical JSON (keys sorted at every level), hex, first 16
/// bytes: enough to tell a change, too short to be worth guessing from.
pub(crate) fn digest(value: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(value, &mut canonical);
    let hash = digest::digest(&digest::SHA256, canonical.as_bytes());
    hash.as_ref()
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// [`digest`] of an object without its [volatile](VOLATILE) members.
pub(crate) fn object_digest(object: &Value) -> String {
    match object {
        Value::Object(members) => {
            let mut kept = members.clone();
            for name in VOLATILE {
                kept.remove(name);
            }
            digest(&Value::Object(kept))
        }
        other => digest(other),
    }
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(members) => {
            let mut names: Vec<&String> = members.keys().collect();
            names.sort();
            out.push('{');
            for (index, name) in names.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                if let Some(member) = members.get(name) {
                    write_canonical(member, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{digest, object_digest};

    #[test]
    fn digests_ignore_member_order_and_activity() {
        assert_eq!(
            digest(&json!({"a": 1, "b": [1, {"c": 2, "d": 3}]})),
            digest(&json!({"b": [1, {"d": 3, "c": 2}], "a": 1}))
        );
        assert_ne!(
            digest(&json!({"role": "member"})),
            digest(&json!({"role": "admin"}))
        );
        assert_eq!(digest(&json!({})).len(), 32);
        assert_eq!(
            object_digest(&json!({"id": "x", "updated_at": 1, "last_used_at": 5})),
            object_digest(&json!({"id": "x", "updated_at": 2}))
        );
    }
}
