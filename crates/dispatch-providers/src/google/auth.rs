//! A service account's key and the OAuth 2.0 JWT grant with domain-wide delegation: a JWT
//! (RS256, `iss` = the account's e-mail, `sub` = the Workspace user Dispatch acts as, `scope`
//! space-separated, `aud` = the token URI, `iat`, `exp` = `iat` + 3600) signed with the key's
//! private half and exchanged at the token URI
//! (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`).

use base64::Engine as _;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::{json, Value};
use std::sync::Arc;

/// The JWT bearer grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How long an assertion is valid (Google takes at most an hour).
pub const ASSERTION_LIFETIME_S: i64 = 3600;

/// A service account's key, from the JSON key file Google gives.
#[derive(Clone)]
pub struct ServiceAccountKey {
    /// `client_email`: the account (the JWT's `iss`).
    pub client_email: String,
    /// `private_key_id`: named in the JWT header's `kid`.
    pub private_key_id: String,
    /// `token_uri`: where tokens come from.
    pub token_uri: String,
    key: Arc<RsaKeyPair>,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

/// The DER bytes of a PEM block (`-----BEGIN PRIVATE KEY-----` …).
fn pem_der(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    if !pem.contains("-----BEGIN PRIVATE KEY-----") {
        return Err("private_key is not a PEM \"PRIVATE KEY\" (PKCS#8) block".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("private_key is not valid PEM: {e}"))
}

impl ServiceAccountKey {
    /// Reads the key file's JSON; the error says which field is wrong (never the key itself).
    pub fn parse(json_text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(json_text)
            .map_err(|e| format!("the service account key is not JSON: {e}"))?;
        let field = |k: &str| -> Result<String, String> {
            v[k].as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("the service account key has no {k:?}"))
        };
        if let Some(t) = v["type"].as_str() {
            if t != "service_account" {
                return Err(format!(
                    "the key is of type {t:?}; a service account key (\"service_account\") is needed"
                ));
            }
        }
        let der = pem_der(&field("private_key")?)?;
        let key = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| format!("private_key is not an RSA key ring can use: {e}"))?;
        Ok(Self {
            client_email: field("client_email")?,
            private_key_id: v["private_key_id"].as_str().unwrap_or_default().into(),
            token_uri: field("token_uri")
                .unwrap_or_else(|_| "https://oauth2.googleapis.com/token".into()),
            key: Arc::new(key),
        })
    }

    /// The signed JWT asking for `scopes` as `subject`, for the token endpoint `aud`, issued
    /// at `iat` (Unix seconds).
    pub fn assertion(&self, subject: &str, scopes: &[&str], aud: &str, iat: i64) -> String {
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if !self.private_key_id.is_empty() {
            header["kid"] = json!(self.private_key_id);
        }
        let mut claims = json!({
            "iss": self.client_email,
            "scope": scopes.join(" "),
            "aud": aud,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME_S,
        });
        if !subject.is_empty() {
            claims["sub"] = json!(subject);
        }
        let signing_input = format!("{}.{}", b64(&header), b64(&claims));
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            // Signing fails only when the output buffer has the wrong length, which it has not.
            .expect("RS256 signing with a valid key");
        format!(
            "{signing_input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_key_file_names_the_field() {
        let e = ServiceAccountKey::parse("{").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let e = ServiceAccountKey::parse(r#"{"type": "authorized_user"}"#).unwrap_err();
        assert!(e.contains("service_account"), "{e}");
        let e = ServiceAccountKey::parse(r#"{"client_email": "a@b"}"#).unwrap_err();
        assert!(e.contains("\"private_key\""), "{e}");
        let e = ServiceAccountKey::parse(
            r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "client_email": "a@b"}"#,
        )
        .unwrap_err();
        assert!(e.contains("RSA key"), "{e}");
    }
}
