//! A source's optional request signature: `X-Dispatch-Timestamp` (Unix seconds) and
//! `X-Dispatch-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">` under the secret
//! configured for the project and source. A timestamp more than [`TOLERANCE_SECONDS`] away from
//! now is refused, so a captured request cannot be sent again later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-dispatch-signature";
/// The header that carries the signing time.
pub const TIMESTAMP_HEADER: &str = "x-dispatch-timestamp";
/// How far the signing time may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signed request is refused (the message names the header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is absent.
    #[error("this source requires a signed request: the {0} header is missing")]
    Missing(&'static str),
    /// The timestamp is not a number of seconds.
    #[error("the {TIMESTAMP_HEADER} header must be Unix seconds")]
    BadTimestamp,
    /// The timestamp is too far from now.
    #[error("the {TIMESTAMP_HEADER} header is more than {TOLERANCE_SECONDS} seconds from now (a replayed or delayed request)")]
    Stale,
    /// The signature does not match the body.
    #[error("the {SIGNATURE_HEADER} header does not match the body (expected sha256=<hex HMAC-SHA256 of \"{{timestamp}}.{{body}}\">)")]
    Mismatch,
    /// This exact request was already taken.
    #[error("this signed request was already received (a replay)")]
    Replayed,
}

/// The signature header's value for a body signed at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a request's signature headers (as sent, `None` when absent) against its body, at
/// `now` (Unix seconds). Answers the signing time.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<i64, SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
    let signature = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - at).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let hex_sig = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Mismatch)?;
    let sent = hex::decode(hex_sig).map_err(|_| SignatureError::Mismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sent)
        .map_err(|_| SignatureError::Mismatch)?;
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_body_and_time_only() {
        let body = br#"{"alerts":[]}"#;
        let sig = sign(b"s3cret", 1_000, body);
        assert_eq!(
            verify(b"s3cret", Some("1000"), Some(&sig), body, 1_100),
            Ok(1_000)
        );
        assert_eq!(
            verify(b"s3cret", Some("1000"), Some(&sig), b"{}", 1_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", Some("1000"), Some(&sig), body, 1_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"s3cret", Some("1001"), Some(&sig), body, 1_100),
            Err(SignatureError::Mismatch),
            "the time is signed too"
        );
        assert_eq!(
            verify(b"s3cret", Some("1000"), Some(&sig), body, 1_000 + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(b"s3cret", None, Some(&sig), body, 1_000),
            Err(SignatureError::Missing(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify(b"s3cret", Some("1000"), None, body, 1_000),
            Err(SignatureError::Missing(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(b"s3cret", Some("soon"), Some(&sig), body, 1_000),
            Err(SignatureError::BadTimestamp)
        );
    }
}
