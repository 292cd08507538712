//! Secrets at rest (provider credentials, API keys of external services): sealed with
//! AES-256-GCM under a key from the configuration (`DISPATCH_SECRET_KEY`, 32 bytes in base64),
//! with a fresh random nonce per seal. A [`StoredSecret`] is what the database keeps
//! (`enc:v1:` + base64 of nonce and ciphertext); it never prints or serializes its content, so
//! an API that returns a configuration shows `***` in its place.

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64_URL};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Serialize, Serializer};
use std::fmt;

const PREFIX: &str = "enc:v1:";

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The key is not 32 bytes of base64.
    #[error("the secret key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")]
    BadKey,
    /// The stored value is not one this version wrote.
    #[error("not a sealed secret")]
    NotSealed,
    /// Wrong key, or the stored value was changed.
    #[error("the secret cannot be opened with this key (wrong key, or it was altered)")]
    Tampered,
}

/// The key that seals and opens secrets.
pub struct SecretKey(LessSafeKey);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A key from 32 bytes of (standard) base64.
    pub fn parse(b64: &str) -> Result<Self, SecretError> {
        let bytes = B64.decode(b64.trim()).map_err(|_| SecretError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SecretError::BadKey)?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// A new random key, in base64 (for `dispatch config example` and tests).
    pub fn generate() -> String {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random source works");
        B64.encode(bytes)
    }

    /// Seals a secret; `context` (e.g. `provider:12:api_token`) is bound to it, so a sealed
    /// value copied to another field does not open there.
    pub fn seal(&self, plaintext: &str, context: &str) -> StoredSecret {
        StoredSecret(format!(
            "{PREFIX}{}",
            B64.encode(self.seal_bytes(plaintext, context))
        ))
    }

    /// Opens a sealed secret with the context it was sealed with.
    pub fn open(&self, stored: &StoredSecret, context: &str) -> Result<String, SecretError> {
        let raw = stored
            .0
            .strip_prefix(PREFIX)
            .ok_or(SecretError::NotSealed)?;
        let bytes = B64.decode(raw).map_err(|_| SecretError::NotSealed)?;
        self.open_bytes(bytes, context)
    }

    /// `plaintext` sealed as a token for a link (URL-safe base64, no padding): whoever holds
    /// the link can show it back, but cannot read or forge one (e.g. an unsubscribe link).
    pub fn seal_token(&self, plaintext: &str, context: &str) -> String {
        B64_URL.encode(self.seal_bytes(plaintext, context))
    }

    /// Opens a token [`SecretKey::seal_token`] made with the same context.
    pub fn open_token(&self, token: &str, context: &str) -> Result<String, SecretError> {
        let bytes = B64_URL
            .decode(token.trim())
            .map_err(|_| SecretError::NotSealed)?;
        self.open_bytes(bytes, context)
    }

    /// The nonce, then the ciphertext and its tag.
    fn seal_bytes(&self, plaintext: &str, context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random source works");
        let mut data = plaintext.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("sealing a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        out
    }

    fn open_bytes(&self, bytes: Vec<u8>, context: &str) -> Result<String, SecretError> {
        if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SecretError::NotSealed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::NotSealed)?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed)
            .map_err(|_| SecretError::Tampered)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Tampered)
    }
}

/// A sealed secret as stored. Its `Debug`, `Display` and `Serialize` show `***`, never the
/// content; [`StoredSecret::as_stored`] gives the sealed text for the database.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret(String);

impl StoredSecret {
    /// A value read back from the database.
    pub fn from_stored(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The sealed text to store.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Whether the stored text is sealed (and not, say, a plain value from before sealing).
    pub fn is_sealed(&self) -> bool {
        self.0.starts_with(PREFIX)
    }
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredSecret(***)")
    }
}

impl fmt::Display for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for StoredSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context_and_never_shows_itself() {
        let key = SecretKey::parse(&SecretKey::generate()).unwrap();
        let a = key.seal("xoxb-123-secret", "provider:1:token");
        let b = key.seal("xoxb-123-secret", "provider:1:token");
        assert!(a.is_sealed() && !a.as_stored().contains("xoxb"));
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(key.open(&a, "provider:1:token").unwrap(), "xoxb-123-secret");
        assert_eq!(
            key.open(&a, "provider:2:token"),
            Err(SecretError::Tampered),
            "bound to its context"
        );
        let other = SecretKey::parse(&SecretKey::generate()).unwrap();
        assert_eq!(
            other.open(&a, "provider:1:token"),
            Err(SecretError::Tampered)
        );
        let mut bytes = B64.decode(&a.as_stored()[PREFIX.len()..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = StoredSecret::from_stored(format!("{PREFIX}{}", B64.encode(bytes)));
        assert_eq!(
            key.open(&altered, "provider:1:token"),
            Err(SecretError::Tampered)
        );
        assert_eq!(
            key.open(&StoredSecret::from_stored("plain"), "x"),
            Err(SecretError::NotSealed)
        );
        assert_eq!(format!("{a:?} {a}"), "StoredSecret(***) ***");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"***\"");
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }

    #[test]
    fn a_token_opens_only_with_its_key_and_context_and_is_safe_in_a_url() {
        let key = SecretKey::parse(&SecretKey::generate()).unwrap();
        let t = key.seal_token("7\nvp@example.com", "unsubscribe");
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{t}"
        );
        assert!(!t.contains("example"));
        assert_eq!(
            key.open_token(&t, "unsubscribe").unwrap(),
            "7\nvp@example.com"
        );
        assert_eq!(key.open_token(&t, "other"), Err(SecretError::Tampered));
        let mut altered = t.clone().into_bytes();
        altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.open_token(&String::from_utf8(altered).unwrap(), "unsubscribe"),
            Err(SecretError::Tampered)
        );
        assert_eq!(
            key.open_token("not+a/token", "unsubscribe"),
            Err(SecretError::NotSealed)
        );
        assert_eq!(
            key.open_token("", "unsubscribe"),
            Err(SecretError::NotSealed)
        );
    }

    #[test]
    fn a_key_must_be_32_bytes_of_base64() {
        assert_eq!(SecretKey::parse("short").unwrap_err(), SecretError::BadKey);
        assert_eq!(
            SecretKey::parse(&B64.encode([0u8; 16])).unwrap_err(),
            SecretError::BadKey
        );
        assert!(SecretKey::parse(&B64.encode([7u8; 32])).is_ok());
    }
}
