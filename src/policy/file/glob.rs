//! Path globs for rule selectors, compiled to anchored regexes: `*` matches within one path
//! segment, `**` across segments (`a/**/b` also matches `a/b`), `?` one character, `[...]`
//! a character class. Paths use `/` separators.

/// Compiles `glob` to an anchored regex.
///
/// Errors: a message naming the problem (unclosed class, empty glob).
pub fn compile(glob: &str) -> Result<regex::Regex, String> {
    if glob.is_empty() {
        return Err("the glob is empty".into());
    }
    let mut out = String::from("^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                let slash_after = chars.get(i + 2) == Some(&'/');
                let at_segment_start = i == 0 || chars.get(i - 1) == Some(&'/');
                if at_segment_start && slash_after {
                    out.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    out.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                let Some(end) = chars.iter().skip(i + 1).position(|&c| c == ']') else {
                    return Err("'[' without a closing ']'".into());
                };
                let class: String = chars.get(i + 1..i + 1 + end).unwrap_or(&[]).iter().collect();
                let class = class.strip_prefix('!').map_or(class.clone(), |r| format!("^{r}"));
                out.push('[');
                out.push_str(&class.replace('\\', "\\\\"));
                out.push(']');
                i += end + 2;
                continue;
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    out.push('$');
    regex::Regex::new(&out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn glob_segments_and_double_star() {
        let cases = [
            ("*.tar.gz", "app.tar.gz", true),
            ("*.tar.gz", "dist/app.tar.gz", false),
            ("dist/**/*.whl", "dist/a.whl", true),
            ("dist/**/*.whl", "dist/x/y/a.whl", true),
            ("dist/**", "dist/x/y", true),
            ("**/*.txt", "a.txt", true),
            ("**/*.txt", "a/b/c.txt", true),
            ("file?.bin", "file1.bin", true),
            ("file?.bin", "file12.bin", false),
            ("[ab].txt", "a.txt", true),
            ("[!ab].txt", "a.txt", false),
            ("a+b.txt", "a+b.txt", true),
            ("a+b.txt", "aab.txt", false),
        ];
        for (glob, path, want) in cases {
            assert_eq!(compile(glob).unwrap().is_match(path), want, "{glob} vs {path}");
        }
    }

    #[test]
    fn unclosed_class_is_an_error() {
        assert!(compile("[abc").unwrap_err().contains("']'"));
        assert!(compile("").is_err());
    }
}
