//! The OCI distribution client (distribution-spec v1.1) over blocking reqwest.
//!
//! One [`Client`] serves many registries and threads: it remembers per registry which
//! scheme answered (HTTPS first; plain HTTP only for local registries or with
//! `allow_http`, as go-containerregistry does) and the auth that worked, so a process that
//! verifies a hundred images pings and authenticates once. Every manifest and blob read
//! is checked against its digest before it is returned; reads are size-capped, so a
//! hostile registry cannot make us buffer gigabytes. 429 and 5xx answers are retried with
//! exponential backoff.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::blocking::{RequestBuilder, Response};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;

use super::auth::{self, Challenge, Credentials};
use super::manifest::{self, Descriptor, Index};
use super::reference::Reference;
use super::Error;

/// Manifests larger than this are refused (the distribution spec suggests 4 MiB).
pub const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
/// Blobs sigbox reads whole (signature payloads, bundles, configs) are capped here.
pub const MAX_SMALL_BLOB: u64 = 64 * 1024 * 1024;
/// Attempts per request when the registry answers 429/5xx or the connection drops.
const ATTEMPTS: u32 = 4;

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--allow-http-registry`: plain HTTP is allowed for any registry.
    pub allow_http: bool,
    /// `--allow-insecure-registry`: TLS certificates are not checked (testing only).
    pub allow_insecure: bool,
    /// Extra CA certificates (PEM) trusted for registries, beside the web roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Explicit credentials for every registry (`--registry-username/--registry-password`).
    pub credentials: Option<Credentials>,
    /// Where `config.json` is (`DOCKER_CONFIG` or `~/.docker`).
    pub docker_config: Option<PathBuf>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Blobs larger than this are uploaded in chunks of this size.
    pub chunk_size: usize,
    /// First retry delay (doubled each time).
    pub backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allow_http: false,
            allow_insecure: false,
            ca_pem: None,
            credentials: None,
            docker_config: auth::docker_config_dir(),
            timeout: Duration::from_secs(60),
            chunk_size: 8 * 1024 * 1024,
            backoff: Duration::from_millis(200),
        }
    }
}

/// What the client remembers about one registry.
#[derive(Default)]
struct RegistryState {
    /// `https://host` or `http://host`, once a ping answered.
    base: Option<String>,
    /// Credentials, once looked up (`Some(None)`: anonymous).
    credentials: Option<Option<Credentials>>,
    /// The registry asked for basic auth.
    basic: bool,
    /// Bearer tokens by scope.
    tokens: HashMap<String, String>,
    /// The referrers API answered 404 once: the registry lacks it (a registry with the
    /// API answers an empty index for an unknown digest), so it is not asked again.
    no_referrers_api: bool,
}

/// A pulled manifest: its bytes (digest checked), media type and digest.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The exact bytes served.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub media_type: String,
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
}

impl Pulled {
    /// A descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::of(&self.media_type, &self.bytes);
        d.digest.clone_from(&self.digest);
        d
    }
}

/// A registry client. Cheap to share between threads (`&Client` is `Sync`).
pub struct Client {
    http: reqwest::blocking::Client,
    options: Options,
    state: Mutex<HashMap<String, RegistryState>>,
    /// Tag listings by repository (`None`: not listable), see [`Client::may_have_tag`].
    tags: Mutex<HashMap<String, TagSet>>,
}

/// A repository's tags, when the registry listed them whole.
type TagSet = Option<std::sync::Arc<std::collections::HashSet<String>>>;

trait MayContain {
    fn is_none_or_contains(&self, tag: &str) -> bool;
}

impl MayContain for TagSet {
    fn is_none_or_contains(&self, tag: &str) -> bool {
        self.as_ref().map_or(true, |set| set.contains(tag))
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("options", &self.options.allow_http).finish_non_exhaustive()
    }
}

/// Pull or push access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Pull,
    Push,
}

