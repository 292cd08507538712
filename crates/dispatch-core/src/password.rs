//! The local-password rules, kept simple and documented: 12 to 128 characters, not the person's
//! e-mail address or its name part, not one character repeated, and not one of the commonest
//! passwords of public breach lists (a short built-in list; compared ignoring case, and also with
//! trailing digits and punctuation removed, so `Password123!` is refused like `password`).

/// The shortest password accepted.
pub const MIN_LEN: usize = 12;
/// The longest password accepted (hashing cost stays bounded).
pub const MAX_LEN: usize = 128;

/// The commonest passwords of public breach lists, lower case.
const COMMON: &[&str] = &[
    "123456",
    "123456789",
    "12345678",
    "1234567890",
    "qwerty",
    "password",
    "111111",
    "123123",
    "1234567",
    "qwertyuiop",
    "qwerty123",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "000000",
    "abc123",
    "password1",
    "iloveyou",
    "dragon",
    "monkey",
    "letmein",
    "welcome",
    "admin",
    "administrator",
    "login",
    "princess",
    "sunshine",
    "football",
    "baseball",
    "master",
    "shadow",
    "superman",
    "trustno1",
    "starwars",
    "whatever",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "zaq12wsx",
    "asdfghjkl",
    "asdfgh",
    "zxcvbnm",
    "michael",
    "jennifer",
    "hunter",
    "hunter2",
    "charlie",
    "freedom",
    "secret",
    "changeme",
    "changeit",
    "default",
    "root",
    "toor",
    "test",
    "guest",
    "qazwsx",
    "1qaz2wsx",
    "qwe123",
    "aa123456",
    "654321",
    "987654321",
    "666666",
    "888888",
    "121212",
    "7777777",
    "computer",
    "internet",
    "samsung",
    "google",
    "hello",
    "hellohello",
    "lovely",
    "mustang",
    "access",
    "batman",
    "pokemon",
    "killer",
    "soccer",
    "hockey",
    "ranger",
    "buster",
    "thomas",
    "tigger",
    "robert",
    "daniel",
    "jordan",
    "harley",
    "ginger",
    "summer",
    "winter",
    "spring",
    "autumn",
    "pepper",
    "cheese",
    "cookie",
    "flower",
    "purple",
    "orange",
    "yellow",
    "silver",
    "golden",
    "diamond",
    "dispatch",
    "incident",
    "security",
    "letmein123",
    "welcome1",
    "welcome123",
    "password123",
    "passwordpassword",
    "qwertyqwerty",
    "correcthorsebatterystaple",
    "iloveyou123",
    "abcdefghijkl",
    "abcd1234",
    "abcdefgh",
];

/// Why a password is refused, or `Ok` when it is acceptable for the person with this e-mail.
pub fn check(password: &str, email: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(format!("must be at least {MIN_LEN} characters"));
    }
    if len > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    let lower = password.to_lowercase();
    let email = email.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lower.contains(&email) || (local.len() >= 4 && lower.contains(local)) {
        return Err("must not contain your e-mail address or its name part".into());
    }
    let mut chars = lower.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err("must not be one character repeated".into());
    }
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let doubled = |w: &str| lower == format!("{w}{w}");
    if COMMON
        .iter()
        .any(|w| *w == lower || *w == stem || doubled(w) || lower.starts_with(&format!("{w}!")))
    {
        return Err("is one of the most common passwords; choose another".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_personal_passwords_are_refused() {
        assert!(check("short", "a@example.com").unwrap_err().contains("12"));
        assert!(check(&"x".repeat(129), "a@example.com").is_err());
        assert!(check("Password123!", "a@example.com")
            .unwrap_err()
            .contains("common"));
        assert!(check("qwertyqwerty", "a@example.com").is_err());
        assert!(check("aaaaaaaaaaaaaa", "a@example.com").is_err());
        assert!(check("alice.smith-2026", "alice.smith@example.com")
            .unwrap_err()
            .contains("e-mail"));
        assert!(check("violet kettle drumbeat", "alice@example.com").is_ok());
    }
}
