//! gitsign's knobs (PROTOCOLS §7.4): defaults, overridden by git config `gitsign.*`,
//! overridden by the environment (`GITSIGN_*` before `SIGSTORE_*`), as gitsign orders them.
//!
//! The lookups are handed in, so this stays testable; the edge reads git config once with
//! `git config --get-regexp` (see [`parse_git_config`]).

use std::collections::HashMap;

use super::RekorMode;

/// Resolved settings. `None` means "from the Sigstore instance" (its signing config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// CA URL override.
    pub fulcio: Option<String>,
    /// Rekor URL override.
    pub rekor: Option<String>,
    /// OIDC issuer override.
    pub issuer: Option<String>,
    /// OAuth client ID.
    pub client_id: Option<String>,
    /// Token provider name (`interactive`, `device`, `github-actions`, `filesystem`, ...).
    pub token_provider: Option<String>,
    /// Online or offline Rekor mode.
    pub rekor_mode: RekorMode,
    /// Rekor API generation to write (`gitsign.rekorVersion`, 1 or 2). A v2 log has no
    /// search, so version 2 needs offline mode (the entry travels in the signature) and a
    /// timestamp authority (a v2 entry carries no time of its own).
    pub rekor_version: u32,
    /// Require the committer email to be the certificate identity.
    pub match_committer: bool,
    /// Put the CA intermediates into the signature (`gitsign.includeChain` /
    /// `GITSIGN_INCLUDE_CHAIN`, a sigbox extension).
    pub include_chain: bool,
    /// Credential cache socket.
    pub credential_cache: Option<String>,
    /// A file to append log lines to.
    pub log_path: Option<String>,
    /// A PEM file of the CA certificates to trust (`gitsign.fulcioRoot` /
    /// `GITSIGN_FULCIO_ROOT` / `SIGSTORE_ROOT_FILE`): replaces the trusted root's CAs.
    pub fulcio_root: Option<String>,
    /// A PEM file of the Rekor public key (`SIGSTORE_REKOR_PUBLIC_KEY`): replaces the
    /// trusted root's log keys.
    pub rekor_public_key: Option<String>,
    /// A file holding the OAuth client secret (`gitsign.clientSecretFile` /
    /// `GITSIGN_OIDC_CLIENT_SECRET_FILE`), for issuers whose client is confidential.
    pub client_secret_file: Option<String>,
    /// The OAuth redirect URL of the browser flow (`gitsign.redirectURL`): the loopback
    /// listener binds its host and port.
    pub redirect_url: Option<String>,
    /// Dex connector (`gitsign.connectorID`), e.g. `https://github.com/login/oauth`: skips
    /// the issuer's choice of identity provider.
    pub connector_id: Option<String>,
    /// Close the browser tab after sign-in (`gitsign.autoclose`, default true).
    pub autoclose: bool,
    /// Seconds before it closes (`gitsign.autocloseTimeout`, default 6).
    pub autoclose_timeout: u64,
    /// The command that opens the sign-in URL (`gitsign.urlOpener` /
    /// `GITSIGN_URL_OPENER`), shell-style words, `{{.URL}}` replaced by the URL.
    pub url_opener: Option<String>,
    /// An RFC 3161 timestamp server (`gitsign.timestampServerURL`): its token goes into
    /// the CMS as an unsigned attribute (else the signing config's TSA, if any).
    pub timestamp_server: Option<String>,
    /// A PEM file of the TSA's chain (`gitsign.timestampCertChain` /
    /// `GITSIGN_TIMESTAMP_CERT_CHAIN`): replaces the trusted root's timestamp authorities.
    pub timestamp_cert_chain: Option<String>,
}