impl Client {
    /// Builds a client.
    ///
    /// Errors: [`Error::Tls`] for unusable CA certificates.
    pub fn new(options: Options) -> Result<Client, Error> {
        let mut builder = crate::http::blocking_builder()
            .timeout(options.timeout)
            .danger_accept_invalid_certs(options.allow_insecure)
            .pool_max_idle_per_host(32);
        if let Some(pem) = &options.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::Tls(format!("reading the registry CA certificates: {e}")))?;
            if certs.is_empty() {
                return Err(Error::Tls("the registry CA file holds no CERTIFICATE".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| Error::Tls(format!("building the client: {e}")))?;
        Ok(Client {
            http,
            options,
            state: Mutex::new(HashMap::new()),
            tags: Mutex::new(HashMap::new()),
        })
    }

    fn with_state<T>(&self, registry: &str, f: impl FnOnce(&mut RegistryState) -> T) -> T {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(guard.entry(registry.to_string()).or_default())
    }

    fn credentials(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        if let Some(known) = self.with_state(registry, |s| s.credentials.clone()) {
            return Ok(known);
        }
        let found = match &self.options.credentials {
            Some(c) => Some(c.clone()),
            None => auth::lookup(registry, self.options.docker_config.as_deref())?,
        };
        self.with_state(registry, |s| s.credentials = Some(found.clone()));
        Ok(found)
    }

    /// The base URL of `registry`, pinging `/v2/` to pick the scheme the first time:
    /// HTTPS, then plain HTTP where allowed. A loopback registry is asked over plain HTTP
    /// first (nothing leaves the machine, and a failed TLS hello to a plain-HTTP server
    /// costs tens of milliseconds); it only counts if a registry answers.
    fn base(&self, reference: &Reference) -> Result<String, Error> {
        let registry = reference.registry();
        if let Some(base) = self.with_state(registry, |s| s.base.clone()) {
            return Ok(base);
        }
        let local = reference.is_local_registry();
        let schemes: &[&str] = if reference.is_loopback_registry() {
            &["http", "https"]
        } else if local || self.options.allow_http {
            &["https", "http"]
        } else {
            &["https"]
        };
        let mut failures = Vec::new();
        for scheme in schemes {
            let base = format!("{scheme}://{registry}");
            match self.http.get(format!("{base}/v2/")).send() {
                // Only a registry's answers count: an HTTPS server answering plain HTTP
                // with 400 is not a registry speaking HTTP.
                Ok(resp)
                    if resp.status().is_success()
                        || resp.status() == StatusCode::UNAUTHORIZED
                        || resp.status() == StatusCode::FORBIDDEN =>
                {
                    if resp.status() == StatusCode::UNAUTHORIZED {
                        let basic = challenge(resp.headers()) == Some(Challenge::Basic);
                        self.with_state(registry, |s| s.basic = basic);
                    }
                    self.with_state(registry, |s| s.base = Some(base.clone()));
                    return Ok(base);
                }
                Ok(resp) => failures.push(format!("{scheme}: /v2/ answered {}", resp.status())),
                Err(e) => failures.push(format!("{scheme}: {}", crate::error_text::chain(&e))),
            }
        }
        Err(Error::Unreachable {
            registry: registry.to_string(),
            detail: failures.join("; "),
            hint: if local || self.options.allow_http {
                ""
            } else {
                " (for a plain-HTTP registry pass --allow-http-registry)"
            },
        })
    }

    /// Sends a request built by `build` (given the base URL), with auth, retries and
    /// challenge handling.
    fn send(
        &self,
        reference: &Reference,
        access: Access,
        what: &str,
        build: &dyn Fn(&reqwest::blocking::Client, &str) -> RequestBuilder,
    ) -> Result<Response, Error> {
        let registry = reference.registry();
        let base = self.base(reference)?;
        let scope = format!(
            "repository:{}:{}",
            reference.repository(),
            if access == Access::Push { "pull,push" } else { "pull" }
        );
        let mut answered_challenge = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = build(&self.http, &base);
            if let Some(header) = self.auth_header(registry, &scope)? {
                request = request.header(AUTHORIZATION, header);
            }
            let retry_after = match request.send() {
                Ok(resp) if resp.status() == StatusCode::UNAUTHORIZED && !answered_challenge => {
                    answered_challenge = true;
                    self.answer_challenge(registry, &scope, resp.headers(), what)?;
                    attempt -= 1;
                    continue;
                }
                Ok(resp)
                    if (resp.status() == StatusCode::TOO_MANY_REQUESTS
                        || resp.status().is_server_error())
                        && attempt < ATTEMPTS =>
                {
                    tracing::debug!(status = %resp.status(), what, "registry busy; retrying");
                    None
                }
                Ok(resp) => return check_status(resp, what, registry),
                Err(e) if attempt < ATTEMPTS && (e.is_connect() || e.is_timeout()) => Some(e),
                Err(e) => {
                    return Err(Error::Http {
                        what: what.to_string(),
                        detail: crate::error_text::chain(&e),
                    })
                }
            };
            if let Some(e) = retry_after {
                tracing::debug!(error = %e, what, "registry connection failed; retrying");
            }
            // Backoff between attempts (a pause before a retry, not synchronisation).
            std::thread::sleep(self.options.backoff * 2u32.pow(attempt - 1));
        }
    }

