//! Where the CA gets each issuer's signing keys: a static JWKS file (air-gapped sites) or
//! OIDC discovery (`/.well-known/openid-configuration` → `jwks_uri`), cached, and refreshed
//! when a token names an unknown `kid` — at most once per [`REFRESH_INTERVAL`] per issuer, so
//! a flood of tokens with made-up key IDs cannot turn the CA into a request amplifier.
//!
//! One fetch per issuer runs at a time, and no lock is held across it that other issuers'
//! requests need. When a refresh fails but an older key set is cached, the old set is used
//! (and a warning logged); when no set was ever had, requests fail fast until the next
//! attempt is due instead of each waiting on an unreachable issuer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error_text::chain as error_chain;
use crate::oidc::{IssuerConfig, JwkSet};

/// Minimum time between two fetches of one issuer's keys (also how often a static JWKS
/// file is re-read).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// How long fetched keys are used before they are fetched again.
pub const CACHE_LIFETIME: Duration = Duration::from_secs(3600);
/// How many issuers' keys are kept; past that the least recently used entry goes. A
/// meta-issuer pattern matches unboundedly many `iss` values, and the `iss` of a token is
/// read before its signature is checked, so strangers choose the keys of this cache.
pub const MAX_CACHED_ISSUERS: usize = 1024;
/// How many issuers not yet cached may be looked up per minute: each is an outbound fetch
/// that an unauthenticated token can ask for.
pub const NEW_ISSUERS_PER_MINUTE: u32 = 60;