impl Settings {
    /// The knobs that are set, by their git config names, for `gitsign version` (the
    /// client secret file is named, never read here).
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("gitsign.rekorMode", self.rekor_mode.name().to_string()),
            ("gitsign.rekorVersion", self.rekor_version.to_string()),
        ];
        let optional = [
            ("gitsign.fulcio", &self.fulcio),
            ("gitsign.rekor", &self.rekor),
            ("gitsign.issuer", &self.issuer),
            ("gitsign.clientID", &self.client_id),
            ("gitsign.clientSecretFile", &self.client_secret_file),
            ("gitsign.redirectURL", &self.redirect_url),
            ("gitsign.connectorID", &self.connector_id),
            ("gitsign.tokenProvider", &self.token_provider),
            ("gitsign.urlOpener", &self.url_opener),
            ("gitsign.fulcioRoot", &self.fulcio_root),
            ("SIGSTORE_REKOR_PUBLIC_KEY", &self.rekor_public_key),
            ("gitsign.timestampServerURL", &self.timestamp_server),
            ("gitsign.timestampCertChain", &self.timestamp_cert_chain),
            ("gitsign.logPath", &self.log_path),
            ("GITSIGN_CREDENTIAL_CACHE", &self.credential_cache),
        ];
        out.extend(optional.into_iter().filter_map(|(k, v)| v.clone().map(|v| (k, v))));
        let autoclose = if self.autoclose {
            format!("true (after {} s)", self.autoclose_timeout)
        } else {
            "false".to_string()
        };
        out.push(("gitsign.autoclose", autoclose));
        out.push(("gitsign.matchCommitter", self.match_committer.to_string()));
        out.push(("gitsign.includeChain", self.include_chain.to_string()));
        out
    }
}

/// One knob: git config key (lower case, as git prints it), env name, whether a
/// `SIGSTORE_` spelling is accepted.
struct Knob {
    git: &'static str,
    env: &'static str,
    sigstore: bool,
}

const fn knob(git: &'static str, env: &'static str, sigstore: bool) -> Knob {
    Knob { git, env, sigstore }
}

/// Reads the settings: `git` maps lower-cased git config keys to values, `env` reads the
/// environment. Errors name a bad value.
pub fn resolve(
    git: &HashMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, String> {
    let get = |k: Knob| -> Option<String> {
        let from_env = env(k.env).or_else(|| {
            k.sigstore
                .then(|| {
                    k.env.strip_prefix("GITSIGN_").and_then(|rest| env(&format!("SIGSTORE_{rest}")))
                })
                .flatten()
        });
        from_env.or_else(|| git.get(k.git).cloned()).filter(|v| !v.is_empty())
    };
    let rekor_mode = match get(knob("gitsign.rekormode", "GITSIGN_REKOR_MODE", false)) {
        None => RekorMode::Online,
        Some(v) => RekorMode::parse(&v).ok_or_else(|| {
            format!("gitsign.rekorMode / GITSIGN_REKOR_MODE: {v:?} is not online or offline")
        })?,
    };
    let rekor_version = match get(knob("gitsign.rekorversion", "GITSIGN_REKOR_VERSION", true)) {
        None => 1,
        Some(v) => match v.trim() {
            "1" => 1,
            "2" if rekor_mode == RekorMode::Offline => 2,
            "2" => {
                return Err("gitsign.rekorVersion 2 needs gitsign.rekorMode offline: a Rekor v2 \
                            log has no search, so an online-mode entry could not be found again"
                    .to_string())
            }
            _ => {
                return Err(format!(
                    "gitsign.rekorVersion / GITSIGN_REKOR_VERSION: {v:?} is not 1 or 2"
                ))
            }
        },
    };
    let boolean = |name: &str, value: Option<String>| match value.map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if ["true", "yes", "on", "1"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["false", "no", "off", "0", ""].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(format!("{name}: {v:?} is not a boolean")),
    };
    let match_committer =
        boolean("gitsign.matchCommitter", git.get("gitsign.matchcommitter").cloned())?;
    let include_chain = boolean(
        "gitsign.includeChain / GITSIGN_INCLUDE_CHAIN",
        get(knob("gitsign.includechain", "GITSIGN_INCLUDE_CHAIN", false)),
    )?;
    // gitsign's order: GITSIGN_FULCIO_ROOT, SIGSTORE_FULCIO_ROOT, then cosign's legacy
    // SIGSTORE_ROOT_FILE, then git config.
    let fulcio_root = ["GITSIGN_FULCIO_ROOT", "SIGSTORE_FULCIO_ROOT", "SIGSTORE_ROOT_FILE"]
        .iter()
        .find_map(|name| env(name).filter(|v| !v.is_empty()))
        .or_else(|| git.get("gitsign.fulcioroot").cloned().filter(|v| !v.is_empty()));
    let autoclose = match get(knob("gitsign.autoclose", "GITSIGN_AUTOCLOSE", true)) {
        None => true,
        some => boolean("gitsign.autoclose / GITSIGN_AUTOCLOSE", some)?,
    };
    let autoclose_timeout =
        match get(knob("gitsign.autoclosetimeout", "GITSIGN_AUTOCLOSE_TIMEOUT", true)) {
            None => 6,
            Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                format!(
                    "gitsign.autocloseTimeout / GITSIGN_AUTOCLOSE_TIMEOUT: {v:?} is not a \
                     positive number of seconds"
                )
            })?,
        };
    Ok(Settings {
        fulcio: get(knob("gitsign.fulcio", "GITSIGN_FULCIO_URL", true)),
        rekor: get(knob("gitsign.rekor", "GITSIGN_REKOR_URL", true)),
        issuer: get(knob("gitsign.issuer", "GITSIGN_OIDC_ISSUER", true)),
        client_id: get(knob("gitsign.clientid", "GITSIGN_OIDC_CLIENT_ID", true)),
        token_provider: get(knob("gitsign.tokenprovider", "GITSIGN_TOKEN_PROVIDER", true)),
        rekor_mode,
        rekor_version,
        match_committer,
        include_chain,
        credential_cache: env("GITSIGN_CREDENTIAL_CACHE").filter(|v| !v.is_empty()),
        log_path: get(knob("gitsign.logpath", "GITSIGN_LOG", false)),
        fulcio_root,
        rekor_public_key: env("SIGSTORE_REKOR_PUBLIC_KEY").filter(|v| !v.is_empty()),
        client_secret_file: get(knob(
            "gitsign.clientsecretfile",
            "GITSIGN_OIDC_CLIENT_SECRET_FILE",
            true,
        )),
        redirect_url: get(knob("gitsign.redirecturl", "GITSIGN_OIDC_REDIRECT_URL", true)),
        connector_id: get(knob("gitsign.connectorid", "GITSIGN_CONNECTOR_ID", true)),
        autoclose,
        autoclose_timeout,
        url_opener: get(knob("gitsign.urlopener", "GITSIGN_URL_OPENER", false)),
        timestamp_server: get(knob(
            "gitsign.timestampserverurl",
            "GITSIGN_TIMESTAMP_SERVER_URL",
            true,
        )),
        timestamp_cert_chain: get(knob(
            "gitsign.timestampcertchain",
            "GITSIGN_TIMESTAMP_CERT_CHAIN",
            true,
        )),
    })
}

