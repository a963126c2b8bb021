//! A real registry (Debian's `docker-registry`, distribution 2.x) on a free loopback port,
//! and test images built as OCI layouts on disk and pushed with `skopeo` (an independent
//! client).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// Panics naming the Debian package when a tool is missing.
pub fn require(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "{tool} is missing: install the Debian package `{package}` (see .ci/run)");
}

/// `sha256:<hex>`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("binding a free port")
        .local_addr()
        .expect("addr")
        .port()
}

/// How the registry is protected.
#[derive(Default)]
pub struct Setup {
    /// htpasswd file for basic auth.
    pub htpasswd: Option<PathBuf>,
    /// TLS certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running registry, killed on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub host: String,
    /// Its storage directory.
    pub storage: PathBuf,
}

impl Registry {
    /// Starts an open registry storing under `dir`.
    pub fn start(dir: &Path) -> Registry {
        Self::start_with(dir, &Setup::default())
    }

    /// Starts a registry with `setup`.
    pub fn start_with(dir: &Path, setup: &Setup) -> Registry {
        require("docker-registry", "docker-registry");
        std::fs::create_dir_all(dir).expect("registry dir");
        let storage = dir.join("storage");
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if let Some((cert, key)) = &setup.tls {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
        }
        if let Some(htpasswd) = &setup.htpasswd {
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: sigbox-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, config).expect("writing the registry config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting docker-registry");
        let host = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&host).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not listen on {host}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Registry { child, host, storage }
    }

    /// `host/repo:tag`.
    pub fn image(&self, repo: &str, tag: &str) -> String {
        format!("{}/{repo}:{tag}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let d = digest(bytes);
    std::fs::write(layout.join("blobs/sha256").join(&d[7..]), bytes).expect("writing a blob");
    (d, bytes.len())
}

fn image_manifest(layout: &Path, seed: &str, arch: &str) -> serde_json::Value {
    let layer = format!("layer of {seed} for {arch}\n").repeat(20);
    let (layer_digest, layer_size) = write_blob(layout, layer.as_bytes());
    let config = serde_json::json!({
        "architecture": arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "config": {"Labels": {"seed": seed}},
    });
    let config = serde_json::to_vec(&config).expect("json");
    let (config_digest, config_size) = write_blob(layout, &config);
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}],
    })
}

/// Builds a one-image OCI layout (config + one layer + manifest + index.json + oci-layout)
/// tagged `tag`; `seed` makes distinct images. With `archs` of two or more, the tag names
/// an image index of one manifest per architecture.
pub fn build_layout(dir: &Path, seed: &str, archs: &[&str]) -> PathBuf {
    let layout = dir.join(format!("layout-{seed}"));
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("layout dir");
    std::fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout");
    let top = if archs.len() < 2 {
        let manifest = serde_json::to_vec(&image_manifest(&layout, seed, "amd64")).expect("json");
        let (d, size) = write_blob(&layout, &manifest);
        serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": size})
    } else {
        let children: Vec<_> = archs
            .iter()
            .map(|arch| {
                let m = serde_json::to_vec(&image_manifest(&layout, seed, arch)).expect("json");
                let (d, size) = write_blob(&layout, &m);
                serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": size,
                                   "platform": {"architecture": arch, "os": "linux"}})
            })
            .collect();
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children});
        let index = serde_json::to_vec(&index).expect("json");
        let (d, size) = write_blob(&layout, &index);
        serde_json::json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": size})
    };
    let mut top = top;
    top["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "v1"});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).expect("json"))
        .expect("index.json");
    layout
}

/// The digest of the top manifest of a layout built by [`build_layout`].
pub fn layout_digest(layout: &Path) -> String {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
            .expect("json");
    index["manifests"][0]["digest"].as_str().expect("digest").to_string()
}

/// Pushes a layout with skopeo to `dest` (`host/repo:tag`); extra args go to skopeo.
pub fn push(layout: &Path, dest: &str, extra: &[&str]) {
    require("skopeo", "skopeo");
    let out = Command::new("skopeo")
        .args(["copy", "--all", "--preserve-digests", "--dest-tls-verify=false"])
        .args(extra)
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("running skopeo");
    assert!(out.status.success(), "skopeo copy failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Builds and pushes an image; returns `host/repo@sha256:…`.
pub fn push_image(sb_dir: &Path, registry: &Registry, repo: &str, seed: &str) -> String {
    let layout = build_layout(sb_dir, seed, &[]);
    push(&layout, &registry.image(repo, "v1"), &[]);
    format!("{}/{repo}@{}", registry.host, layout_digest(&layout))
}

/// `skopeo inspect --raw` of `reference` (`host/repo:tag`).
pub fn inspect_raw(reference: &str, extra: &[&str]) -> serde_json::Value {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .args(extra)
        .arg(format!("docker://{reference}"))
        .output()
        .expect("running skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("skopeo printed JSON")
}

/// A plain HTTP client for raw registry API calls (to tamper with what sigbox wrote).
fn http() -> reqwest::blocking::Client {
    sigbox::http::blocking_builder().build().expect("http client")
}

/// `GET` a manifest as JSON (raw API, no checks).
pub fn get_manifest(host: &str, repo: &str, reference: &str) -> serde_json::Value {
    let resp = http()
        .get(format!("http://{host}/v2/{repo}/manifests/{reference}"))
        .header(
            "accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
        )
        .send()
        .expect("GET manifest");
    assert!(resp.status().is_success(), "GET manifest {reference}: {}", resp.status());
    resp.json().expect("manifest JSON")
}

/// `PUT` a manifest (raw API); returns its digest.
pub fn put_manifest(
    host: &str,
    repo: &str,
    reference: &str,
    manifest: &serde_json::Value,
) -> String {
    let bytes = serde_json::to_vec(manifest).expect("json");
    let media_type =
        manifest["mediaType"].as_str().unwrap_or("application/vnd.oci.image.manifest.v1+json");
    let resp = http()
        .put(format!("http://{host}/v2/{repo}/manifests/{reference}"))
        .header("content-type", media_type)
        .body(bytes.clone())
        .send()
        .expect("PUT manifest");
    assert!(resp.status().is_success(), "PUT manifest {reference}: {}", resp.status());
    digest(&bytes)
}

/// `GET` a blob (raw API).
pub fn get_blob(host: &str, repo: &str, digest: &str) -> Vec<u8> {
    let resp =
        http().get(format!("http://{host}/v2/{repo}/blobs/{digest}")).send().expect("GET blob");
    assert!(resp.status().is_success(), "GET blob {digest}: {}", resp.status());
    resp.bytes().expect("blob").to_vec()
}

/// Uploads a blob (raw API, monolithic); returns its digest.
pub fn put_blob(host: &str, repo: &str, bytes: &[u8]) -> String {
    let d = digest(bytes);
    let client = http();
    let resp =
        client.post(format!("http://{host}/v2/{repo}/blobs/uploads/")).send().expect("POST upload");
    let location = resp.headers()["location"].to_str().expect("location").to_string();
    let url =
        if location.starts_with("http") { location } else { format!("http://{host}{location}") };
    let sep = if url.contains('?') { '&' } else { '?' };
    let resp = client
        .put(format!("{url}{sep}digest={d}"))
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .expect("PUT blob");
    assert!(resp.status().is_success(), "PUT blob: {}", resp.status());
    d
}

/// The file where the registry keeps blob `digest` (to tamper with it behind its back).
pub fn blob_file(registry: &Registry, digest: &str) -> PathBuf {
    let hex = &digest[7..];
    registry.storage.join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
}
