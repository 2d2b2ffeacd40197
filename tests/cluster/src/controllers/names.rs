//! Deterministic names: the pod-template-hash of the deployment controller and the five-letter
//! suffixes of generated names.

use serde_json::Value;

/// The alphabet of `k8s.io/apimachinery/pkg/util/rand` (no vowels, no confusable digits).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// 32-bit FNV-1a.
pub fn fnv32a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

/// `rand.SafeEncodeString`: each byte mapped onto the safe alphabet.
pub fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// `controller.ComputeHash`: FNV-1a of the template (here its canonical JSON) and the collision
/// count, encoded like the real one (`64969dc8c8`).
pub fn pod_template_hash(template: &Value, collision_count: i64) -> String {
    let mut data = serde_json::to_vec(template).unwrap_or_default();
    if collision_count > 0 {
        data.extend_from_slice(&collision_count.to_le_bytes());
    }
    safe_encode(&fnv32a(&data).to_string())
}

/// A five-character suffix derived from `seed`, in the alphabet of generated names.
pub fn suffix(seed: &str) -> String {
    let mut hash =
        fnv32a(seed.as_bytes()) as u64 | (u64::from(fnv32a(format!("{seed}#").as_bytes())) << 32);
    (0..5)
        .map(|_| {
            let c = ALPHANUMS[(hash % ALPHANUMS.len() as u64) as usize] as char;
            hash /= ALPHANUMS.len() as u64;
            c
        })
        .collect()
}

/// `prefix` + a deterministic five-character suffix not accepted by `taken`.
pub fn generate(prefix: &str, seed: &str, taken: impl Fn(&str) -> bool) -> String {
    (0..)
        .map(|attempt| format!("{prefix}{}", suffix(&format!("{seed}/{attempt}"))))
        .find(|name| !taken(name))
        .unwrap_or_else(|| prefix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn template_hashes_look_real_and_change_with_the_template() {
        let a = pod_template_hash(
            &json!({"spec": {"containers": [{"name": "a", "image": "a:1"}]}}),
            0,
        );
        let b = pod_template_hash(
            &json!({"spec": {"containers": [{"name": "a", "image": "a:2"}]}}),
            0,
        );
        assert_ne!(a, b);
        assert!(a.chars().all(|c| "456789bcdf".contains(c)), "{a}");
        assert!((8..=10).contains(&a.len()), "{a}");
        let collided = pod_template_hash(
            &json!({"spec": {"containers": [{"name": "a", "image": "a:1"}]}}),
            1,
        );
        assert_ne!(a, collided);
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
    }

    #[test]
    fn generated_names_are_stable_and_avoid_taken_ones() {
        let first = generate("web-", "uid-1", |_| false);
        assert_eq!(first, generate("web-", "uid-1", |_| false));
        assert_eq!(first.len(), 9);
        let second = generate("web-", "uid-1", |name| name == first);
        assert_ne!(first, second);
    }
}