    fn auth_header(&self, registry: &str, scope: &str) -> Result<Option<String>, Error> {
        let (token, basic) = self.with_state(registry, |s| (s.tokens.get(scope).cloned(), s.basic));
        if token.is_some() {
            return Ok(token);
        }
        if basic {
            return Ok(self.credentials(registry)?.map(|c| c.basic_header()));
        }
        Ok(None)
    }

    /// Handles a 401: basic (send credentials from now on) or bearer (fetch a token).
    fn answer_challenge(
        &self,
        registry: &str,
        scope: &str,
        headers: &HeaderMap,
        what: &str,
    ) -> Result<(), Error> {
        let unauthorized = |detail: String| Error::Unauthorized {
            what: what.to_string(),
            registry: registry.to_string(),
            detail,
        };
        let credentials = self.credentials(registry)?;
        match challenge(headers) {
            Some(Challenge::Basic) => {
                if credentials.is_none() {
                    return Err(unauthorized(
                        "the registry wants a user name and password; run `cosign login`".into(),
                    ));
                }
                self.with_state(registry, |s| s.basic = true);
                Ok(())
            }
            Some(Challenge::Bearer { realm, service, scope: challenged }) => {
                let scope_param = challenged.unwrap_or_else(|| scope.to_string());
                let mut request = self.http.get(&realm).query(&[("scope", scope_param.as_str())]);
                if let Some(service) = &service {
                    request = request.query(&[("service", service.as_str())]);
                }
                if let Some(c) = &credentials {
                    request = request.header(AUTHORIZATION, c.basic_header());
                }
                let resp = request
                    .send()
                    .map_err(|e| unauthorized(format!("token request to {realm}: {e}")))?;
                if !resp.status().is_success() {
                    return Err(unauthorized(format!(
                        "token endpoint {realm} answered {}",
                        resp.status()
                    )));
                }
                #[derive(serde::Deserialize)]
                struct TokenAnswer {
                    #[serde(default)]
                    token: Option<String>,
                    #[serde(default)]
                    access_token: Option<String>,
                }
                let body = read_limited(resp, 1024 * 1024, what)?;
                let answer: TokenAnswer = serde_json::from_slice(&body)
                    .map_err(|e| unauthorized(format!("token endpoint answer: {e}")))?;
                let token = answer
                    .token
                    .or(answer.access_token)
                    .ok_or_else(|| unauthorized("token endpoint sent no token".into()))?;
                self.with_state(registry, |s| {
                    s.tokens.insert(scope.to_string(), format!("Bearer {token}"));
                });
                Ok(())
            }
            None => Err(unauthorized("401 without a usable WWW-Authenticate challenge".into())),
        }
    }

