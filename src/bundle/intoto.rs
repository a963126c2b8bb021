//! in-toto Statement (v0.1 and v1), the usual DSSE payload (PROTOCOLS §5.3).
//!
//! Only what verification needs is modelled: the subjects with their digests and the
//! predicate type; the predicate is kept as opaque JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{Digest, HashAlgorithm};

/// `_type` of in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of in-toto Statement v0.1 (older npm bundles).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// cosign's `--type` short names (cosign `pkg/cosign/attestation`) as predicate type URIs;
/// anything else is taken as the URI itself.
pub fn predicate_type_uri(name: &str) -> String {
    match name {
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "link" => "https://in-toto.io/Link/v1",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        other => other,
    }
    .to_string()
}

/// An in-toto Statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// `https://in-toto.io/Statement/v1` or `.../v0.1`.
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The artifacts this statement is about.
    #[serde(default)]
    pub subject: Vec<Subject>,
    /// URI naming the predicate's schema.
    #[serde(rename = "predicateType", default)]
    pub predicate_type: String,
    /// The predicate, untouched.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub predicate: serde_json::Value,
}

/// One statement subject: a name and digests keyed by algorithm name (`sha256`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The subject's name (file name, purl, ...).
    #[serde(default)]
    pub name: String,
    /// Lowercase-hex digests keyed by algorithm (`sha256`, `sha512`, `gitCommit`, ...).
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// Parses a statement from the DSSE payload bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// True for the two statement types sigbox knows.
    pub fn is_known_type(&self) -> bool {
        self.statement_type == STATEMENT_V1 || self.statement_type == STATEMENT_V01
    }

    /// The first subject that carries `digest` under its algorithm's name (hex compared
    /// case-insensitively), or `None`.
    pub fn subject_matching(&self, digest: &Digest) -> Option<&Subject> {
        let name = digest.algorithm().rekor_name();
        let want = digest.to_hex();
        self.subject.iter().find(|subject| {
            subject.digest.get(name).is_some_and(|hex| hex.eq_ignore_ascii_case(&want))
        })
    }

    /// The digests of every subject with an algorithm sigbox computes.
    pub fn subject_digests(&self) -> Vec<Digest> {
        let mut out = Vec::new();
        for subject in &self.subject {
            for (name, hex) in &subject.digest {
                let Some(algorithm) = HashAlgorithm::from_name(name) else { continue };
                let Some(bytes) = crate::encoding::hex_decode(hex) else { continue };
                if let Some(d) = Digest::from_bytes(algorithm, bytes) {
                    out.push(d);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_subject_is_found_by_sha256() {
        let json = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a",
            "digest":{"sha256":"AB"}}],"predicateType":"p","predicate":{}}"#;
        let statement = Statement::from_json(json).unwrap();
        assert!(statement.is_known_type());
        // A 1-byte "digest" cannot be made into a Digest, so use the matcher's hex path.
        let d = crate::crypto::digest(HashAlgorithm::Sha256, b"x");
        assert!(statement.subject_matching(&d).is_none());
        let json2 = format!(
            r#"{{"_type":"{STATEMENT_V01}","subject":[{{"name":"a","digest":{{"sha256":"{}"}}}}],"predicateType":"p"}}"#,
            d.to_hex().to_uppercase()
        );
        let statement2 = Statement::from_json(json2.as_bytes()).unwrap();
        assert_eq!(statement2.subject_matching(&d).map(|s| s.name.as_str()), Some("a"));
        assert_eq!(statement2.subject_digests(), vec![d]);
    }
}