/// Why an issuer's keys could not be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The static JWKS file could not be read.
    #[error("reading JWKS file {path}")]
    File {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The key set does not parse.
    #[error("issuer key set")]
    Jwks(#[source] crate::oidc::Error),
    /// Fetching discovery or the key set failed.
    #[error("fetching {url}")]
    Fetch {
        /// The URL.
        url: String,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// The discovery document or key set could not be read (cut off, or too large).
    #[error("reading an issuer document")]
    Read(#[source] crate::http::ReadError),
    /// The discovery document has no `jwks_uri`.
    #[error("discovery document of {0} has no jwks_uri")]
    NoJwksUri(String),
    /// Too many issuers not yet cached were asked for in the last minute.
    #[error("too many new OIDC issuers in the last minute; {issuer} not looked up")]
    TooManyNewIssuers {
        /// The issuer that was not looked up.
        issuer: String,
    },
    /// The last attempt failed less than [`REFRESH_INTERVAL`] ago and nothing is cached.
    #[error("keys of {issuer} unavailable (last attempt failed: {reason}); retrying later")]
    RecentlyFailed {
        /// The issuer (or JWKS file).
        issuer: String,
        /// The last failure, as text (the original error was reported to that request).
        reason: String,
    },
}

#[derive(Default)]
struct State {
    set: Option<Arc<JwkSet>>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
    last_error: Option<String>,
}

#[derive(Default)]
struct Entry {
    state: Mutex<State>,
    fetching: tokio::sync::Mutex<()>,
}

/// The key cache.
pub struct IssuerKeys {
    client: reqwest::Client,
    entries: Mutex<Entries>,
    max_entries: usize,
    new_per_minute: u32,
}

/// The cached issuers, each with when it was last used, and the new-issuer budget.
#[derive(Default)]
struct Entries {
    map: HashMap<String, (Arc<Entry>, Instant)>,
    window: Option<Instant>,
    new_in_window: u32,
}

impl IssuerKeys {
    /// An empty cache using `client` for discovery, with the default bounds.
    pub fn new(client: reqwest::Client) -> Self {
        Self::with_limits(client, MAX_CACHED_ISSUERS, NEW_ISSUERS_PER_MINUTE)
    }

    /// An empty cache keeping at most `max_entries` issuers and looking up at most
    /// `new_per_minute` issuers it does not hold yet.
    pub fn with_limits(client: reqwest::Client, max_entries: usize, new_per_minute: u32) -> Self {
        IssuerKeys {
            client,
            entries: Mutex::new(Entries::default()),
            max_entries: max_entries.max(1),
            new_per_minute,
        }
    }

    /// How many issuers are cached.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).map.len()
    }

    /// Whether no issuer is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cache entry of `key`: the existing one (marked used), or a new one if the
    /// new-issuer budget allows, evicting the least recently used entry when full.
    fn entry(&self, key: &str) -> Result<Arc<Entry>, Error> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some((entry, used)) = entries.map.get_mut(key) {
            *used = now;
            return Ok(entry.clone());
        }
        if !entries.window.is_some_and(|start| now.duration_since(start) < Duration::from_secs(60))
        {
            entries.window = Some(now);
            entries.new_in_window = 0;
        }
        if entries.new_in_window >= self.new_per_minute {
            return Err(Error::TooManyNewIssuers { issuer: key.to_string() });
        }
        entries.new_in_window += 1;
        if entries.map.len() >= self.max_entries {
            let oldest =
                entries.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.map.remove(&oldest);
            }
        }
        let entry = Arc::new(Entry::default());
        entries.map.insert(key.to_string(), (entry.clone(), now));
        Ok(entry)
    }

    /// The keys of `issuer`; `kid` is the token's key ID, which triggers a refresh when the
    /// cached set lacks it (rate-limited). A static `jwks_file` is used instead of discovery.
    pub async fn keys(
        &self,
        issuer: &IssuerConfig,
        kid: Option<&str>,
    ) -> Result<Arc<JwkSet>, Error> {
        let (cache_key, lifetime) = match &issuer.jwks_file {
            Some(path) => (format!("file:{path}"), REFRESH_INTERVAL),
            None => (issuer.issuer_url.clone(), CACHE_LIFETIME),
        };
        let entry = self.entry(&cache_key)?;
        if let Some(set) = usable(&entry, kid, lifetime) {
            return Ok(set);
        }
        let _one_fetch = entry.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(set) = usable(&entry, kid, lifetime) {
            return Ok(set);
        }
        {
            let mut state = entry.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.attempted.is_some_and(|at| at.elapsed() < REFRESH_INTERVAL) {
                return match (&state.set, &state.last_error) {
                    (Some(set), _) => Ok(set.clone()),
                    (None, reason) => Err(Error::RecentlyFailed {
                        issuer: cache_key,
                        reason: reason.clone().unwrap_or_default(),
                    }),
                };
            }
            state.attempted = Some(Instant::now());
        }
        let fetched = match &issuer.jwks_file {
            Some(path) => read_file(path).await,
            None => self.discover(&issuer.issuer_url).await,
        };
        let mut state = entry.state.lock().unwrap_or_else(|p| p.into_inner());
        match fetched {
            Ok(set) => {
                let set = Arc::new(set);
                state.set = Some(set.clone());
                state.fetched = Some(Instant::now());
                state.last_error = None;
                Ok(set)
            }
            Err(e) => {
                state.last_error = Some(error_chain(&e));
                match &state.set {
                    Some(old) => {
                        let error = error_chain(&e);
                        tracing::warn!(issuer = %cache_key, %error, "refresh failed, cache used");
                        Ok(old.clone())
                    }
                    None => Err(e),
                }
            }
        }
    }

    async fn discover(&self, issuer_url: &str) -> Result<JwkSet, Error> {
        let url = format!("{}/.well-known/openid-configuration", issuer_url.trim_end_matches('/'));
        let document: serde_json::Value = self.get_json(&url).await?;
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::NoJwksUri(issuer_url.to_string()))?
            .to_string();
        let bytes = self.get_bytes(&jwks_uri).await?;
        tracing::info!(issuer = issuer_url, "fetched issuer keys");
        JwkSet::from_json(&bytes).map_err(Error::Jwks)
    }

    async fn get_json(&self, url: &str) -> Result<serde_json::Value, Error> {
        let bytes = self.get_bytes(url).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Jwks(crate::oidc::Error::MalformedJwks(e)))
    }

    async fn get_bytes(&self, url: &str) -> Result<Vec<u8>, Error> {
        let fetch = |source| Error::Fetch { url: url.to_string(), source };
        let response = self.client.get(url).send().await.map_err(fetch)?;
        let response = response.error_for_status().map_err(fetch)?;
        // Discovery documents and key sets are a few KiB; an issuer that streams forever
        // must not fill the CA's memory.
        let answer = crate::http::Answer::read_async(response, url, MAX_DOCUMENT_BYTES)
            .await
            .map_err(Error::Read)?;
        Ok(answer.body)
    }
}

/// The largest discovery document or key set the CA reads.
const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;

