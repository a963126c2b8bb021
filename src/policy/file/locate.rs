//! Finding where a key sits in the policy text, for errors found after parsing (serde keeps
//! no positions once a value is built). The search walks a path of words (`rules`, the
//! rule's name, `threshold`), each found as a whole word after the previous one, which
//! points at the right place for both YAML and JSON layouts.

/// The 1-based (line, column) of the last word of `path` that could be found in order.
pub fn locate(text: &str, path: &[&str]) -> (usize, usize) {
    let mut offset = 0;
    let mut found = None;
    for word in path {
        if let Some(at) = find_word(text, word, offset) {
            found = Some(at);
            offset = at + word.len();
        }
    }
    position(text, found.unwrap_or(0))
}

fn find_word(text: &str, word: &str, from: usize) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let mut start = from;
    while let Some(rel) = text.get(start..)?.find(word) {
        let at = start + rel;
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + word.len()..).and_then(|s| s.chars().next());
        if !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char) {
            return Some(at);
        }
        start = at + word.len();
    }
    None
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn path_is_followed_in_order() {
        let text = "signers:\n  a: {}\nrules:\n  - name: a\n    threshold: 3\n";
        assert_eq!(locate(text, &["rules", "a", "threshold"]), (5, 5));
        assert_eq!(locate(text, &["rules", "a"]), (4, 11));
        assert_eq!(locate(text, &["nothing"]), (1, 1));
    }

    #[test]
    fn words_are_whole() {
        let text = "rel: 1\nrelease: 2\n";
        assert_eq!(locate(text, &["release"]), (2, 1));
    }
}
