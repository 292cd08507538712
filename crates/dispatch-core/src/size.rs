//! Sizes and counts as people read them in limits, errors and pages: `10 MB`, `512 KB`,
//! `100 bytes`, `10,000`.

/// A count with its thousands grouped by commas: `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count in the largest unit (binary: 1 KB = 1024 bytes) that divides it exactly.
pub fn human(bytes: usize) -> String {
    const KB: usize = 1024;
    match bytes {
        b if b >= KB * KB && b % (KB * KB) == 0 => format!("{} MB", b / (KB * KB)),
        b if b >= KB && b % KB == 0 => format!("{} KB", b / KB),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::{human, thousands};

    #[test]
    fn counts_group_their_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn sizes_read_in_the_largest_exact_unit() {
        assert_eq!(human(10 * 1024 * 1024), "10 MB");
        assert_eq!(human(1024 * 1024), "1 MB");
        assert_eq!(human(512 * 1024), "512 KB");
        assert_eq!(human(1024 * 1024 + 1), "1048577 bytes");
        assert_eq!(human(100), "100 bytes");
    }
}
