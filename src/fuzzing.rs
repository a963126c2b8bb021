//! Fuzz entry points: one function per parser, each of which must never panic on any input.
//!
//! `fuzz/fuzz_targets/*.rs` (cargo-fuzz) are one-line wrappers around these, and the
//! proptest below runs them on random bytes in every `cargo test`.

use std::sync::OnceLock;

use crate::crypto::cosign_key;

/// PEM decoding (single block and chains).
pub fn pem(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((label, der)) = crate::encoding::pem_decode(text) {
            let again = crate::encoding::pem_encode(&label, &der);
            // Canonical form: encoding what we decoded decodes to the same bytes.
            assert_eq!(crate::encoding::pem_decode(&again).ok(), Some((label, der)));
        }
        let _ = crate::encoding::pem_decode_all(text);
    }
}

/// DER SubjectPublicKeyInfo and PEM public keys.
pub fn public_key(data: &[u8]) {
    if let Ok(key) = crate::crypto::PublicKey::from_spki_der(data) {
        let _ = key.verify(key.default_scheme(), b"m", b"s");
        let _ = key.verify_prehashed(key.default_scheme(), &[0u8; 32], b"s");
    }
    let _ = crate::crypto::PublicKey::from_pem_or_der(data);
}

/// cosign encrypted key files (every check short of the scrypt derivation, which only the
/// exact parameters cosign writes can reach) and unencrypted key imports.
pub fn cosign_key_file(data: &[u8]) {
    let pem = crate::encoding::pem_encode(cosign_key::SIGSTORE_KEY_LABEL, data);
    cosign_key::fuzz_key_file(&pem);
    if let Ok(text) = std::str::from_utf8(data) {
        cosign_key::fuzz_key_file(text);
    }
}

/// RFC 8785 canonicalization of arbitrary JSON.
pub fn canonical_json(data: &[u8]) {
    if let Ok(canonical) = crate::encoding::canonicalize(data) {
        // Canonical form is a fixed point.
        assert_eq!(crate::encoding::canonicalize(&canonical).ok(), Some(canonical));
    }
}

/// X.509 certificates, SCT lists and RFC 3161 timestamps.
pub fn x509(data: &[u8]) {
    crate::x509::fuzz_certificate(data);
    crate::x509::fuzz_sct_list(data);
    crate::x509::fuzz_timestamp(data);
}

/// C2SP checkpoints and Rekor proposed entries (what a log server parses from clients).
pub fn transparency_log(data: &[u8]) {
    crate::tlog::fuzz_parse(data);
    crate::rekor::kinds::fuzz_proposed_entry(data);
}

/// Sigstore bundle JSON.
pub fn bundle(data: &[u8]) {
    crate::bundle::fuzz_parse(data);
}

/// `trusted_root.json`, signing configs and client trust configs.
pub fn trusted_root(data: &[u8]) {
    crate::trust::fuzz_parse(data);
}

/// gitsign signatures: the armored CMS, the embedded protobuf log entry, commit and tag
/// objects, and `[gitsign]` git config text.
pub fn gitsign(data: &[u8]) {
    use crate::git::object::{self, Kind};
    let _ = crate::x509::cms::parse_detached(data);
    let _ = crate::git::proto::decode(data);
    for kind in [Kind::Commit, Kind::Tag] {
        if let Ok((payload, Some(armored))) = object::split(kind, data) {
            if let Ok(sig) = crate::git::verify::Signature::from_armored(&armored) {
                let _ = sig.embedded_entry();
                let _ = crate::git::verify::object_id(&payload, &sig);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::git::config::gitsign_section(text);
    }
}

/// Rekor proposed entries as a server reads them (every v1 kind, and v2 requests), and
/// entry bodies as a client reads them back from a log (the typed model).
pub fn rekor_entry(data: &[u8]) {
    crate::rekor::kinds::fuzz_proposed_entry(data);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = crate::rekor::canonicalize_v2_request(&value);
    }
    if let Ok(body) = crate::rekor_model::Body::parse(data) {
        let _ = (body.kind(), body.api_version());
        let _ = body.to_canonical();
    }
}

/// Fulcio `signingCert` request bodies (public key + proof of possession, and CSR).
pub fn fulcio_request(data: &[u8]) {
    crate::fulcio::api::fuzz_signing_request(data);
}

/// JWTs, JWKS documents and issuer configurations.
pub fn oidc(data: &[u8]) {
    crate::oidc::fuzz_parse(data);
}

/// C2SP checkpoints, signed notes and tile paths.
pub fn checkpoint(data: &[u8]) {
    crate::tlog::fuzz_parse(data);
}

/// OCI image references, manifests and indexes, cosign's simple-signing payload and the
/// legacy signature layer (annotations → bundle).
pub fn oci(data: &[u8]) {
    use crate::oci::{layout, manifest, verify};
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::oci::reference::Reference::parse(text);
    }
    let _ = manifest::detect_media_type(None, data);
    if let Ok(m) = layout::parse_manifest(data, "fuzz") {
        for layer in &m.layers {
            let _ = verify::legacy_bundle(layer, data, layout::Kind::Signature);
            let _ = verify::legacy_bundle(layer, data, layout::Kind::Attestation);
        }
    }
    let _ = serde_json::from_slice::<manifest::Index>(data);
    let _ = layout::SimpleSigning::parse(data);
}

