//! JSON Web Key Sets (RFC 7517 §5): the keys an issuer signs tokens with.

use serde::Deserialize;

use super::{Error, Result};
use crate::crypto::{public_key_from_jwk, PublicKey};

/// One usable key of a set.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// Key ID (`kid`), if the set names it.
    pub kid: Option<String>,
    /// Algorithm the key is restricted to (`alg`), if any.
    pub alg: Option<String>,
    /// The key.
    pub key: PublicKey,
}

/// A parsed key set. Keys the set holds but sigbox cannot use (symmetric keys, unknown
/// curves, encryption-only keys) are dropped, not fatal: providers publish mixed sets.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
struct RawKey {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl JwkSet {
    /// Parses a JWKS document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let raw: RawSet = serde_json::from_slice(bytes).map_err(Error::MalformedJwks)?;
        let keys = raw
            .keys
            .into_iter()
            .filter(|k| k.usage.as_deref().map_or(true, |u| u == "sig"))
            .filter_map(|k| {
                let key = public_key_from_jwk(
                    &k.kty,
                    k.crv.as_deref(),
                    k.x.as_deref(),
                    k.y.as_deref(),
                    k.n.as_deref(),
                    k.e.as_deref(),
                )
                .ok()?;
                Some(Jwk { kid: k.kid, alg: k.alg, key })
            })
            .collect();
        Ok(JwkSet { keys })
    }

    /// Builds a set from keys already parsed.
    pub fn from_keys(keys: Vec<Jwk>) -> Self {
        JwkSet { keys }
    }

    /// The keys that may have signed a token with this `kid` and `alg`: the key with that
    /// kid, or, for a token without kid, every key not restricted to another algorithm.
    pub fn candidates<'a>(&'a self, kid: Option<&'a str>, alg: &'a str) -> Vec<&'a Jwk> {
        self.keys
            .iter()
            .filter(move |k| match kid {
                Some(kid) => k.kid.as_deref() == Some(kid),
                None => true,
            })
            .filter(move |k| k.alg.as_deref().map_or(true, |a| a == alg))
            .collect()
    }

    /// Whether the set has a key with this kid (to decide whether to refresh the set).
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
