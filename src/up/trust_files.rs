//! The files a local instance hands to clients: `trusted_root.json` (v0.1),
//! `signing_config.json` (v0.2) and `trust_config.json` (ClientTrustConfig), in exactly the
//! shapes INTEROP.md says sigstore-python and sigstore-js accept (no unknown fields, integers
//! as JSON numbers, timestamps with `Z`, URLs without a trailing `/`).

use serde_json::{json, Value};

use crate::crypto::{KeyKind, PublicKey};
use crate::encoding::b64_encode;
use crate::x509::Certificate;

/// Media type of the trusted root sigbox writes (sigstore-python refuses v0.2).
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// Media type of the signing config.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// Media type of the client trust config.
pub const TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// What the instance is made of.
#[derive(Debug, Clone)]
pub struct InstanceDescription {
    /// Fulcio base URL.
    pub ca_url: String,
    /// Rekor base URL.
    pub rekor_url: String,
    /// Test OIDC issuer URL.
    pub oidc_url: String,
    /// CA chain: intermediate(s) then the self-signed root.
    pub ca_chain: Vec<Certificate>,
    /// The Rekor log key.
    pub rekor_key: PublicKey,
    /// The CT log key.
    pub ct_key: PublicKey,
    /// Start of every validity window (RFC 3339, `Z`): the instance's creation time.
    pub valid_from: String,
    /// Rekor v2 (tile log) base URL.
    pub rekor_v2_url: String,
    /// The Rekor v2 log key (Ed25519).
    pub rekor_v2_key: PublicKey,
    /// The Rekor v2 log ID: the C2SP key ID of its origin and key (PROTOCOLS §2.1).
    pub rekor_v2_log_id: Vec<u8>,
    /// The timestamp authority's full endpoint URL (`.../api/v1/timestamp`).
    pub tsa_url: String,
    /// The TSA chain: signing certificate first, root last.
    pub tsa_chain: Vec<Certificate>,
    /// Start of the TSA's validity (its signing certificate's notBefore).
    pub tsa_valid_from: String,
}

/// `trusted_root.json`.
pub fn trusted_root(d: &InstanceDescription) -> Value {
    json!({
        "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
        "tlogs": [
            log_instance(&d.rekor_url, &d.rekor_key, &d.valid_from, &d.rekor_key.key_id()),
            log_instance(&d.rekor_v2_url, &d.rekor_v2_key, &d.valid_from, &d.rekor_v2_log_id),
        ],
        "certificateAuthorities": [{
            "subject": {"organization": "sigbox.local", "commonName": "sigbox-local-ca"},
            "uri": d.ca_url,
            "certChain": {"certificates": d.ca_chain.iter().map(|c| json!({"rawBytes": b64_encode(c.der())})).collect::<Vec<_>>()},
            "validFor": {"start": d.valid_from},
        }],
        "ctlogs": [log_instance(&format!("{}/ct", d.ca_url), &d.ct_key, &d.valid_from, &d.ct_key.key_id())],
        "timestampAuthorities": [{
            "subject": {"organization": "sigbox.local", "commonName": "sigbox-local-tsa"},
            "uri": d.tsa_url,
            "certChain": {"certificates": d.tsa_chain.iter().map(|c| json!({"rawBytes": b64_encode(c.der())})).collect::<Vec<_>>()},
            "validFor": {"start": d.tsa_valid_from},
        }],
    })
}

/// `signing_config.json` (v0.2).
pub fn signing_config(d: &InstanceDescription) -> Value {
    let versioned = |url: &str, version: u32, start: &str| json!({"url": url, "majorApiVersion": version, "operator": "sigbox.local", "validFor": {"start": start}});
    let service = |url: &str| versioned(url, 1, &d.valid_from);
    json!({
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [service(&d.ca_url)],
        "oidcUrls": [service(&d.oidc_url)],
        // As the real instances publish it: one operator, the v2 log listed first (clients
        // take the highest majorApiVersion they support; v1-only clients keep the v1 log).
        "rekorTlogUrls": [versioned(&d.rekor_v2_url, 2, &d.valid_from), service(&d.rekor_url)],
        "tsaUrls": [versioned(&d.tsa_url, 1, &d.tsa_valid_from)],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"},
    })
}

/// `trust_config.json`: both of the above in one ClientTrustConfig.
pub fn trust_config(d: &InstanceDescription) -> Value {
    json!({
        "mediaType": TRUST_CONFIG_MEDIA_TYPE,
        "trustedRoot": trusted_root(d),
        "signingConfig": signing_config(d),
    })
}

fn log_instance(base_url: &str, key: &PublicKey, valid_from: &str, log_id: &[u8]) -> Value {
    let details = match key.kind() {
        KeyKind::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        KeyKind::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        KeyKind::Ed25519 => "PKIX_ED25519",
        KeyKind::Rsa => "PKIX_RSA_PKCS1V15_2048_SHA256",
    };
    json!({
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": b64_encode(key.spki_der()), "keyDetails": details, "validFor": {"start": valid_from}},
        "logId": {"keyId": b64_encode(log_id)},
    })
}