/// RFC 3161: timestamp requests as the TSA reads them, responses and tokens as clients
/// read them.
pub fn tsp(data: &[u8]) {
    use crate::x509::tsp;
    if let Ok(request) = tsp::TimeStampReq::from_der_bytes(data) {
        let _ = request.message_imprint.sha2_algorithm();
    }
    if let Ok((_, Some(token))) = tsp::parse_response(data) {
        let _ = tsp::token_tst_info(&token);
    }
    let _ = tsp::token_tst_info(data);
}

/// TUF metadata as a client reads it from a mirror: each role's parser, and the trusted
/// set's update steps (signatures, thresholds, versions, expiry, hashes) from the embedded
/// public-good root.
pub fn tuf(data: &[u8]) {
    use crate::trust::tuf::{MetaList, Root, Signed, Targets, TrustedSet, PUBLIC_GOOD_TUF_ROOT};
    let _ = Signed::<Root>::parse("root", data);
    let _ = Signed::<MetaList>::parse("timestamp", data);
    let _ = Signed::<Targets>::parse("targets", data);
    // 2026-01-01: inside the embedded root's validity, so the update steps run. The set is
    // built (five signature checks) once per process and cloned per input.
    static START: OnceLock<Option<TrustedSet>> = OnceLock::new();
    let start =
        START.get_or_init(|| TrustedSet::new(PUBLIC_GOOD_TUF_ROOT.as_bytes(), 1_767_225_600).ok());
    if let Some(mut set) = start.clone() {
        let _ = set.update_root(data);
        let _ = set.update_timestamp(data);
        let _ = set.update_snapshot(data, false);
        let _ = set.update_targets(data);
        let _ = set.check_target("trusted_root.json", data);
    }
    let _ = TrustedSet::new(data, 1_767_225_600);
}

/// humbly policy files, YAML and JSON.
pub fn policy(data: &[u8]) {
    use crate::policy::file::{parse, Syntax};
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse(text, Syntax::Yaml);
        let _ = parse(text, Syntax::Json);
    }
}

