//! Deterministic identifiers and draws: container IDs, image references and digests, image
//! sizes, and per-event random draws, all derived from the kubelet's seed and stable names so
//! that the same inputs give the same values whatever order pods arrive in.

use kubetwin_core::rng::DetRng;

/// FNV-1a over the parts, separated so that `("ab","c")` and `("a","bc")` differ.
pub fn stable_hash(seed: u64, parts: &[&str]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325 ^ seed, |h, part| {
        extend_hash(h, part.as_bytes())
    })
}

/// [`stable_hash`] of some parts continued with one more: `extend_hash(stable_hash(seed, a), b)`
/// is `stable_hash` of `a` followed by `b`.
fn extend_hash(mut h: u64, part: &[u8]) -> u64 {
    for &b in part.iter().chain(std::iter::once(&0xff)) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `n` 64-bit words of hex derived from the parts (64 hex digits for `n = 4`).
pub fn hex_id(seed: u64, parts: &[&str], words: usize) -> String {
    let mut rng = DetRng::new(stable_hash(seed, parts));
    (0..words)
        .map(|_| format!("{:016x}", rng.next_u64()))
        .collect()
}

/// A uniform draw in `[0, 1)` for one named event.
pub fn unit_draw(seed: u64, parts: &[&str]) -> f64 {
    unit_of(stable_hash(seed, parts))
}

/// [`unit_draw`] of some parts followed by `n` in decimal, given `prefix`, the
/// [`stable_hash`] of those parts: the same draw without hashing them again or spelling `n`
/// (a node's status loop ticks 8,640 times a virtual day, and report steps draw each again).
pub fn unit_draw_after(prefix: u64, n: u64) -> f64 {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        // A digit: `rest % 10` < 10.
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    unit_of(extend_hash(prefix, &digits[start..]))
}

fn unit_of(hash: u64) -> f64 {
    let bits = DetRng::new(hash).next_u64() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// The container ID the runtime would report: `containerd://<64 hex>`.
pub fn container_id(seed: u64, pod_uid: &str, container: &str, restart_count: i32) -> String {
    format!(
        "containerd://{}",
        hex_id(seed, &[pod_uid, container, &restart_count.to_string()], 4)
    )
}

/// The fully qualified image reference containerd reports (`nginx` →
/// `docker.io/library/nginx:latest`).
///
/// Upstream: distribution/reference `ParseNormalizedNamed` + `TagNameOnly` (docker.io default
/// domain, `library/` for official images, `latest` default tag).
pub fn normalize_image(image: &str) -> String {
    let image = image.trim();
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let (first, rest) = match name.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (name, None),
    };
    let has_domain =
        rest.is_some() && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = match (has_domain, rest) {
        (true, _) => name.to_string(),
        (false, Some(_)) => format!("docker.io/{name}"),
        (false, None) => format!("docker.io/library/{name}"),
    };
    let last_segment = full.rsplit('/').next().unwrap_or("");
    if let Some(d) = digest {
        full.push('@');
        full.push_str(d);
    } else if !last_segment.contains(':') {
        full.push_str(":latest");
    }
    full
}

/// The repository part of a normalized reference (no tag or digest).
pub fn repository(normalized: &str) -> &str {
    let base = normalized.split('@').next().unwrap_or(normalized);
    let segment_start = base.rfind('/').map_or(0, |i| i + 1);
    match base[segment_start..].find(':') {
        Some(i) => &base[..segment_start + i],
        None => base,
    }
}

/// The image ID the runtime reports: `<repository>@sha256:<64 hex>`.
pub fn image_id(normalized: &str) -> String {
    if normalized.contains("@sha256:") {
        return normalized.to_string();
    }
    format!(
        "{}@sha256:{}",
        repository(normalized),
        hex_id(0, &[normalized], 4)
    )
}

/// A plausible, deterministic image size in bytes (10 MB to 500 MB).
pub fn image_size(normalized: &str) -> i64 {
    let draw = unit_draw(0, &["image-size", normalized]);
    10_000_000 + (draw * 490_000_000.0) as i64
}

/// The deterministic synthetic log line of a container, for `kubectl logs`.
pub fn synthetic_log_line(
    namespace: &str,
    pod: &str,
    container: &str,
    restart_count: i32,
) -> String {
    format!(
        "kubetwin: simulated container {container} of pod {namespace}/{pod} (restart {restart_count}) is running; no real process exists\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A draw continued from a prefix's hash is the draw of all the parts.
        #[test]
        fn draws_after_a_prefix_equal_whole_draws(
            seed: u64, node in "[a-z0-9.-]{0,30}", name in "[a-z]{0,8}", n: u64,
        ) {
            let whole = unit_draw(seed, &[&node, &name, &n.to_string()]);
            let after = unit_draw_after(stable_hash(seed, &[&node, &name]), n);
            proptest::prop_assert_eq!(whole.to_bits(), after.to_bits());
        }
    }

    #[test]
    fn normalizes_like_containerd() {
        let cases = [
            ("nginx", "docker.io/library/nginx:latest"),
            ("nginx:1.25", "docker.io/library/nginx:1.25"),
            ("bitnami/redis", "docker.io/bitnami/redis:latest"),
            ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/app:v1", "localhost:5000/app:v1"),
            ("quay.io/org/img@sha256:abc", "quay.io/org/img@sha256:abc"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_image(input), want, "{input}");
        }
        assert_eq!(
            repository("docker.io/library/nginx:1.25"),
            "docker.io/library/nginx"
        );
        assert_eq!(repository("localhost:5000/app:v1"), "localhost:5000/app");
        assert!(
            image_id("docker.io/library/nginx:1.25").starts_with("docker.io/library/nginx@sha256:")
        );
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = container_id(1, "uid", "c", 0);
        assert_eq!(a, container_id(1, "uid", "c", 0));
        assert_ne!(a, container_id(1, "uid", "c", 1));
        assert_ne!(a, container_id(2, "uid", "c", 0));
        assert_eq!(a.len(), "containerd://".len() + 64);
        let d = unit_draw(3, &["x"]);
        assert!((0.0..1.0).contains(&d));
    }
}
