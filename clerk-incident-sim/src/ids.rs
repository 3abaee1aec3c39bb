//! Clerk-style object ids: a type prefix, an underscore and 27 base62 characters.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Number of random characters after the prefix (Clerk ids carry 27).
const ID_BODY_LEN: usize = 27;

/// A new id such as `user_2x9...`, drawn from `rng` so that seeded data is reproducible.
pub(crate) fn new_id(rng: &mut fastrand::Rng, prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 1 + ID_BODY_LEN);
    id.push_str(prefix);
    id.push('_');
    for _ in 0..ID_BODY_LEN {
        if let Some(&symbol) = BASE62.get(rng.usize(..BASE62.len())) {
            id.push(char::from(symbol));
        }
    }
    id
}

/// The instance id of a sim started with `seed`; independent of the user data, so that
/// reseeding keeps the instance (and its key ids) stable.
pub(crate) fn instance_id(seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x696e_7374_616e_6365);
    new_id(&mut rng, "ins")
}

#[cfg(test)]
mod tests {
    use super::{instance_id, new_id};

    #[test]
    fn ids_have_the_clerk_shape() {
        let mut rng = fastrand::Rng::with_seed(7);
        let id = new_id(&mut rng, "user");
        assert!(id.starts_with("user_"));
        assert_eq!(id.len(), "user_".len() + 27);
        assert!(
            id["user_".len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
    }

    #[test]
    fn instance_ids_are_deterministic() {
        assert_eq!(instance_id(42), instance_id(42));
        assert_ne!(instance_id(42), instance_id(43));
        assert!(instance_id(42).starts_with("ins_"));
    }
}
