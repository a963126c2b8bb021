//! git objects as gitsign sees them: the payload git hands the signer (the object without
//! its signature), the signature inside a stored object, and the object ID git will give
//! the object once the signature is in it (online Rekor mode logs that ID, PROTOCOLS §7.3).

use super::Error;

/// The armor header git looks for to recognise an x509 signature.
pub const ARMOR_BEGIN: &str = "-----BEGIN SIGNED MESSAGE-----";

/// Commit or tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A commit: the signature is the `gpgsig` header.
    Commit,
    /// An annotated tag: the signature is appended to the message.
    Tag,
}

impl Kind {
    /// The object type name git hashes (`commit`, `tag`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Commit => "commit",
            Kind::Tag => "tag",
        }
    }

    /// Guesses the kind of a payload from its first header (`object` starts a tag).
    pub fn of_payload(payload: &[u8]) -> Kind {
        if payload.starts_with(b"object ") {
            Kind::Tag
        } else {
            Kind::Commit
        }
    }
}

/// Splits a stored object into the signed payload and its armored signature (if any).
pub fn split(kind: Kind, object: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), Error> {
    match kind {
        Kind::Commit => Ok(split_commit(object)),
        Kind::Tag => Ok(split_tag(object)),
    }
}

/// Removes the `gpgsig` header (and its continuation lines) from a commit.
fn split_commit(object: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let header_end = find(object, b"\n\n").map_or(object.len(), |i| i + 1);
    let (headers, body) = object.split_at(header_end);
    let mut payload = Vec::with_capacity(object.len());
    let mut signature: Option<Vec<u8>> = None;
    let mut in_signature = false;
    // Signed content excludes both signature headers (SHA-1 and SHA-256 repositories);
    // the signature is the first one found.
    let mut keep = false;
    for line in headers.split_inclusive(|b| *b == b'\n') {
        let header = line.strip_prefix(b"gpgsig ").or_else(|| line.strip_prefix(b"gpgsig-sha256 "));
        if let Some(rest) = header {
            in_signature = true;
            keep = signature.is_none();
            if keep {
                signature = Some(rest.to_vec());
            }
            continue;
        }
        if in_signature {
            if let Some(rest) = line.strip_prefix(b" ") {
                if let (true, Some(sig)) = (keep, signature.as_mut()) {
                    sig.extend_from_slice(rest);
                }
                continue;
            }
            in_signature = false;
        }
        payload.extend_from_slice(line);
    }
    payload.extend_from_slice(body);
    (payload, signature)
}

/// Splits a tag at the last line that starts an armored signature.
fn split_tag(object: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut start = None;
    let mut offset = 0;
    for line in object.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(ARMOR_BEGIN.as_bytes())
            || line.starts_with(b"-----BEGIN PGP SIGNATURE-----")
        {
            start = Some(offset);
        }
        offset += line.len();
    }
    match start {
        Some(at) => (object[..at].to_vec(), Some(object[at..].to_vec())),
        None => (object.to_vec(), None),
    }
}

/// The object as git stores it once `signature` (armored, ending in `\n`) is added to
/// `payload`: a `gpgsig` header at the end of a commit's headers, or appended to a tag.
pub fn with_signature(kind: Kind, payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + signature.len() + 64);
    match kind {
        Kind::Tag => {
            out.extend_from_slice(payload);
            out.extend_from_slice(signature);
        }
        Kind::Commit => {
            // git's do_sign_commit: insert before the blank line ending the headers.
            let at = find(payload, b"\n\n").map_or(payload.len(), |i| i + 1);
            out.extend_from_slice(&payload[..at]);
            let header: &[u8] = if is_sha256(payload) { b"gpgsig-sha256 " } else { b"gpgsig " };
            for (i, line) in signature.split_inclusive(|b| *b == b'\n').enumerate() {
                out.extend_from_slice(if i == 0 { header } else { b" " });
                out.extend_from_slice(line);
            }
            if !signature.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.extend_from_slice(&payload[at..]);
        }
    }
    out
}

/// The object ID (hex) git gives `object` of `kind`: SHA-1, or SHA-256 in a SHA-256
/// repository (recognised by the 64-hex ID of the object's first header).
pub fn object_id(kind: Kind, object: &[u8]) -> String {
    let mut framed = format!("{} {}\0", kind.name(), object.len()).into_bytes();
    framed.extend_from_slice(object);
    if is_sha256(object) {
        crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &framed).to_hex()
    } else {
        crate::encoding::hex_encode(crate::crypto::sha1_identifier(&framed))
    }
}

/// Whether the object comes from a SHA-256 repository: its first header (`tree` of a
/// commit, `object` of a tag) names a 64-hex ID.
fn is_sha256(object: &[u8]) -> bool {
    let first = object.split(|b| *b == b'\n').next().unwrap_or_default();
    let id = first.strip_prefix(b"tree ").or_else(|| first.strip_prefix(b"object "));
    id.is_some_and(|id| id.len() == 64 && id.iter().all(u8::is_ascii_hexdigit))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `committer` email of a commit payload (for `gitsign.matchCommitter`), or the
/// `tagger` email of a tag.
pub fn signer_email(payload: &[u8]) -> Option<String> {
    let headers = &payload[..find(payload, b"\n\n").unwrap_or(payload.len())];
    for line in headers.split(|b| *b == b'\n') {
        let rest = line.strip_prefix(b"committer ").or_else(|| line.strip_prefix(b"tagger "));
        if let Some(rest) = rest {
            let text = String::from_utf8_lossy(rest);
            let open = text.find('<')?;
            let close = text[open..].find('>')? + open;
            return Some(text[open + 1..close].to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &[u8] = include_bytes!("../../fixtures/gitsign/offline.commit");
    const PAYLOAD: &[u8] = include_bytes!("../../fixtures/gitsign/offline.commit.payload");

    #[test]
    fn splits_and_rebuilds_the_public_good_commit() {
        let (payload, signature) = split(Kind::Commit, COMMIT).unwrap();
        assert_eq!(payload, PAYLOAD);
        let signature = signature.unwrap();
        assert!(signature.starts_with(ARMOR_BEGIN.as_bytes()));
        assert_eq!(with_signature(Kind::Commit, &payload, &signature), COMMIT);
        assert_eq!(signer_email(&payload).as_deref(), Some("billy@chainguard.dev"));
        assert_eq!(Kind::of_payload(&payload), Kind::Commit);
    }

    #[test]
    fn tags_carry_the_signature_after_the_message() {
        let payload = b"object 0123\ntype commit\ntag v1\ntagger A <a@b.c> 1 +0000\n\nmsg\n";
        let sig = b"-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n";
        let object = with_signature(Kind::Tag, payload, sig);
        let (p, s) = split(Kind::Tag, &object).unwrap();
        assert_eq!((p.as_slice(), s.as_deref()), (&payload[..], Some(&sig[..])));
        assert_eq!(Kind::of_payload(payload), Kind::Tag);
        assert_eq!(signer_email(payload).as_deref(), Some("a@b.c"));
    }
}
