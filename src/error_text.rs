//! One line for an error and every cause under it (`what: why: deeper why`).
//!
//! Why: many errors here wrap a cause (`#[source]`) whose `Display` does not repeat it, and
//! reqwest's hides the I/O or TLS failure entirely; logs and messages that print only the
//! top error lose the part that names the problem.

/// `e` and its sources, joined by `": "`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("reading the key")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn every_cause_is_on_the_line() {
        let e = Outer(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"));
        assert_eq!(super::chain(&e), "reading the key: no such file");
    }
}
