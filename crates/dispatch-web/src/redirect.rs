//! Where a browser may be sent after signing in (a form sign-in's or single sign-on's `next`):
//! only to a path on this server, never to another site and never with a header-breaking
//! character.

/// Where to send a browser after it signed in: `next` when it is a path on this server, else
/// `/`. Accepted is only an absolute path that starts with one `/`, written in visible ASCII
/// (no spaces or control characters, which browsers strip: `/\t/evil.example` is
/// `//evil.example` to them), without a backslash or `//` anywhere, also once percent-decoded,
/// and that resolves to this server as a URL.
pub fn safe_next(next: Option<&str>) -> &str {
    let Some(n) = next else { return "/" };
    let plain = |b: &[u8]| {
        b.first() == Some(&b'/')
            && !b.contains(&b'\\')
            && !b.windows(2).any(|w| w == b"//")
            && !b.iter().any(|c| c.is_ascii_control())
    };
    let visible = n.bytes().all(|c| c.is_ascii_graphic());
    let decoded = percent_decode(n.as_bytes());
    let base = reqwest::Url::parse("http://dispatch.invalid/").expect("a valid URL");
    let same_site = base
        .join(n)
        .is_ok_and(|u| u.origin() == base.origin() && u.path().starts_with('/'));
    if visible && plain(n.as_bytes()) && plain(&decoded) && same_site {
        n
    } else {
        "/"
    }
}

/// `%XX` sequences decoded to their bytes; anything else kept as it is.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (s[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn a_path_on_this_server_is_kept() {
        for next in [
            "/",
            "/incidents",
            "/incidents/INC-4?status=active&sort=-created_at",
            "/incidents?filter=priority%20%3D%20high",
            "/settings/users#top",
            "/a/b/c/",
        ] {
            assert_eq!(safe_next(Some(next)), next);
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_or_break_the_header_becomes_the_root() {
        for next in [
            "/\t/evil.example",
            "/%09/evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%5Cevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            " /incidents",
            "/%0d%0aSet-Cookie:x=1",
            "/\r\nSet-Cookie:x=1",
            "/\0",
            "/%00",
            "/%7f",
            "/\u{7f}",
            "/a b",
            "/caf\u{e9}",
            "/\u{2028}evil",
            "/incidents//x",
        ] {
            assert_eq!(safe_next(Some(next)), "/", "{next:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
