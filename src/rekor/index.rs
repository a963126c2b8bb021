//! The search index query (`POST /api/v1/index/retrieve`, PROTOCOLS §4.1): which keys a
//! `SearchIndex` names, and how `and`/`or` combine their hits.
//!
//! Keys are written by the entry kinds (`kinds::CanonicalEntry::search_keys`): `sha256:<hex>`
//! digests, hex SHA-256 of a canonical PEM key or certificate, lowercased SAN identities.

use std::collections::BTreeSet;

use serde_json::Value;

use super::kinds::Verifier;
use super::{Error, Result};

/// A parsed `SearchIndex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    keys: Vec<String>,
    all: bool,
}

impl SearchQuery {
    /// Parses `{"hash"?, "email"?, "publicKey"?: {"format","content"}, "subject"?, "operator"?}`.
    ///
    /// Errors: [`Error::BadRequest`] when no criterion is given or one is malformed.
    pub fn from_json(body: &[u8]) -> Result<SearchQuery> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Error::BadRequest(format!("request body is not JSON: {e}")))?;
        let mut keys = Vec::new();
        if let Some(hash) = value.get("hash").and_then(Value::as_str) {
            let hash = hash.to_lowercase();
            let (alg, hex) = hash.split_once(':').unwrap_or(("sha256", hash.as_str()));
            let ok = matches!(alg, "sha256" | "sha384" | "sha512")
                && !hex.is_empty()
                && hex.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(Error::BadRequest(format!("hash {hash:?} is not <alg>:<hex>")));
            }
            keys.push(format!("{alg}:{hex}"));
        }
        for field in ["email", "subject"] {
            if let Some(v) = value.get(field).and_then(Value::as_str) {
                keys.push(v.to_lowercase());
            }
        }
        if let Some(pk) = value.get("publicKey") {
            let content = pk
                .get("content")
                .and_then(Value::as_str)
                .ok_or(Error::BadRequest("publicKey.content is required".into()))?;
            let format = pk.get("format").and_then(Value::as_str).unwrap_or("x509");
            if format != "x509" {
                return Err(Error::BadRequest(format!(
                    "publicKey format {format:?} is not supported"
                )));
            }
            let verifier = Verifier::from_b64_pem(content, "publicKey.content")
                .map_err(|e| Error::BadRequest(e.to_string()))?;
            keys.push(verifier.search_keys().swap_remove(0));
        }
        if keys.is_empty() {
            return Err(Error::BadRequest("give at least one of hash, email, publicKey".into()));
        }
        let all = match value.get("operator").and_then(Value::as_str) {
            None | Some("or") => false,
            Some("and") => true,
            Some(other) => {
                return Err(Error::BadRequest(format!("operator {other:?} is not and/or")))
            }
        };
        Ok(SearchQuery { keys, all })
    }

    /// The keys looked up.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Runs the query with `lookup` (key → indices); returns sorted, distinct indices.
    pub fn run(&self, mut lookup: impl FnMut(&str) -> Result<Vec<u64>>) -> Result<Vec<u64>> {
        let mut acc: Option<BTreeSet<u64>> = None;
        for key in &self.keys {
            let hits: BTreeSet<u64> = lookup(key)?.into_iter().collect();
            acc = Some(match acc {
                None => hits,
                Some(prev) if self.all => prev.intersection(&hits).copied().collect(),
                Some(prev) => prev.union(&hits).copied().collect(),
            });
        }
        Ok(acc.unwrap_or_default().into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_without_algorithm_means_sha256_and_is_lowercased() {
        let q = SearchQuery::from_json(br#"{"hash":"ABCD"}"#).unwrap();
        assert_eq!(q.keys(), ["sha256:abcd"]);
    }

    #[test]
    fn and_intersects_or_unites() {
        let lookup = |k: &str| Ok(if k.starts_with("sha256") { vec![1, 2, 3] } else { vec![3, 4] });
        let or = SearchQuery::from_json(br#"{"hash":"sha256:aa","email":"A@b.c"}"#).unwrap();
        assert_eq!(or.run(lookup).unwrap(), vec![1, 2, 3, 4]);
        let and =
            SearchQuery::from_json(br#"{"hash":"sha256:aa","email":"a@b.c","operator":"and"}"#)
                .unwrap();
        assert_eq!(and.run(lookup).unwrap(), vec![3]);
    }

    #[test]
    fn empty_query_and_bad_hash_are_rejected() {
        assert!(matches!(SearchQuery::from_json(b"{}"), Err(Error::BadRequest(_))));
        assert!(matches!(
            SearchQuery::from_json(br#"{"hash":"sha256:zz"}"#),
            Err(Error::BadRequest(_))
        ));
    }
}
