//! Checks a tlog entry's canonicalized body against the bundle it came in (PROTOCOLS §9
//! step 2d). This stops an attacker from pairing a valid, logged entry with another
//! signature, key or artifact (CVE-2022-36056 class).
//!
//! The body is parsed once with the shared typed model ([`crate::rekor_model`], the same
//! one the log writes with), then compared field by field by the check of its kind: one
//! file per kind. It is never re-serialized here: the leaf hash covers the exact bytes,
//! checked elsewhere.

mod dsse;
mod hashedrekord;
mod intoto;

use crate::bundle::{Content, LogEntry};
use crate::crypto::{Digest, PublicKey};
use crate::encoding::pem_decode_all;
use crate::rekor_model::{self, Body, VerifierV002};
use crate::verify::Error;

/// What the body must agree with.
pub(crate) struct Expected<'a> {
    /// The signed content.
    pub content: &'a Content,
    /// The artifact digest (message signatures only; `None` for DSSE).
    pub artifact_digest: Option<&'a Digest>,
    /// The leaf certificate DER, for keyless bundles.
    pub certificate_der: Option<&'a [u8]>,
    /// The verification key.
    pub key: &'a PublicKey,
}

/// Checks `entry.canonicalized_body` against `expected`.
///
/// Errors: [`Error::Body`] when the body is not a well-formed body of a known kind,
/// [`Error::BodyMalformed`] when a field inside it cannot be read, [`Error::BodyMismatch`]
/// naming the field that differs, [`Error::KindMismatch`] when the entry kind cannot hold
/// this content.
pub(crate) fn check_body(entry: &LogEntry, expected: &Expected<'_>) -> Result<(), Error> {
    let body = match Body::parse(&entry.canonicalized_body) {
        Ok(body) => body,
        Err(rekor_model::Error::Unsupported { kind, version }) => {
            return Err(if kind == entry.kind && version == entry.version {
                Error::KindMismatch { kind, version }
            } else {
                Error::BodyMismatch { field: "kind/apiVersion" }
            });
        }
        Err(other) => return Err(Error::Body(other)),
    };
    if body.kind() != entry.kind || body.api_version() != entry.version {
        return Err(Error::BodyMismatch { field: "kind/apiVersion" });
    }
    let kind_mismatch =
        || Error::KindMismatch { kind: entry.kind.clone(), version: entry.version.clone() };
    match (&body, expected.content) {
        (Body::HashedRekordV001(spec), Content::MessageSignature { signature, .. }) => {
            hashedrekord::check_v001(spec, signature, expected)
        }
        (Body::HashedRekordV002(spec), content) => {
            hashedrekord::check_v002(spec, content, expected)
        }
        (Body::DsseV001(spec), Content::Dsse { payload, signature, .. }) => {
            dsse::check_v001(spec, payload, signature, expected)
        }
        (Body::DsseV002(spec), Content::Dsse { payload, signature, .. }) => {
            dsse::check_v002(spec, payload, signature, expected)
        }
        (Body::IntotoV002(spec), Content::Dsse { payload, signature, .. }) => {
            intoto::check_v002(spec, payload, signature, expected)
        }
        _ => Err(kind_mismatch()),
    }
}

/// The PEM in a v1 body must be the leaf certificate (keyless) or the verification key.
fn check_pem_key(pem: &[u8], expected: &Expected<'_>, field: &'static str) -> Result<(), Error> {
    let text = std::str::from_utf8(pem).map_err(|_| Error::BodyMalformed { field })?;
    let blocks = pem_decode_all(text).map_err(|_| Error::BodyMalformed { field })?;
    let Some((label, der)) = blocks.first() else {
        return Err(Error::BodyMalformed { field });
    };
    let matches = match (label.as_str(), expected.certificate_der) {
        ("CERTIFICATE", Some(leaf)) => der.as_slice() == leaf,
        ("PUBLIC KEY", None) => der.as_slice() == expected.key.spki_der(),
        _ => false,
    };
    if !matches {
        return Err(Error::BodyMismatch { field });
    }
    Ok(())
}

/// A v2 verifier must hold the leaf certificate (keyless) or the key, with key details
/// naming a scheme this key can use (a P-256 key with `PKIX_ECDSA_P256_...`, say).
fn check_verifier_v002(
    verifier: &VerifierV002,
    expected: &Expected<'_>,
    field: &'static str,
    details_field: &'static str,
) -> Result<(), Error> {
    use crate::crypto::{KeyKind, SignatureScheme};
    let matches = match (&verifier.x509_certificate, &verifier.public_key) {
        (Some(cert), None) => Some(cert.raw_bytes.as_slice()) == expected.certificate_der,
        (None, Some(key)) => {
            expected.certificate_der.is_none()
                && key.raw_bytes.as_slice() == expected.key.spki_der()
        }
        _ => false,
    };
    if !matches {
        return Err(Error::BodyMismatch { field });
    }
    let fits =
        SignatureScheme::from_key_details(&verifier.key_details).is_some_and(|scheme| {
            match (expected.key.kind(), scheme) {
                (
                    KeyKind::EcdsaP256 | KeyKind::EcdsaP384,
                    SignatureScheme::EcdsaSha256
                    | SignatureScheme::EcdsaSha384
                    | SignatureScheme::EcdsaSha512,
                ) => true,
                (KeyKind::Ed25519, SignatureScheme::Ed25519) => true,
                (KeyKind::Rsa, scheme) => !matches!(
                    scheme,
                    SignatureScheme::EcdsaSha256
                        | SignatureScheme::EcdsaSha384
                        | SignatureScheme::EcdsaSha512
                        | SignatureScheme::Ed25519
                ),
                _ => false,
            }
        });
    if !fits {
        return Err(Error::BodyMismatch { field: details_field });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
