//! [`Base64Bytes`]: bytes that travel as base64 in JSON (protobuf `bytes` fields, Rekor
//! bodies, trust roots).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A protobuf `bytes` field: read from any base64 alphabet, written as standard base64.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Base64Bytes(pub Vec<u8>);

impl Base64Bytes {
    /// True when there are no bytes (the proto default).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b64:{}", crate::encoding::b64_encode(&self.0))
    }
}

impl std::ops::Deref for Base64Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Base64Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Base64Bytes(bytes)
    }
}

impl From<&[u8]> for Base64Bytes {
    fn from(bytes: &[u8]) -> Self {
        Base64Bytes(bytes.to_vec())
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::encoding::b64_encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        let Some(text) = text else {
            return Ok(Base64Bytes::default());
        };
        crate::encoding::b64_decode(&text)
            .map(Base64Bytes)
            .ok_or_else(|| serde::de::Error::custom("bytes field is not base64"))
    }
}
