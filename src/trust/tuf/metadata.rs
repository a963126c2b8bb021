//! TUF 1.0 metadata: the signed envelope, the four top-level roles, keys and signatures.
//!
//! Signatures cover the OLPC canonical form of the `signed` member as received (unknown
//! members included), so the envelope keeps `signed` as a JSON value next to its typed
//! reading.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Error, Result};
use crate::crypto::{PublicKey, SignatureScheme};

/// One signature of an envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Signature {
    /// The key that made it.
    pub keyid: String,
    /// Hex: a DER ECDSA signature or a raw Ed25519 one.
    pub sig: String,
}

/// A metadata file as received: `signed` verbatim plus its signatures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// The signed part, kept as received.
    pub signed: Value,
    /// Its signatures.
    pub signatures: Vec<Signature>,
}

/// A key as TUF writes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Key {
    /// `ecdsa`, `ecdsa-sha2-nistp256` or `ed25519`.
    pub keytype: String,
    /// `ecdsa-sha2-nistp256` or `ed25519`.
    pub scheme: String,
    /// The public half.
    pub keyval: KeyVal,
    /// Extra members (`x-tuf-on-ci-keyowner`, ...), kept so a re-signed root keeps them.
    #[serde(flatten)]
    pub unrecognized: BTreeMap<String, Value>,
}

/// The public value of a key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyVal {
    /// PEM SPKI (or, in old metadata, a hex point / hex Ed25519 key).
    pub public: String,
}

/// The keys and threshold of one role.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Role {
    /// Key IDs allowed to sign.
    pub keyids: Vec<String>,
    /// How many distinct keys must sign.
    pub threshold: u64,
}

/// `root.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Root {
    /// Always `root`.
    #[serde(rename = "_type")]
    pub kind: String,
    /// The TUF spec version, `1.x`.
    pub spec_version: String,
    /// Monotonic version.
    pub version: u64,
    /// RFC 3339 expiry.
    pub expires: String,
    /// Whether files are fetched as `N.name`.
    #[serde(default)]
    pub consistent_snapshot: bool,
    /// Keys by ID.
    pub keys: BTreeMap<String, Key>,
    /// The four top-level roles.
    pub roles: BTreeMap<String, Role>,
    /// Other members, kept.
    #[serde(flatten)]
    pub unrecognized: BTreeMap<String, Value>,
}

/// The version (and optionally length and hashes) of a metadata file another role lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MetaFile {
    /// Its version.
    pub version: u64,
    /// Its length in bytes, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Its hashes by algorithm, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
}

/// `timestamp.json` and `snapshot.json` share a shape: a version, an expiry and `meta`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaList {
    /// `timestamp` or `snapshot`.
    #[serde(rename = "_type")]
    pub kind: String,
    /// The TUF spec version.
    pub spec_version: String,
    /// Monotonic version.
    pub version: u64,
    /// RFC 3339 expiry.
    pub expires: String,
    /// Listed files by name.
    pub meta: BTreeMap<String, MetaFile>,
}

/// One target file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetFile {
    /// Its length in bytes.
    pub length: u64,
    /// Its hashes by algorithm.
    pub hashes: BTreeMap<String, String>,
    /// Application data (Sigstore's `{"sigstore": {"usage": ..., "status": ...}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
}

/// `targets.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Targets {
    /// Always `targets`.
    #[serde(rename = "_type")]
    pub kind: String,
    /// The TUF spec version.
    pub spec_version: String,
    /// Monotonic version.
    pub version: u64,
    /// RFC 3339 expiry.
    pub expires: String,
    /// Target files by path.
    pub targets: BTreeMap<String, TargetFile>,
    /// Delegations (kept, not followed: Sigstore's targets are all top-level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Value>,
}

/// A checked envelope: its typed `signed`, the canonical bytes signatures cover, the rest.
#[derive(Debug, Clone)]
pub struct Signed<T> {
    /// The typed reading of `signed`.
    pub signed: T,
    /// The envelope as received.
    pub envelope: Envelope,
    /// OLPC canonical bytes of `signed`.
    pub canonical: Vec<u8>,
    /// Expiry, Unix seconds.
    pub expires: i64,
}

/// What every role's `signed` has in common.
pub trait RoleData: serde::de::DeserializeOwned {
    /// The role's `_type`.
    fn kind(&self) -> &str;
    /// Its version.
    fn version(&self) -> u64;
    /// Its RFC 3339 expiry.
    fn expires(&self) -> &str;
    /// Its spec version.
    fn spec_version(&self) -> &str;
}

macro_rules! role_data {
    ($t:ty) => {
        impl RoleData for $t {
            fn kind(&self) -> &str {
                &self.kind
            }
            fn version(&self) -> u64 {
                self.version
            }
            fn expires(&self) -> &str {
                &self.expires
            }
            fn spec_version(&self) -> &str {
                &self.spec_version
            }
        }
    };
}
role_data!(Root);
role_data!(MetaList);
role_data!(Targets);