/// Whole HTTP requests to a Rekor v1 and a Rekor v2 log, in process: the first byte picks
/// the method and log, the first line is the request target (path and query), the rest is
/// the body. Whatever a client sends, the answer is never a 5xx (bad input is the
/// client's fault) and never a panic.
pub fn rekor_http(data: &[u8]) {
    use crate::http::{Method, Request};
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(fixture) = rekor_fixture() else {
        return;
    };
    let (target, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(target) = std::str::from_utf8(target) else {
        return;
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let method = if selector & 1 == 0 { Method::GET } else { Method::POST };
    let api = if selector & 2 == 0 { &fixture.v1 } else { &fixture.v2 };
    let request = Request { method, path, query, headers: Default::default(), body: body.to_vec() };
    let response = fixture.runtime.block_on(api.respond(request));
    assert!(!response.status.is_server_error(), "{target}: {}", response.status);
}

struct RekorFixture {
    runtime: tokio::runtime::Runtime,
    v1: crate::rekor::Api,
    v2: crate::rekor::Api,
}

/// Two logs in a per-process temporary directory, opened once per fuzzing process.
fn rekor_fixture() -> Option<&'static RekorFixture> {
    static FIXTURE: OnceLock<Option<RekorFixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            use crate::rekor::{service, LogVersion};
            // One thread: `block_on` drives the request and the sequencer without waking
            // another thread per request. The logs live on tmpfs when there is one, so a
            // well-formed entry's durable commit costs no disk flush: the fuzzer looks for
            // panics and 5xx answers, not for durability.
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            let shm = std::path::Path::new("/dev/shm");
            let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
            remove_stale_fixtures(&base);
            let dir = base.join(format!("sigbox-fuzz-{}", std::process::id()));
            let clock: crate::rekor::Clock = std::sync::Arc::new(|| 1_700_000_000);
            let open = |name: &str, version| {
                let config = service::ServiceConfig {
                    data_dir: dir.join(name),
                    signer_key: None,
                    name: format!("fuzz.{name}"),
                    genesis: version == LogVersion::V1,
                    version,
                };
                runtime.block_on(service::open(config, clock.clone())).ok()
            };
            let v1 = crate::rekor::Api::new(open("v1", LogVersion::V1)?);
            let v2 = crate::rekor::Api::new(open("v2", LogVersion::V2)?);
            Some(RekorFixture { runtime, v1, v2 })
        })
        .as_ref()
}

/// Removes the log directories earlier processes left in `base` (a static fixture is never
/// dropped, so nothing removes its own): those whose process is gone.
fn remove_stale_fixtures(base: &std::path::Path) {
    let Ok(dirs) = std::fs::read_dir(base) else { return };
    for dir in dirs.flatten() {
        let name = dir.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("sigbox-fuzz-")) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(dir.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Random bytes, plus random bytes wrapped in the shapes the parsers look for, so the
    /// fuzzing gets past the first check.
    fn inputs() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600),
            proptest::collection::vec(any::<u8>(), 0..400).prop_map(|body| {
                crate::encoding::pem_encode("PUBLIC KEY", &body).into_bytes()
            }),
            "\\{\"kdf\":\\{\"name\":\"scrypt\",\"params\":\\{\"N\":[0-9]{1,6},\"r\":[0-9],\"p\":[0-9]\\},\"salt\":\"[A-Za-z0-9+/=]{0,12}\"\\},\"cipher\":\\{\"name\":\"nacl/secretbox\",\"nonce\":\"[A-Za-z0-9+/=]{0,40}\"\\},\"ciphertext\":\"[A-Za-z0-9+/=]{0,40}\"\\}"
                .prop_map(String::into_bytes),
            "\\{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3\\+json\",\"verificationMaterial\":\\{\"publicKey\":\\{\"hint\":\"[a-z]{0,5}\"\\},\"tlogEntries\":\\[[^\\]]{0,40}\\]\\},\"messageSignature\":\\{\"signature\":\"[A-Za-z0-9+/=]{0,20}\"\\}\\}"
                .prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn no_parser_panics_on_random_input(data in inputs()) {
            super::pem(&data);
            super::public_key(&data);
            super::canonical_json(&data);
            super::bundle(&data);
            super::x509(&data);
            super::trusted_root(&data);
            super::transparency_log(&data);
            super::gitsign(&data);
            super::rekor_entry(&data);
            super::fulcio_request(&data);
            super::oidc(&data);
            super::oci(&data);
            super::policy(&data);
            super::cosign_key_file(&data);
            super::tsp(&data);
            super::tuf(&data);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

        /// Whole requests against in-process logs: never a 5xx, never a panic.
        #[test]
        fn rekor_requests_never_panic_or_fail_the_server(
            selector in any::<u8>(),
            target in "/(api/v[12]/[a-zA-Z/]{0,30}|tile/[0-9a-z/.]{0,20}|checkpoint)(\\?[a-zA-Z=&%0-9+.-]{0,30})?",
            body in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut data = vec![selector];
            data.extend_from_slice(target.as_bytes());
            data.push(b'\n');
            data.extend_from_slice(&body);
            super::rekor_http(&data);
        }
    }
}