/// Parses `git config --get-regexp` output (`key value` lines; the key is lower case).
pub fn parse_git_config(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            (!key.is_empty()).then(|| (key.to_ascii_lowercase(), value.to_string()))
        })
        .collect()
}

/// The `[gitsign]` keys of one git config file (lower-case names), or `None` when the
/// file uses something this small reader does not follow (includes, continuation lines,
/// keys after a section header on the same line): the caller then asks git itself.
///
/// Why: git runs gitsign once per commit in `git log --show-signature`; spawning
/// `git config` costs about as much as the whole verification, and most config files
/// have no `[gitsign]` section at all.
pub fn gitsign_section(text: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut in_gitsign = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.ends_with('\\') {
            return None;
        }
        if let Some(header) = line.strip_prefix('[') {
            let (name, rest) = header.split_once(']')?;
            let rest = rest.trim();
            if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
                return None;
            }
            let name = name.trim().to_ascii_lowercase();
            if name.starts_with("include") {
                return None;
            }
            in_gitsign = name == "gitsign";
            continue;
        }
        if !in_gitsign {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), config_value(v)?),
            None => (line, "true".to_string()),
        };
        out.insert(format!("gitsign.{}", key.to_ascii_lowercase()), value);
    }
    Some(out)
}

/// A git config value: quotes removed, `\"` `\\` `\n` `\t` unescaped, a trailing
/// comment dropped.
fn config_value(raw: &str) -> Option<String> {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = raw.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'b' => {
                    out.pop();
                }
                other @ ('"' | '\\') => out.push(other),
                _ => return None,
            },
            '#' | ';' if !quoted => break,
            c => out.push(c),
        }
    }
    if quoted {
        return None;
    }
    Some(out.trim_end().to_string())
}

