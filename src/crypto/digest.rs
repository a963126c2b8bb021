//! SHA-2 digests, in one shot or streamed from a reader.

use std::io::Read;

use sha2::Digest as _;

use super::Result;

/// The hash algorithms sigbox computes (protobuf-specs `HashAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256 (`SHA2_256`).
    Sha256,
    /// SHA-384 (`SHA2_384`).
    Sha384,
    /// SHA-512 (`SHA2_512`).
    Sha512,
}

impl HashAlgorithm {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The same algorithm in aws-lc (for verifying and signing bare digests).
    pub(crate) fn aws_lc(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            HashAlgorithm::Sha256 => &aws_lc_rs::digest::SHA256,
            HashAlgorithm::Sha384 => &aws_lc_rs::digest::SHA384,
            HashAlgorithm::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }

    /// The protobuf-specs enum name (`SHA2_256`, ...).
    pub fn proto_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA2_256",
            HashAlgorithm::Sha384 => "SHA2_384",
            HashAlgorithm::Sha512 => "SHA2_512",
        }
    }

    /// The lowercase name Rekor and in-toto use (`sha256`, ...).
    pub fn rekor_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// Reads either spelling (`SHA2_256`, `sha256`, `SHA-256`, or the proto enum number).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "sha2256" | "sha256" | "1" => Some(HashAlgorithm::Sha256),
            "sha2384" | "sha384" | "2" => Some(HashAlgorithm::Sha384),
            "sha2512" | "sha512" | "3" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }
}

/// A digest together with the algorithm that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    algorithm: HashAlgorithm,
    bytes: Vec<u8>,
}

impl Digest {
    /// Wraps digest bytes computed elsewhere; `None` when the length does not fit.
    pub fn from_bytes(algorithm: HashAlgorithm, bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() == algorithm.output_len()).then_some(Digest { algorithm, bytes })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Lowercase hex of the digest.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.bytes)
    }
}

/// Hashes `data` in one call.
pub fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Digest {
    let bytes = match algorithm {
        HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
    };
    Digest { algorithm, bytes }
}

/// Hashes everything `reader` yields, 256 KiB at a time, so files of any size use
/// constant memory.
pub fn digest_reader(algorithm: HashAlgorithm, mut reader: impl Read) -> Result<Digest> {
    fn pump<D: sha2::Digest>(mut hasher: D, reader: &mut dyn Read) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            hasher.update(buf.get(..n).unwrap_or_default());
        }
        Ok(hasher.finalize().to_vec())
    }
    let bytes = match algorithm {
        HashAlgorithm::Sha256 => pump(sha2::Sha256::new(), &mut reader)?,
        HashAlgorithm::Sha384 => pump(sha2::Sha384::new(), &mut reader)?,
        HashAlgorithm::Sha512 => pump(sha2::Sha512::new(), &mut reader)?,
    };
    Ok(Digest { algorithm, bytes })
}

/// SHA-256 fed piece by piece, for data written as a stream (backup parts) where
/// [`digest_reader`] has no reader to pull from.
#[derive(Clone, Default)]
pub struct Sha256Stream(sha2::Sha256);

impl Sha256Stream {
    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything added.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// An RFC 5280 §4.2.1.2 key identifier: SHA-1 of the subjectPublicKey bits (method 1).
///
/// SHA-1 is used here only as an identifier, never for a signature, as every CA does.
pub fn key_identifier(subject_public_key: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(subject_public_key).into()
}

/// SHA-1 of `data`, for identifiers that legacy formats name by it (ESSCertID v1 in RFC
/// 3161 tokens, the fingerprint in gitsign's status lines). Never for a signature.
pub fn sha1_identifier(data: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_digest_equals_one_shot_digest() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        for alg in [HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512] {
            let streamed = digest_reader(alg, &data[..]).expect("reading a slice cannot fail");
            assert_eq!(streamed, digest(alg, &data));
            assert_eq!(streamed.as_bytes().len(), alg.output_len());
        }
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_value() {
        assert_eq!(
            digest(HashAlgorithm::Sha256, b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn algorithm_names_parse_in_every_spelling() {
        assert_eq!(HashAlgorithm::from_name("SHA2_256"), Some(HashAlgorithm::Sha256));
        assert_eq!(HashAlgorithm::from_name("sha384"), Some(HashAlgorithm::Sha384));
        assert_eq!(HashAlgorithm::from_name("SHA-512"), Some(HashAlgorithm::Sha512));
        assert_eq!(HashAlgorithm::from_name("md5"), None);
    }
}
