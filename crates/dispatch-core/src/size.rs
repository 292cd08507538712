//! Sizes as people read them in limits and errors: `10 MB`, `512 KB`, `100 bytes`.

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
    use super::human;

    #[test]
    fn sizes_read_in_the_largest_exact_unit() {
        assert_eq!(human(10 * 1024 * 1024), "10 MB");
        assert_eq!(human(1024 * 1024), "1 MB");
        assert_eq!(human(512 * 1024), "512 KB");
        assert_eq!(human(1024 * 1024 + 1), "1048577 bytes");
        assert_eq!(human(100), "100 bytes");
    }
}
