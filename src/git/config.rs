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
    /// Require the committer email to be the certificate identity.
    pub match_committer: bool,
    /// Credential cache socket.
    pub credential_cache: Option<String>,
    /// A file to append log lines to.
    pub log_path: Option<String>,
    /// A PEM file of extra Fulcio roots (`gitsign.fulcioRoot`).
    pub fulcio_root: Option<String>,
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
    let match_committer = match git.get("gitsign.matchcommitter").map(|v| v.to_ascii_lowercase()) {
        None => false,
        Some(v) if ["true", "yes", "on", "1"].contains(&v.as_str()) => true,
        Some(v) if ["false", "no", "off", "0", ""].contains(&v.as_str()) => false,
        Some(v) => return Err(format!("gitsign.matchCommitter: {v:?} is not a boolean")),
    };
    let fulcio_root = get(knob("gitsign.fulcioroot", "GITSIGN_FULCIO_ROOT", true))
        .or_else(|| env("SIGSTORE_ROOT_FILE"));
    Ok(Settings {
        fulcio: get(knob("gitsign.fulcio", "GITSIGN_FULCIO_URL", true)),
        rekor: get(knob("gitsign.rekor", "GITSIGN_REKOR_URL", true)),
        issuer: get(knob("gitsign.issuer", "GITSIGN_OIDC_ISSUER", true)),
        client_id: get(knob("gitsign.clientid", "GITSIGN_OIDC_CLIENT_ID", true)),
        token_provider: get(knob("gitsign.tokenprovider", "GITSIGN_TOKEN_PROVIDER", true)),
        rekor_mode,
        match_committer,
        credential_cache: env("GITSIGN_CREDENTIAL_CACHE").filter(|v| !v.is_empty()),
        log_path: get(knob("gitsign.logpath", "GITSIGN_LOG", false)),
        fulcio_root,
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
    fn bad_values_are_named() {
        let git = parse_git_config("gitsign.rekormode sometimes\n");
        assert!(resolve(&git, &|_| None).unwrap_err().contains("rekorMode"));
        let git = parse_git_config("gitsign.matchcommitter perhaps\n");
        assert!(resolve(&git, &|_| None).unwrap_err().contains("matchCommitter"));
    }
}
