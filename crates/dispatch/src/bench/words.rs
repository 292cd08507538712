//! The bench's vocabulary (words for titles, descriptions and tags that search and filters can
//! find) and a small deterministic random source.

/// Systems an incident can hit.
#[rustfmt::skip]
pub const COMPONENTS: &[&str] = &[
    "checkout", "payments", "search", "login", "billing", "inventory", "gateway", "database", "cache", "queue",
    "scheduler", "notifications", "storage", "dns", "loadbalancer", "kubernetes", "kafka", "redis", "postgres",
    "frontend", "mobile", "reporting", "analytics", "cdn", "vpn", "email", "ledger", "catalog", "shipping", "auth",
];

/// What goes wrong.
#[rustfmt::skip]
pub const SYMPTOMS: &[&str] = &[
    "latency spike", "elevated errors", "outage", "timeouts", "degraded performance", "memory leak", "disk full",
    "certificate expiry", "replication lag", "connection refused", "data corruption", "high cpu", "packet loss",
    "crash loop", "stale reads",
];

/// Where.
pub const REGIONS: &[&str] = &["eu-west", "us-east", "us-west", "ap-south", "eu-central"];

/// Why.
#[rustfmt::skip]
pub const CAUSES: &[&str] = &[
    "a configuration change", "a failed deploy", "a traffic surge", "an expired certificate", "a noisy neighbour",
    "a schema migration", "a network partition", "a dependency upgrade",
];

/// What the on-call engineer saw.
#[rustfmt::skip]
pub const OBSERVATIONS: &[&str] = &[
    "error rates above five percent", "p99 latency over two seconds", "saturated connection pools",
    "restarting pods", "growing queue depth", "failing health checks",
];

/// Tags of the default project.
#[rustfmt::skip]
pub const TAGS: &[&str] = &[
    "database", "network", "customer-facing", "security", "third-party", "capacity", "deploy", "data",
];

/// Words that occur in seeded titles and descriptions, for the search scenario.
pub const SEARCH_WORDS: &[&str] = &[
    "checkout",
    "latency",
    "redis",
    "timeouts",
    "ledger",
    "replication",
];

/// A small deterministic random source (SplitMix64); the bench needs no cryptographic quality.
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// `latency spike` → `Latency spike`.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_search_word_is_in_the_vocabulary() {
        let text = [COMPONENTS, SYMPTOMS].concat().join(" ");
        for w in SEARCH_WORDS {
            assert!(text.split(' ').any(|t| t == *w), "{w}");
        }
        assert_eq!(capitalise("latency spike"), "Latency spike");
        let mut r = Rng::new(1);
        assert!((0..100).all(|_| r.below(7) < 7));
    }
}
