//! Emulators of the vendors Dispatch's providers call, each following the vendor's public API
//! documentation (paths, auth headers, query parameters, bodies, errors, pagination, 429 with
//! `Retry-After`), each with tests of its own against the documentation's samples.

pub mod confluence;
pub mod google;
pub mod jira;
pub mod opsgenie;
pub mod pagerduty;
pub mod zoom;

/// An emulator's HTTP server on a free local port; stopped when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    handle: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `app`.
    pub async fn start(app: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, handle }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// What an emulator gets wrong on demand: 429s for the next requests, and a flaky mode in which
/// calls fail in rounds of four (what each place in the round does is the emulator's).
#[derive(Default)]
pub struct Faults {
    limit_next: std::sync::atomic::AtomicUsize,
    flaky: std::sync::atomic::AtomicBool,
    calls: std::sync::atomic::AtomicUsize,
}

impl Faults {
    /// Answers the next `n` requests with 429 and `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: usize) {
        self.limit_next
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether this request is one to answer with 429.
    pub fn limited(&self) -> bool {
        take_one(&self.limit_next)
    }

    /// Turns the flaky mode on or off (a new round starts).
    pub fn flaky(&self, on: bool) {
        use std::sync::atomic::Ordering;
        self.calls.store(0, Ordering::SeqCst);
        self.flaky.store(on, Ordering::SeqCst);
    }

    /// In flaky mode, this call's place in its round of four (0 to 3); `None` otherwise.
    pub fn place(&self) -> Option<usize> {
        use std::sync::atomic::Ordering;
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        self.flaky.load(Ordering::SeqCst).then_some(n % 4)
    }
}

/// How many of an emulator's logged `requests` start with `prefix`.
pub fn count_starting(requests: &[String], prefix: &str) -> usize {
    requests.iter().filter(|r| r.starts_with(prefix)).count()
}

/// Counts one down from `n` (the requests still to answer with 429): whether it was above zero.
pub fn take_one(n: &std::sync::atomic::AtomicUsize) -> bool {
    use std::sync::atomic::Ordering;
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A query string's pairs, percent-decoded (`+` is a space), in order.
pub fn query_pairs(q: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

#[test]
fn query_strings_are_decoded_pair_by_pair() {
    assert_eq!(
        query_pairs("escalation_policy_ids%5B%5D=P1&x=a+b&y=%zz&z"),
        vec![
            ("escalation_policy_ids[]".into(), "P1".into()),
            ("x".into(), "a b".into()),
            ("y".into(), "%zz".into()),
            ("z".into(), String::new()),
        ]
    );
}
