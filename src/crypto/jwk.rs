//! Public keys from JSON Web Keys (RFC 7517/7518/8037): what OIDC providers publish in
//! their JWKS. Only the key material is read here; `oidc` decides which keys to trust.

use super::{Error, PublicKey, Result};

/// Builds a public key from the JWK members of one key: `kty` and, by type, `crv`/`x`/`y`
/// (EC), `n`/`e` (RSA) or `crv`/`x` (OKP). Values are base64url as RFC 7518 says.
pub fn public_key_from_jwk(
    kty: &str,
    crv: Option<&str>,
    x: Option<&str>,
    y: Option<&str>,
    n: Option<&str>,
    e: Option<&str>,
) -> Result<PublicKey> {
    let field = |v: Option<&str>, name: &str| -> Result<Vec<u8>> {
        let text = v.ok_or_else(|| Error::UnsupportedKey(format!("JWK lacks {name}")))?;
        crate::encoding::b64_decode(text)
            .ok_or_else(|| Error::UnsupportedKey(format!("JWK {name} is not base64url")))
    };
    match (kty, crv) {
        ("EC", Some(curve @ ("P-256" | "P-384"))) => {
            let (x, y) = (field(x, "x")?, field(y, "y")?);
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let spki = if curve == "P-256" {
                let key = p256::PublicKey::from_sec1_bytes(&point)
                    .map_err(|_| Error::MalformedPublicKey)?;
                spki::EncodePublicKey::to_public_key_der(&key)
            } else {
                let key = p384::PublicKey::from_sec1_bytes(&point)
                    .map_err(|_| Error::MalformedPublicKey)?;
                spki::EncodePublicKey::to_public_key_der(&key)
            }
            .map_err(|_| Error::MalformedPublicKey)?;
            PublicKey::from_spki_der(spki.as_bytes())
        }
        ("RSA", _) => {
            let modulus = rsa::BigUint::from_bytes_be(&field(n, "n")?);
            let exponent = rsa::BigUint::from_bytes_be(&field(e, "e")?);
            let key =
                rsa::RsaPublicKey::new(modulus, exponent).map_err(|_| Error::MalformedPublicKey)?;
            let spki = rsa::pkcs8::EncodePublicKey::to_public_key_der(&key)
                .map_err(|_| Error::MalformedPublicKey)?;
            PublicKey::from_spki_der(spki.as_bytes())
        }
        ("OKP", Some("Ed25519")) => {
            let raw: [u8; 32] = field(x, "x")?.try_into().map_err(|_| Error::MalformedPublicKey)?;
            PublicKey::from_ed25519_raw(&raw)
        }
        (kty, crv) => Err(Error::UnsupportedKey(format!("JWK kty {kty} crv {crv:?}"))),
    }
}

/// The JWK members (`kty`, `crv`, `x`, `y`, or `n`, `e`) of a public key, for a JWKS that
/// sigbox publishes (the test OIDC issuer).
pub fn public_key_to_jwk(key: &PublicKey) -> Result<serde_json::Value> {
    use super::KeyKind;
    let b64 = crate::encoding::b64url_encode;
    let raw = key.raw_key();
    match key.kind() {
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => {
            let coord = (raw.len().saturating_sub(1)) / 2;
            let x = raw.get(1..1 + coord).ok_or(Error::MalformedPublicKey)?;
            let y = raw.get(1 + coord..).ok_or(Error::MalformedPublicKey)?;
            let crv = if key.kind() == KeyKind::EcdsaP256 { "P-256" } else { "P-384" };
            Ok(serde_json::json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)}))
        }
        KeyKind::Ed25519 => Ok(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64(raw)})),
        KeyKind::Rsa => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let rsa_key =
                rsa::RsaPublicKey::from_pkcs1_der(raw).map_err(|_| Error::MalformedPublicKey)?;
            let (n, e) = (rsa_key.n().to_bytes_be(), rsa_key.e().to_bytes_be());
            Ok(serde_json::json!({"kty": "RSA", "n": b64(&n), "e": b64(&e)}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EcdsaP256Signer, EcdsaP384Signer, Ed25519Signer, Signer};

    fn round_trip(key: &PublicKey) {
        let jwk = public_key_to_jwk(key).expect("to jwk");
        let s = |k: &str| jwk.get(k).and_then(|v| v.as_str());
        let back =
            public_key_from_jwk(s("kty").expect("kty"), s("crv"), s("x"), s("y"), s("n"), s("e"))
                .expect("from jwk");
        assert_eq!(&back, key);
    }

    #[test]
    fn jwk_round_trips_for_every_key_kind() {
        round_trip(EcdsaP256Signer::generate().public_key());
        round_trip(EcdsaP384Signer::generate().public_key());
        round_trip(Ed25519Signer::generate().public_key());
    }

    #[test]
    fn point_off_the_curve_is_rejected() {
        let zero = crate::encoding::b64url_encode([0u8; 32]);
        let err = public_key_from_jwk("EC", Some("P-256"), Some(&zero), Some(&zero), None, None);
        assert!(err.is_err());
        assert!(public_key_from_jwk("oct", None, None, None, None, None).is_err());
    }
}
