//! Markdown to safe HTML for documents people and templates write. Raw HTML in the markdown is
//! shown as text (escaped), never passed through, and links or images whose address is not
//! `http`, `https`, `mailto`, a relative path or an anchor lose the address (so no
//! `javascript:` link can run a script).

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

/// Whether a link or image address is safe to put in `href`/`src`.
fn safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    // Anything before the first `:` that comes before a `/`, `?` or `#` is a scheme.
    let scheme_end = u.find(':');
    let path_start = u.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (None, _) => true,
        (Some(c), Some(p)) if p < c => true,
        (Some(_), _) => {
            u.starts_with("http://") || u.starts_with("https://") || u.starts_with("mailto:")
        }
    }
}

fn defuse(url: CowStr<'_>) -> CowStr<'_> {
    if safe_url(&url) {
        url
    } else {
        CowStr::Borrowed("#unsafe-link")
    }
}

/// Renders markdown (CommonMark with tables, strikethrough and task lists) to HTML that is safe
/// to put in a page.
pub fn to_safe_html(markdown: &str) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, opts).map(|ev| match ev {
        // Raw HTML is text to show, not markup to trust.
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: defuse(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: defuse(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn markdown_becomes_html() {
        let h = to_safe_html(
            "# Summary\n\n**Bold** and `code`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(h.contains("<h1>Summary</h1>"), "{h}");
        assert!(h.contains("<strong>Bold</strong>"));
        assert!(h.contains("<code>code</code>"));
        assert!(h.contains("<li>one</li>"));
        assert!(h.contains("<table>"));
    }

    #[test]
    fn raw_html_is_shown_as_text_never_run() {
        for input in [
            "<script>alert(1)</script>",
            "hello <img src=x onerror=alert(1)> there",
            "<div onclick=\"alert(1)\">x</div>",
            "<iframe src=\"https://evil.example\"></iframe>",
        ] {
            let h = to_safe_html(input);
            assert!(!h.contains("<script"), "{input} → {h}");
            assert!(!h.contains("<img"), "{input} → {h}");
            assert!(!h.contains("<div"), "{input} → {h}");
            assert!(!h.contains("<iframe"), "{input} → {h}");
            assert!(h.contains("&lt;"), "{input} → {h}");
        }
    }

    #[test]
    fn script_links_lose_their_address() {
        for input in [
            "[click](javascript:alert(1))",
            "[click](JavaScript:alert(1))",
            "[click]( javascript:alert(1))",
            "![x](data:text/html;base64,PHNjcmlwdD4=)",
            "[click](vbscript:msgbox)",
            "<javascript:alert(1)>",
        ] {
            let h = to_safe_html(input);
            // Every address left in the HTML is the defused one (the text may still say it).
            for attr in [r#"href=""#, r#"src=""#] {
                for part in h.split(attr).skip(1) {
                    let url = &part[..part.find('"').unwrap()];
                    assert_eq!(url, "#unsafe-link", "{input} → {h}");
                }
            }
            assert!(h.contains("#unsafe-link"), "{input} → {h}");
        }
        let h = to_safe_html(
            "[runbook](https://example.com/r?a=1&b=2) [doc](/incidents/INC-1) [m](mailto:a@b.c)",
        );
        assert!(
            h.contains(r#"href="https://example.com/r?a=1&amp;b=2""#),
            "{h}"
        );
        assert!(h.contains(r#"href="/incidents/INC-1""#));
        assert!(h.contains(r#"href="mailto:a@b.c""#));
    }

    #[test]
    fn text_is_escaped() {
        let h = to_safe_html("a < b & \"c\" > d");
        assert!(h.contains("a &lt; b &amp;"), "{h}");
    }
}