/// The cached set, if it is within `lifetime` and has `kid` (or the token names none).
fn usable(entry: &Entry, kid: Option<&str>, lifetime: Duration) -> Option<Arc<JwkSet>> {
    let state = entry.state.lock().unwrap_or_else(|p| p.into_inner());
    let set = state.set.as_ref()?;
    let fresh = state.fetched.is_some_and(|at| at.elapsed() < lifetime);
    let has_kid = kid.map_or(true, |k| set.has_kid(k));
    (fresh && has_kid).then(|| set.clone())
}

async fn read_file(path: &str) -> Result<JwkSet, Error> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|source| Error::File { path: path.to_string(), source })?;
    JwkSet::from_json(&bytes).map_err(Error::Jwks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{public_key_to_jwk, EcdsaP256Signer, Signer};
    use crate::oidc::OidcConfig;

    fn jwks(kid: &str) -> String {
        let key = EcdsaP256Signer::generate();
        let mut jwk = public_key_to_jwk(key.public_key()).expect("jwk");
        jwk["kid"] = kid.into();
        serde_json::json!({"keys": [jwk]}).to_string()
    }

    fn config(json: serde_json::Value) -> IssuerConfig {
        let config = OidcConfig::from_json(json.to_string().as_bytes()).expect("config");
        config.issuer("https://issuer.test").expect("issuer")
    }

    #[tokio::test]
    async fn static_jwks_file_is_read_without_network_and_cached() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, jwks("k1")).expect("write");
        let issuer = config(serde_json::json!({"OIDCIssuers": {"https://issuer.test": {
            "Type": "email", "JWKSFile": path}}}));
        let keys =
            IssuerKeys::new(crate::http::builder().build().expect("a default HTTP client builds"));
        let set = keys.keys(&issuer, Some("k1")).await.expect("keys");
        assert!(set.has_kid("k1"));
        // Within the refresh interval the cached copy answers even if the file is gone.
        std::fs::remove_file(&path).expect("remove");
        assert!(keys.keys(&issuer, Some("k1")).await.expect("cached").has_kid("k1"));
    }

    #[tokio::test]
    async fn unreachable_issuer_fails_then_fails_fast_until_the_next_attempt() {
        // Port 9 on loopback: nothing listens there, so the connection is refused at once.
        let config = OidcConfig::from_json(
            serde_json::json!({"OIDCIssuers": {"http://127.0.0.1:9": {"Type": "email"}}})
                .to_string()
                .as_bytes(),
        )
        .expect("config");
        let issuer = config.issuer("http://127.0.0.1:9").expect("issuer");
        let keys =
            IssuerKeys::new(crate::http::builder().build().expect("a default HTTP client builds"));
        assert!(matches!(keys.keys(&issuer, None).await, Err(Error::Fetch { .. })));
        match keys.keys(&issuer, None).await {
            Err(Error::RecentlyFailed { reason, .. }) => assert!(reason.contains("fetching")),
            other => panic!("expected a fast failure, got {:?}", other.map(|s| s.len())),
        }
    }

    #[tokio::test]
    async fn made_up_meta_issuers_are_bounded_in_number_and_lookups() {
        // Every `iss` of this pattern is "configured": strangers can mint as many as they
        // like. Port 9 on loopback refuses at once, so each allowed lookup fails fast.
        let config = OidcConfig::from_json(
            serde_json::json!({"MetaIssuers": {"http://127.0.0.*:9/id/*": {"Type": "email"}}})
                .to_string()
                .as_bytes(),
        )
        .expect("config");
        let client = crate::http::builder().build().expect("a default HTTP client builds");
        let keys = IssuerKeys::with_limits(client, 4, 6);
        let mut fetched = 0;
        let mut refused = 0;
        for n in 0..10 {
            let issuer = config.issuer(&format!("http://127.0.0.1:9/id/made-up-{n}")).expect("m");
            match keys.keys(&issuer, None).await {
                Err(Error::Fetch { .. }) => fetched += 1,
                Err(Error::TooManyNewIssuers { issuer }) => {
                    assert!(issuer.ends_with(&format!("made-up-{n}")));
                    refused += 1;
                }
                other => panic!("unexpected: {:?}", other.map(|s| s.len())),
            }
            assert!(keys.len() <= 4, "the cache grew past its bound: {}", keys.len());
        }
        assert_eq!((fetched, refused), (6, 4), "six lookups a minute, then refusals");
    }
}
