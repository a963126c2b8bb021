//! RFC 3161 timestamp verification (PROTOCOLS §8.2).

use super::{Certificate, Error, Result};

/// A trusted timestamp authority (a `timestampAuthorities` entry of a trusted root).
#[derive(Debug, Clone)]
pub struct TimestampAuthority {
    /// The TSA chain: signing (leaf) certificate first, then intermediates, root last.
    pub chain: Vec<Certificate>,
    /// Start of the authority's validity (unix seconds, inclusive).
    pub valid_from: i64,
    /// End of the authority's validity (unix seconds, inclusive); `None` while active.
    pub valid_until: Option<i64>,
    /// The authority's URI (identifies it when counting distinct timestamps).
    pub uri: String,
}

/// A timestamp whose signature, imprint and chain were checked by [`verify_timestamp`].
#[derive(Debug, Clone)]
pub struct VerifiedTimestamp {
    gen_time: i64,
    authority_uri: String,
}

impl VerifiedTimestamp {
    /// The TSTInfo genTime in unix seconds (fractions dropped).
    pub fn gen_time(&self) -> i64 {
        self.gen_time
    }

    /// The URI of the authority that signed it.
    pub fn authority_uri(&self) -> &str {
        &self.authority_uri
    }
}

/// Verifies an RFC 3161 timestamp over `signed_bytes`.
pub fn verify_timestamp(
    response_der: &[u8],
    signed_bytes: &[u8],
    authorities: &[TimestampAuthority],
) -> Result<VerifiedTimestamp> {
    let _ = (response_der, signed_bytes);
    if authorities.is_empty() {
        return Err(Error::NoTimestampAuthority);
    }
    Err(Error::UnknownTimestampAuthority)
}