    /// `HEAD` a manifest: its descriptor, or `None` if the registry has no such manifest.
    /// Falls back to `GET` when the registry sends no `Docker-Content-Digest`.
    pub fn head_manifest(&self, reference: &Reference) -> Result<Option<Descriptor>, Error> {
        let url = manifest_path(reference);
        let what = format!("HEAD manifest {reference}");
        let resp = match self.send(reference, Access::Pull, &what, &|http, base| {
            http.head(format!("{base}{url}")).header(ACCEPT, manifest::ACCEPT)
        }) {
            Ok(resp) => resp,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
        let digest = header("docker-content-digest").map(str::to_string);
        let media_type = header("content-type").map(|c| c.split(';').next().unwrap_or(c).trim());
        let size = header("content-length").and_then(|l| l.parse::<u64>().ok());
        match (digest, media_type, size) {
            (Some(digest), Some(media_type), Some(size))
                if manifest::is_manifest_type(media_type)
                    && reference.digest().map_or(true, |d| d == digest) =>
            {
                let mut d = Descriptor::of(media_type, b"");
                d.digest = digest;
                d.size = size;
                Ok(Some(d))
            }
            _ => match self.get_manifest(reference) {
                Ok(pulled) => Ok(Some(pulled.descriptor())),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// `GET` a manifest, checked against the reference's digest (or the registry's
    /// `Docker-Content-Digest` for a tag).
    pub fn get_manifest(&self, reference: &Reference) -> Result<Pulled, Error> {
        let url = manifest_path(reference);
        let what = format!("GET manifest {reference}");
        let resp = self.send(reference, Access::Pull, &what, &|http, base| {
            http.get(format!("{base}{url}")).header(ACCEPT, manifest::ACCEPT)
        })?;
        let content_type =
            resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let served_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = read_limited(resp, MAX_MANIFEST, &what)?;
        let digest = manifest::sha256_digest(&bytes);
        let expected = reference.digest().map(str::to_string).or(served_digest);
        if let Some(expected) = expected {
            if expected != digest {
                return Err(Error::DigestMismatch { what, expected, got: digest });
            }
        }
        let media_type =
            manifest::detect_media_type(content_type.as_deref(), &bytes).ok_or_else(|| {
                Error::Manifest { what: what.clone(), detail: "unknown manifest media type".into() }
            })?;
        Ok(Pulled { bytes, media_type, digest })
    }

    /// `GET` a manifest and parse it as an image index.
    pub fn get_index(&self, reference: &Reference) -> Result<(Pulled, Index), Error> {
        let pulled = self.get_manifest(reference)?;
        let index = serde_json::from_slice(&pulled.bytes).map_err(|e| Error::Manifest {
            what: format!("index {reference}"),
            detail: e.to_string(),
        })?;
        Ok((pulled, index))
    }

    /// `PUT` a manifest under `reference` (a tag or its digest); returns its digest.
    pub fn put_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, Error> {
        let url = manifest_path(reference);
        let what = format!("PUT manifest {reference}");
        // One copy into a shared buffer; retries clone the handle, not the bytes.
        let body = bytes::Bytes::copy_from_slice(bytes);
        let media_type = media_type.to_string();
        self.send(reference, Access::Push, &what, &|http, base| {
            http.put(format!("{base}{url}")).header(CONTENT_TYPE, &media_type).body(body.clone())
        })?;
        Ok(manifest::sha256_digest(bytes))
    }

    /// `DELETE` a manifest by digest.
    pub fn delete_manifest(&self, reference: &Reference) -> Result<(), Error> {
        let url = manifest_path(reference);
        let what = format!("DELETE manifest {reference}");
        self.send(reference, Access::Push, &what, &|http, base| {
            http.delete(format!("{base}{url}"))
        })?;
        Ok(())
    }

    /// `GET` a blob of at most `limit` bytes, checked against `digest`.
    pub fn get_blob(&self, repo: &Reference, digest: &str, limit: u64) -> Result<Vec<u8>, Error> {
        super::reference::check_digest(digest)
            .map_err(|why| Error::Manifest { what: format!("blob of {repo}"), detail: why })?;
        let url = format!("/v2/{}/blobs/{digest}", repo.repository());
        let what = format!("GET blob {}@{digest}", repo.repository_name());
        let resp =
            self.send(repo, Access::Pull, &what, &|http, base| http.get(format!("{base}{url}")))?;
        let bytes = read_limited(resp, limit, &what)?;
        let got = manifest::sha256_digest(&bytes);
        if got != digest {
            return Err(Error::DigestMismatch { what, expected: digest.to_string(), got });
        }
        Ok(bytes)
    }

    /// Whether the repository has blob `digest` (`HEAD`).
    pub fn blob_exists(&self, repo: &Reference, digest: &str) -> Result<bool, Error> {
        let url = format!("/v2/{}/blobs/{digest}", repo.repository());
        let what = format!("HEAD blob {}@{digest}", repo.repository_name());
        match self.send(repo, Access::Pull, &what, &|http, base| http.head(format!("{base}{url}")))
        {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Uploads `bytes` as a blob unless the repository has it: one `PUT` for small blobs,
    /// `PATCH` chunks for large ones. With `mount_from` (a repository of the same
    /// registry) the registry is first asked to mount the blob from there.
    pub fn push_blob(
        &self,
        repo: &Reference,
        bytes: &[u8],
        mount_from: Option<&Reference>,
    ) -> Result<String, Error> {
        let digest = manifest::sha256_digest(bytes);
        if self.blob_exists(repo, &digest)? {
            return Ok(digest);
        }
        let what = format!("upload blob {}@{digest}", repo.repository_name());
        let mut start = format!("/v2/{}/blobs/uploads/", repo.repository());
        if let Some(from) = mount_from.filter(|f| f.registry() == repo.registry()) {
            start.push_str(&format!("?mount={digest}&from={}", from.repository()));
        }
        let resp = self.send(repo, Access::Push, &what, &|http, base| {
            http.post(format!("{base}{start}")).header("content-length", "0")
        })?;
        if resp.status() == StatusCode::CREATED {
            return Ok(digest);
        }
        let mut location = location(&resp, &what)?;
        if bytes.len() > self.options.chunk_size {
            let all = bytes::Bytes::copy_from_slice(bytes);
            let mut offset = 0usize;
            for chunk in bytes.chunks(self.options.chunk_size) {
                let part = all.slice(offset..offset + chunk.len());
                let range = format!("{}-{}", offset, offset + chunk.len() - 1);
                let url = location.clone();
                let resp = self.send(repo, Access::Push, &what, &|http, base| {
                    http.patch(absolute(base, &url))
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .header("content-range", &range)
                        .body(part.clone())
                })?;
                location = self::location(&resp, &what)?;
                offset += chunk.len();
            }
            let url = with_query(&location, "digest", &digest);
            self.send(repo, Access::Push, &what, &|http, base| {
                http.put(absolute(base, &url)).header("content-length", "0")
            })?;
        } else {
            let url = with_query(&location, "digest", &digest);
            let body = bytes::Bytes::copy_from_slice(bytes);
            self.send(repo, Access::Push, &what, &|http, base| {
                http.put(absolute(base, &url))
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })?;
        }
        Ok(digest)
    }

    /// Asks the registry to mount blob `digest` from repository `from` (same registry)
    /// into `repo` without uploading it. Returns whether it did; `false` leaves an unused
    /// upload session, which registries expire.
    pub fn mount_blob(
        &self,
        repo: &Reference,
        from: &Reference,
        digest: &str,
    ) -> Result<bool, Error> {
        if from.registry() != repo.registry() {
            return Ok(false);
        }
        let url = format!(
            "/v2/{}/blobs/uploads/?mount={}&from={}",
            repo.repository(),
            crate::encoding::percent_encode(digest),
            crate::encoding::percent_encode(from.repository())
        );
        let what = format!("mount blob {digest} into {}", repo.repository_name());
        let resp = self.send(repo, Access::Push, &what, &|http, base| {
            http.post(format!("{base}{url}")).header("content-length", "0")
        })?;
        Ok(resp.status() == StatusCode::CREATED)
    }

    /// The repository's tags, or `None` when the registry paginates the list (a `Link`
    /// header): then it is not the whole list.
    pub fn list_tags(&self, repo: &Reference) -> Result<Option<Vec<String>>, Error> {
        let url = format!("/v2/{}/tags/list", repo.repository());
        let what = format!("list tags of {}", repo.repository_name());
        let resp = match self
            .send(repo, Access::Pull, &what, &|http, base| http.get(format!("{base}{url}")))
        {
            Ok(resp) => resp,
            Err(Error::NotFound { .. }) => return Ok(Some(Vec::new())),
            Err(e) => return Err(e),
        };
        if resp.headers().contains_key(reqwest::header::LINK) {
            return Ok(None);
        }
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let body = read_limited(resp, MAX_MANIFEST, &what)?;
        let tags: Tags = serde_json::from_slice(&body)
            .map_err(|e| Error::Manifest { what, detail: e.to_string() })?;
        Ok(Some(tags.tags.unwrap_or_default()))
    }

    /// Whether `tag` may exist in `repo`, from one tag listing per repository and process
    /// (verifying many images of a repository then costs one request instead of a 404 per
    /// absent signature tag). `true` when the list is unavailable or paginated. For
    /// reading only: tags written later in the process are not seen.
    pub fn may_have_tag(&self, repo: &Reference, tag: &str) -> bool {
        let key = repo.repository_name();
        let cached = {
            let guard = match self.tags.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            guard.get(&key).cloned()
        };
        let tags = match cached {
            Some(tags) => tags,
            None => {
                let listed = self.list_tags(repo).ok().flatten().map(|t| {
                    std::sync::Arc::new(t.into_iter().collect::<std::collections::HashSet<_>>())
                });
                if let Ok(mut guard) = self.tags.lock() {
                    guard.insert(key, listed.clone());
                }
                listed
            }
        };
        tags.is_none_or_contains(tag)
    }

    /// The referrers API (`GET /v2/<repo>/referrers/<digest>`): `None` when the registry
    /// does not implement it (404), so the caller uses the tag-schema fallback.
    pub fn referrers(&self, repo: &Reference, digest: &str) -> Result<Option<Index>, Error> {
        if self.with_state(repo.registry(), |s| s.no_referrers_api) {
            return Ok(None);
        }
        let url = format!("/v2/{}/referrers/{digest}", repo.repository());
        let what = format!("referrers of {}@{digest}", repo.repository_name());
        let resp = match self.send(repo, Access::Pull, &what, &|http, base| {
            http.get(format!("{base}{url}")).header(ACCEPT, manifest::OCI_INDEX)
        }) {
            Ok(resp) => resp,
            Err(Error::NotFound { .. }) => {
                self.with_state(repo.registry(), |s| s.no_referrers_api = true);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let is_index = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with(manifest::OCI_INDEX));
        if !is_index {
            return Ok(None);
        }
        let body = read_limited(resp, MAX_MANIFEST, &what)?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| Error::Manifest { what, detail: e.to_string() })
    }
}

fn manifest_path(reference: &Reference) -> String {
    format!("/v2/{}/manifests/{}", reference.repository(), reference.api_reference())
}

fn challenge(headers: &HeaderMap) -> Option<Challenge> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::parse_challenge)
}

/// Maps error statuses to errors naming the request; success passes through.
fn check_status(resp: Response, what: &str, registry: &str) -> Result<Response, Error> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = read_limited(resp, 4096, what)
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    Err(match status {
        StatusCode::NOT_FOUND => Error::NotFound { what: what.to_string() },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::Unauthorized {
            what: what.to_string(),
            registry: registry.to_string(),
            detail: format!("{status}: {body}"),
        },
        _ => Error::Status { what: what.to_string(), status: status.as_u16(), body },
    })
}

/// Reads a body of at most `limit` bytes.
fn read_limited(resp: Response, limit: u64, what: &str) -> Result<Vec<u8>, Error> {
    if resp.content_length().is_some_and(|l| l > limit) {
        return Err(Error::TooLarge { what: what.to_string(), limit });
    }
    let mut out = Vec::with_capacity(resp.content_length().unwrap_or(0).min(limit) as usize);
    resp.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::Http { what: what.to_string(), detail: e.to_string() })?;
    if out.len() as u64 > limit {
        return Err(Error::TooLarge { what: what.to_string(), limit });
    }
    Ok(out)
}

fn location(resp: &Response, what: &str) -> Result<String, Error> {
    resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string).ok_or_else(
        || Error::Status {
            what: what.to_string(),
            status: resp.status().as_u16(),
            body: "the registry sent no upload Location".into(),
        },
    )
}

/// An upload `Location` may be absolute or relative to the registry.
fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else {
        format!("{base}{location}")
    }
}

fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={}", crate::encoding::percent_encode(value))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn upload_urls_keep_their_state_query() {
        assert_eq!(
            with_query("/u?_state=a", "digest", "sha256:x"),
            "/u?_state=a&digest=sha256%3Ax"
        );
        assert_eq!(absolute("http://h", "/v2/r"), "http://h/v2/r");
        assert_eq!(absolute("http://h", "https://s/x"), "https://s/x");
    }
}