/// The config files git would read for `cwd`, lowest priority first, or `None` when git's
/// own answer is needed (config passed through the environment, a linked worktree, no
/// `.git` directory found, per-worktree config). `env` reads the environment.
pub fn config_files(
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &std::path::Path,
) -> Option<Vec<std::path::PathBuf>> {
    use std::path::PathBuf;
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    if set("GIT_CONFIG_PARAMETERS") || set("GIT_CONFIG_COUNT") || set("GIT_CONFIG") {
        return None;
    }
    let mut files = Vec::new();
    if !set("GIT_CONFIG_NOSYSTEM") {
        match env("GIT_CONFIG_SYSTEM") {
            Some(path) => files.push(PathBuf::from(path)),
            None => {
                files.push(PathBuf::from("/etc/gitconfig"));
                files.push(PathBuf::from("/usr/local/etc/gitconfig"));
            }
        }
    }
    match env("GIT_CONFIG_GLOBAL") {
        Some(path) => files.push(PathBuf::from(path)),
        None => {
            let home = env("HOME").map(PathBuf::from);
            match env("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
                Some(xdg) => files.push(PathBuf::from(xdg).join("git/config")),
                None => files.extend(home.as_ref().map(|h| h.join(".config/git/config"))),
            }
            files.extend(home.map(|h| h.join(".gitconfig")));
        }
    }
    let git_dir = match env("GIT_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => cwd.join(dir),
        None => {
            let mut found = None;
            for dir in cwd.ancestors() {
                let dot_git = dir.join(".git");
                if dot_git.is_dir() {
                    found = Some(dot_git);
                    break;
                }
                if dot_git.exists() {
                    return None;
                }
            }
            found?
        }
    };
    files.push(git_dir.join("config"));
    if git_dir.join("config.worktree").exists() {
        return None;
    }
    Some(files)
}