impl<T: RoleData> Signed<T> {
    /// Parses a metadata file of role `role` (`root`, `timestamp`, `snapshot`, `targets`):
    /// shape, `_type`, spec version 1.x and expiry syntax. Signatures are checked later,
    /// against the keys the caller trusts.
    ///
    /// Errors: [`Error::Json`], [`Error::WrongType`], [`Error::SpecVersion`],
    /// [`Error::Time`].
    pub fn parse(role: &'static str, bytes: &[u8]) -> Result<Self> {
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|source| Error::Json { role, source })?;
        let signed: T = serde_json::from_value(envelope.signed.clone())
            .map_err(|source| Error::Json { role, source })?;
        if signed.kind() != role {
            return Err(Error::WrongType { want: role, got: signed.kind().to_string() });
        }
        if !signed.spec_version().starts_with("1.") {
            return Err(Error::SpecVersion { role, got: signed.spec_version().to_string() });
        }
        let expires = crate::encoding::parse_rfc3339(signed.expires())
            .ok_or_else(|| Error::Time { role, text: signed.expires().to_string() })?;
        let canonical = crate::encoding::to_olpc_canonical_vec(&envelope.signed)
            .map_err(|_| Error::Canonical { role })?;
        Ok(Signed { signed, envelope, canonical, expires })
    }

    /// Whether it has expired at `now` (expiry is exclusive: valid until the instant).
    pub fn expired(&self, now: i64) -> bool {
        now >= self.expires
    }

    /// Fails with [`Error::Expired`] naming the role when expired at `now`.
    pub fn check_expiry(&self, role: &'static str, now: i64) -> Result<()> {
        if self.expired(now) {
            return Err(Error::Expired {
                role,
                expires: self.signed.expires().to_string(),
                version: self.signed.version(),
            });
        }
        Ok(())
    }

    /// Checks that at least `threshold` distinct keys of `role` in `root` signed this.
    ///
    /// Errors: [`Error::Threshold`] (too few valid signatures), [`Error::UnknownRole`].
    pub fn verify_by(&self, role: &'static str, root: &Root) -> Result<()> {
        let spec = root.roles.get(role).ok_or(Error::UnknownRole(role))?;
        let mut good: Vec<&str> = Vec::new();
        for sig in &self.envelope.signatures {
            if !spec.keyids.contains(&sig.keyid) || good.contains(&sig.keyid.as_str()) {
                continue;
            }
            let Some(key) = root.keys.get(&sig.keyid) else { continue };
            if verify_signature(key, &self.canonical, &sig.sig).is_ok() {
                good.push(&sig.keyid);
            }
        }
        if spec.threshold == 0 || (good.len() as u64) < spec.threshold {
            return Err(Error::Threshold {
                role,
                version: self.signed.version(),
                valid: good.len(),
                threshold: spec.threshold,
            });
        }
        Ok(())
    }
}

/// Reads a TUF key: ECDSA P-256 (PEM SPKI or a hex SEC1 point) or Ed25519 (hex).
///
/// Errors: [`Error::Key`] for a key type, scheme or encoding sigbox does not read.
pub fn public_key(key: &Key) -> Result<(PublicKey, SignatureScheme)> {
    let bad = |why: &str| Error::Key(format!("{} / {}: {why}", key.keytype, key.scheme));
    let public = key.keyval.public.trim();
    match (key.keytype.as_str(), key.scheme.as_str()) {
        ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
            let parsed = if public.starts_with("-----BEGIN") {
                PublicKey::from_pem(public).map_err(|_| bad("unreadable PEM public key"))?
            } else {
                let point = crate::encoding::hex_decode(public).ok_or_else(|| bad("not hex"))?;
                PublicKey::from_p256_point(&point).map_err(|_| bad("not a P-256 point"))?
            };
            if parsed.kind() != crate::crypto::KeyKind::EcdsaP256 {
                return Err(bad("not a P-256 key"));
            }
            Ok((parsed, SignatureScheme::EcdsaSha256))
        }
        ("ed25519", "ed25519") => {
            let raw = crate::encoding::hex_decode(public).ok_or_else(|| bad("not hex"))?;
            let raw: [u8; 32] = raw.try_into().map_err(|_| bad("not 32 bytes"))?;
            let parsed = PublicKey::from_ed25519_raw(&raw).map_err(|_| bad("unusable"))?;
            Ok((parsed, SignatureScheme::Ed25519))
        }
        _ => Err(bad("unsupported key type")),
    }
}

/// The TUF key ID of `key`: SHA-256 of its OLPC canonical JSON, hex.
pub fn key_id(key: &Key) -> String {
    let value = serde_json::to_value(key).unwrap_or(Value::Null);
    let canonical = crate::encoding::to_olpc_canonical_vec(&value).unwrap_or_default();
    crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &canonical).to_hex()
}

fn verify_signature(key: &Key, message: &[u8], sig_hex: &str) -> Result<()> {
    let (public, scheme) = public_key(key)?;
    let sig = crate::encoding::hex_decode(sig_hex).ok_or(Error::SignatureEncoding)?;
    public.verify(scheme, message, &sig).map_err(|_| Error::SignatureEncoding)
}
