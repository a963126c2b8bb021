//! Registry credentials and auth challenges.
//!
//! Credentials come from (first match wins) explicit `--registry-username/-password`, then
//! the Docker config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
//! `credHelpers[registry]`, then `credsStore`, then `auths[registry]`; helpers are run as
//! `docker-credential-<name> get` with the registry on stdin, as docker does. No
//! credentials means anonymous access.
//!
//! Challenges: a 401 carries `WWW-Authenticate: Basic realm=…` (send the credentials) or
//! `Bearer realm=…,service=…,scope=…` (trade them, or nothing, for a token at `realm`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::Error;

/// A user name and password (or identity token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name (`<token>` for identity tokens).
    pub username: String,
    /// Password or token; never printed.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl Credentials {
    /// The `Authorization: Basic …` value.
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            crate::encoding::b64_encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// The Docker config directory: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker"))
}

/// `config.json` as docker writes it (only the members sigbox uses; others are kept).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerConfig {
    /// Per-registry inline credentials.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auths: BTreeMap<String, AuthEntry>,
    /// Default credential helper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creds_store: Option<String>,
    /// Per-registry credential helpers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cred_helpers: BTreeMap<String, String>,
    /// Everything else in the file, written back untouched.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// One `auths` entry.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AuthEntry {
    /// base64(`user:password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Or the parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password when given apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// An identity token (used as the password with user `<token>`).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "identitytoken")]
    pub identity_token: Option<String>,
}

/// The key docker uses for a registry (`https://index.docker.io/v1/` for Docker Hub).
fn config_key(registry: &str) -> String {
    if registry == super::reference::DOCKER_HUB {
        "https://index.docker.io/v1/".into()
    } else {
        registry.to_string()
    }
}

/// `https://host/v1/` and `host` name the same registry in `auths`.
fn normalize(key: &str) -> &str {
    let key = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// Reads `dir/config.json`; a missing file is an empty config.
pub fn read_config(dir: &Path) -> Result<DockerConfig, Error> {
    let path = dir.join("config.json");
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Credentials {
            registry: String::new(),
            why: format!("{} is not a docker config: {e}", path.display()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerConfig::default()),
        Err(source) => Err(Error::Io { what: format!("reading {}", path.display()), source }),
    }
}

/// Finds credentials for `registry` in the Docker config under `dir` (see module docs).
pub fn lookup(registry: &str, dir: Option<&Path>) -> Result<Option<Credentials>, Error> {
    let Some(dir) = dir else { return Ok(None) };
    let config = read_config(dir)?;
    let key = config_key(registry);
    let wanted = normalize(&key).to_string();
    if let Some(helper) = config
        .cred_helpers
        .iter()
        .find(|(k, _)| normalize(k) == wanted)
        .map(|(_, v)| v.clone())
        .or(config.creds_store.clone())
    {
        if let Some(found) = run_helper(&helper, &key)? {
            return Ok(Some(found));
        }
    }
    let Some(entry) = config.auths.iter().find(|(k, _)| normalize(k) == wanted).map(|(_, v)| v)
    else {
        return Ok(None);
    };
    let bad = |why: &str| Error::Credentials { registry: registry.into(), why: why.into() };
    if let Some(token) = &entry.identity_token {
        return Ok(Some(Credentials { username: "<token>".into(), password: token.clone() }));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = crate::encoding::b64_decode(auth)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| bad("auths entry `auth` is not base64 of user:password"))?;
        let (user, pass) =
            decoded.split_once(':').ok_or_else(|| bad("auths entry `auth` has no ':'"))?;
        return Ok(Some(Credentials { username: user.into(), password: pass.into() }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials { username: u.clone(), password: p.clone() })),
        _ => Ok(None),
    }
}

/// Runs `docker-credential-<helper> get` with `server` on stdin. "credentials not found"
/// (non-zero exit) means none; a helper that cannot be run is an error naming it.
fn run_helper(helper: &str, server: &str) -> Result<Option<Credentials>, Error> {
    let program = format!("docker-credential-{helper}");
    let fail = |why: String| Error::Credentials { registry: server.into(), why };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("running credential helper {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .map_err(|e| fail(format!("writing to credential helper {program}: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("waiting for credential helper {program}: {e}")))?;
    if !out.status.success() {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct HelperAnswer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|e| fail(format!("credential helper {program} printed no credentials: {e}")))?;
    Ok(Some(Credentials { username: answer.username, password: answer.secret }))
}

/// Stores `credentials` for `registry` in `dir/config.json` (`cosign login`), keeping the
/// rest of the file; the file is written 0600 since it holds a password.
pub fn store(dir: &Path, registry: &str, credentials: &Credentials) -> Result<PathBuf, Error> {
    let mut config = read_config(dir)?;
    let io = |what: String| move |source| Error::Io { what, source };
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let entry = AuthEntry {
        auth: Some(crate::encoding::b64_encode(format!(
            "{}:{}",
            credentials.username, credentials.password
        ))),
        ..AuthEntry::default()
    };
    config.auths.insert(config_key(registry), entry);
    let path = dir.join("config.json");
    let json = serde_json::to_vec_pretty(&config).map_err(|e| Error::Credentials {
        registry: registry.into(),
        why: format!("encoding the docker config: {e}"),
    })?;
    // Written 0600 to a temporary name, then renamed over the old file: readers never see
    // half a file, and the password is never readable by others.
    let temp = dir.join(".config.json.sigbox-tmp");
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)
    };
    write().map_err(io(format!("writing {}", path.display())))?;
    Ok(path)
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Send basic credentials.
    Basic,
    /// Get a token from `realm`.
    Bearer {
        /// Token endpoint.
        realm: String,
        /// `service` parameter.
        service: Option<String>,
        /// `scope` parameter, if the registry named one.
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value (RFC 7235 auth-params, quoted or token).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    Some(Challenge::Bearer {
        realm: params.remove("realm")?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_with_quoted_comma_scope() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }
        );
        assert_eq!(parse_challenge(r#"Basic realm="x""#), Some(Challenge::Basic));
        assert_eq!(parse_challenge("Bearer service=x"), None, "realm is required");
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn config_auths_credhelpers_and_login_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"https://r.example/v1/":{"auth":"dTpw"}},"experimental":"x"}"#,
        )
        .unwrap();
        let found = lookup("r.example", Some(dir.path())).unwrap().unwrap();
        assert_eq!((found.username.as_str(), found.password.as_str()), ("u", "p"));
        assert!(lookup("other.example", Some(dir.path())).unwrap().is_none());
        let creds = Credentials { username: "me".into(), password: "secret".into() };
        store(dir.path(), "127.0.0.1:5000", &creds).unwrap();
        assert_eq!(lookup("127.0.0.1:5000", Some(dir.path())).unwrap(), Some(creds));
        let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
        assert!(text.contains("experimental"), "other members are kept: {text}");
        let debug = format!("{:?}", lookup("r.example", Some(dir.path())).unwrap());
        assert!(!debug.contains("\"p\""), "password printed: {debug}");
    }

    #[test]
    fn missing_helper_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credHelpers":{"r.example":"sigbox-no-such-helper"}}"#,
        )
        .unwrap();
        let err = lookup("r.example", Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("docker-credential-sigbox-no-such-helper"), "{err}");
    }
}
