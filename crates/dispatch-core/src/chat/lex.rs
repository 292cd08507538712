//! Splitting a command line into words: whitespace separates, quotes (`"…"`, `'…'`, `“…”`,
//! `‘…’`) group, and a backslash escapes the next character inside double quotes. Never fails:
//! an unclosed quote runs to the end of the line.

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// The word with its quotes removed.
    pub text: String,
    /// How many characters of `text` came before the first quoted part (a `key=` or `key:`
    /// prefix counts only there, so `"a=b"` is a plain word).
    pub unquoted: usize,
    /// True when any part of the word was quoted.
    pub quoted: bool,
}

impl Word {
    /// `(key, value)` when the word is `key=value` or `key:value` and the key, lower-cased
    /// with dashes as underscores, is one of `keys`.
    pub fn pair(&self, keys: &[&str]) -> Option<(String, String)> {
        let head: String = self.text.chars().take(self.unquoted).collect();
        let at = head.find(['=', ':'])?;
        let key = head[..at].trim().to_lowercase().replace('-', "_");
        keys.contains(&key.as_str())
            .then(|| (key, self.text[at + 1..].to_string()))
    }
}

fn closing(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '\'' => Some('\''),
        '“' | '”' | '„' => Some('”'),
        '‘' | '’' => Some('’'),
        _ => None,
    }
}

/// The words of `line`.
pub(crate) fn words(line: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return out;
        }
        let mut text = String::new();
        let mut unquoted = None;
        let mut count = 0usize;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match closing(c) {
                // A quote opens a group only at the start of a word or after `=`/`:`; inside a
                // word (`don't`) it is a letter.
                Some(close) if count == 0 || text.ends_with(['=', ':']) => {
                    unquoted.get_or_insert(count);
                    let double = close == '"' || close == '”';
                    while let Some(q) = chars.next() {
                        if q == close || (close == '”' && q == '"') {
                            break;
                        }
                        if double && q == '\\' {
                            match chars.next() {
                                Some('n') => text.push('\n'),
                                Some('t') => text.push('\t'),
                                Some(e) => text.push(e),
                                None => {}
                            }
                        } else {
                            text.push(q);
                        }
                        count += 1;
                    }
                }
                _ => {
                    text.push(c);
                    count += 1;
                }
            }
        }
        out.push(Word {
            unquoted: unquoted.unwrap_or(count),
            quoted: unquoted.is_some(),
            text,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        words(line).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn quotes_group_and_escapes_work_inside_double_quotes() {
        assert_eq!(
            texts(r#"a "b c" 'd e' x="y \"z\"" “smart quotes” don't"#),
            ["a", "b c", "d e", "x=y \"z\"", "smart quotes", "don't"]
        );
        assert_eq!(texts("  \"unclosed quote  "), ["unclosed quote  "]);
        assert_eq!(texts(r#""line\nbreak""#), ["line\nbreak"]);
        assert!(texts("   ").is_empty());
    }

    #[test]
    fn pairs_are_recognised_only_outside_quotes_and_for_known_keys() {
        let w = &words(r#"conditions="Checkout: failing""#)[0];
        assert_eq!(
            w.pair(&["conditions"]),
            Some(("conditions".into(), "Checkout: failing".into()))
        );
        assert_eq!(words(r#""a=b""#)[0].pair(&["a"]), None);
        assert_eq!(
            words("next-steps=x")[0].pair(&["next_steps"]).unwrap().1,
            "x"
        );
        assert_eq!(words("10:30")[0].pair(&["at"]), None);
    }
}
