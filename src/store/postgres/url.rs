//! The `--storage` URL: parsed into a client configuration and a TLS connector, and
//! described for messages without its password.

use super::*;

/// Splits a `--storage` URL into the client configuration and the TLS connector.
pub(super) fn parse_url(url: &str) -> Result<(tokio_postgres::Config, Option<tls::RustlsConnect>)> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::BadUrl(format!(
            "{:?} is not a postgres:// URL",
            url.split('@').next_back().unwrap_or_default()
        )));
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut mode, mut root) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => mode = Some(v.to_string()),
            Some(("sslrootcert", v)) => {
                let path = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
                root = Some(path.into_owned());
            }
            _ => kept.push(pair),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable") => None,
        Some("require" | "verify-ca" | "verify-full") => {
            let path = root.ok_or_else(|| {
                Error::BadUrl(
                    "sslmode asks for TLS: give the database's CA with sslrootcert=FILE".into(),
                )
            })?;
            let pem = std::fs::read(&path)
                .map_err(|e| Error::BadUrl(format!("sslrootcert {path}: {e}")))?;
            Some(tls::RustlsConnect::with_ca(&pem).map_err(Error::BadUrl)?)
        }
        Some(other) => {
            return Err(Error::BadUrl(format!(
                "sslmode={other} (use disable, require, verify-ca or verify-full)"
            )))
        }
    };
    if tls.is_some() {
        kept.push("sslmode=require");
    }
    let rebuilt =
        if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    let mut config = tokio_postgres::Config::from_str(&rebuilt)
        .map_err(|e| Error::BadUrl(format!("{}: {e}", describe_str(base))))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("sigbox");
    Ok((config, tls))
}

/// `user@host:port/db` of a configuration.
pub(super) fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or(config.get_user().unwrap_or("?"))
    )
}

/// A URL without its password, for messages.
pub(super) fn describe_str(url: &str) -> String {
    match url.split_once('@') {
        Some((creds, rest)) => {
            let user = creds.rsplit("//").next().unwrap_or_default();
            let user = user.split(':').next().unwrap_or_default();
            format!("{user}@{rest}")
        }
        None => url.to_string(),
    }
}

/// The server's message (with its SQLSTATE) or the client's.
pub(super) fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_never_echo_a_password() {
        let bad = parse_url("mysql://u:secret@h/db").map(|_| ()).unwrap_err().to_string();
        assert!(bad.contains("postgres://") && !bad.contains("secret"), "{bad}");
        let no_ca = parse_url("postgres://u@h/db?sslmode=require").map(|_| ()).unwrap_err();
        assert!(no_ca.to_string().contains("sslrootcert"), "{no_ca}");
        let mode = parse_url("postgres://u@h/db?sslmode=allow").map(|_| ()).unwrap_err();
        assert!(mode.to_string().contains("sslmode=allow"), "{mode}");
        let (config, tls) = parse_url("postgres://u:pw@127.0.0.1:5433/logs").unwrap();
        assert!(tls.is_none());
        assert_eq!(describe(&config), "u@127.0.0.1:5433/logs");
    }
}