/// The `[gitsign]` keys of `files` (later files win), or `None` when one of them needs
/// git's own reader (see [`gitsign_section`]) or cannot be read. Missing files are skipped.
pub fn read_files(files: &[std::path::PathBuf]) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    for file in files {
        match std::fs::read_to_string(file) {
            Ok(text) => out.extend(gitsign_section(&text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_beats_git_config_and_gitsign_beats_sigstore() {
        let git = parse_git_config(
            "gitsign.rekormode offline\ngitsign.fulcio https://git.example\n\
             gitsign.rekor https://rekor.git\ngitsign.matchcommitter true\n",
        );
        let env = |k: &str| match k {
            "GITSIGN_FULCIO_URL" => Some("https://env.example".to_string()),
            "SIGSTORE_REKOR_URL" => Some("https://rekor.sigstore-env".to_string()),
            "SIGSTORE_OIDC_ISSUER" => Some("https://issuer.env".to_string()),
            _ => None,
        };
        let s = resolve(&git, &env).unwrap();
        assert_eq!(s.fulcio.as_deref(), Some("https://env.example"));
        assert_eq!(s.rekor.as_deref(), Some("https://rekor.sigstore-env"));
        assert_eq!(s.issuer.as_deref(), Some("https://issuer.env"));
        assert_eq!(s.rekor_mode, RekorMode::Offline);
        assert!(s.match_committer);
        let s = resolve(&HashMap::new(), &|_| None).unwrap();
        assert_eq!(s.rekor_mode, RekorMode::Online);
        assert!(!s.match_committer);
    }

    #[test]
    fn reads_the_gitsign_section_and_defers_what_it_cannot_follow() {
        let text = "[core]\n\tbare = false\n[gitsign]\n\trekorMode = offline # mode\n\
                    \tmatchCommitter\n\tfulcio = \"https://f.example\" ; ca\n\
                    [gitsign \"sub\"]\n\trekor = nope\n";
        let map = gitsign_section(text).unwrap();
        assert_eq!(map.get("gitsign.rekormode").map(String::as_str), Some("offline"));
        assert_eq!(map.get("gitsign.matchcommitter").map(String::as_str), Some("true"));
        assert_eq!(map.get("gitsign.fulcio").map(String::as_str), Some("https://f.example"));
        assert_eq!(map.get("gitsign.rekor"), None);
        assert_eq!(gitsign_section("[include]\n\tpath = x\n"), None);
        assert_eq!(gitsign_section("[includeIf \"gitdir:~/\"]\n\tpath = x\n"), None);
        assert_eq!(gitsign_section("[gitsign]\n\tfulcio = a\\\n  b\n"), None);
        assert_eq!(gitsign_section("[gitsign] rekor = x\n"), None);
        assert!(gitsign_section("[user]\nname = \"unterminated\n").is_some());
    }

    #[test]
    fn local_config_overrides_global_and_worktrees_defer_to_git() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(home.join(".config/git")).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("sub/dir")).unwrap();
        std::fs::write(home.join(".gitconfig"), "[gitsign]\n\trekorMode = offline\n\tfulcio = g\n")
            .unwrap();
        std::fs::write(repo.join(".git/config"), "[gitsign]\n\tfulcio = local\n").unwrap();
        let home_text = home.display().to_string();
        let env = |k: &str| match k {
            "HOME" => Some(home_text.clone()),
            "GIT_CONFIG_NOSYSTEM" => Some("1".to_string()),
            _ => None,
        };
        let files = config_files(&env, &repo.join("sub/dir")).unwrap();
        assert_eq!(files.last(), Some(&repo.join(".git/config")));
        let map = read_files(&files).unwrap();
        assert_eq!(map.get("gitsign.fulcio").map(String::as_str), Some("local"));
        assert_eq!(map.get("gitsign.rekormode").map(String::as_str), Some("offline"));
        // A linked worktree (`.git` is a file): git's own reader decides.
        let worktree = dir.path().join("wt");
        std::fs::create_dir_all(&worktree).unwrap();
        std::fs::write(worktree.join(".git"), "gitdir: ../repo/.git/worktrees/wt\n").unwrap();
        assert_eq!(config_files(&env, &worktree), None);
    }

    #[test]
    fn config_files_defer_to_git_for_environment_config() {
        let dir = std::env::temp_dir();
        let env = |k: &str| {
            (k == "GIT_CONFIG_PARAMETERS").then(|| "'gitsign.rekormode'='offline'".into())
        };
        assert_eq!(config_files(&env, &dir), None);
    }

    #[test]
    fn login_and_trust_knobs_follow_gitsign_names_and_priority() {
        let git = parse_git_config(
            "gitsign.clientsecretfile /git/secret\ngitsign.redirecturl http://localhost:8888/cb\n\
             gitsign.connectorid https://github.com/login/oauth\ngitsign.autoclose false\n\
             gitsign.autoclosetimeout 9\ngitsign.urlopener firefox --new-tab {{.URL}}\n\
             gitsign.fulcioroot /git/root.pem\n",
        );
        let s = resolve(&git, &|_| None).unwrap();
        assert_eq!(s.client_secret_file.as_deref(), Some("/git/secret"));
        assert_eq!(s.redirect_url.as_deref(), Some("http://localhost:8888/cb"));
        assert_eq!(s.connector_id.as_deref(), Some("https://github.com/login/oauth"));
        assert!(!s.autoclose);
        assert_eq!(s.autoclose_timeout, 9);
        assert_eq!(s.url_opener.as_deref(), Some("firefox --new-tab {{.URL}}"));
        assert_eq!(s.fulcio_root.as_deref(), Some("/git/root.pem"));
        let env = |k: &str| match k {
            "SIGSTORE_OIDC_CLIENT_SECRET_FILE" => Some("/sigstore/secret".to_string()),
            "GITSIGN_OIDC_REDIRECT_URL" => Some("http://127.0.0.1:1/env".to_string()),
            "SIGSTORE_CONNECTOR_ID" => Some("https://accounts.google.com".to_string()),
            "GITSIGN_AUTOCLOSE" => Some("true".to_string()),
            "SIGSTORE_ROOT_FILE" => Some("/legacy/root.pem".to_string()),
            "SIGSTORE_REKOR_PUBLIC_KEY" => Some("/keys/rekor.pub".to_string()),
            _ => None,
        };
        let s = resolve(&git, &env).unwrap();
        assert_eq!(s.client_secret_file.as_deref(), Some("/sigstore/secret"));
        assert_eq!(s.redirect_url.as_deref(), Some("http://127.0.0.1:1/env"));
        assert_eq!(s.connector_id.as_deref(), Some("https://accounts.google.com"));
        assert!(s.autoclose);
        // The legacy SIGSTORE_ROOT_FILE beats git config, as in gitsign.
        assert_eq!(s.fulcio_root.as_deref(), Some("/legacy/root.pem"));
        assert_eq!(s.rekor_public_key.as_deref(), Some("/keys/rekor.pub"));
        let defaults = resolve(&HashMap::new(), &|_| None).unwrap();
        assert!(defaults.autoclose);
        assert_eq!(defaults.autoclose_timeout, 6);
        let bad = parse_git_config("gitsign.autoclosetimeout soon\n");
        assert!(resolve(&bad, &|_| None).unwrap_err().contains("autocloseTimeout"));
    }

    #[test]
    fn bad_values_are_named() {
        let git = parse_git_config("gitsign.rekormode sometimes\n");
        assert!(resolve(&git, &|_| None).unwrap_err().contains("rekorMode"));
        let git = parse_git_config("gitsign.matchcommitter perhaps\n");
        assert!(resolve(&git, &|_| None).unwrap_err().contains("matchCommitter"));
    }
}
