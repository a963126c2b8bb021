//! Image references in Docker's grammar: `[registry[:port]/]repo/path[:tag][@sha256:hex]`.
//!
//! Rules kept from Docker (and go-containerregistry, which cosign uses): a first path
//! component is a registry only if it has a `.` or `:` or is `localhost` (IPv6 literals are
//! bracketed, `[::1]:5000`); otherwise the registry is Docker Hub (`index.docker.io`) and a
//! single-component repository gets `library/`. A reference with neither tag nor digest
//! means `:latest`.

use std::fmt;

use super::Error;

/// Docker Hub's API host.
pub const DOCKER_HUB: &str = "index.docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Parses `text` (see the module docs).
    ///
    /// Errors: [`Error::Reference`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Reference, Error> {
        let bad = |why: &str| Error::Reference { reference: text.to_string(), why: why.into() };
        if text.is_empty() || text.len() > 4096 {
            return Err(bad("empty or too long"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                check_digest(digest).map_err(|why| bad(&why))?;
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let split = last_slash + i;
                (&rest[..split], Some(rest[split + 1..].to_string()))
            }
            None => (rest, None),
        };
        if let Some(tag) = &tag {
            check_tag(tag).map_err(|why| bad(&why))?;
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                check_registry(first).map_err(|why| bad(&why))?;
                (first.to_string(), path.to_string())
            }
            _ if name.contains('/') => (DOCKER_HUB.to_string(), name.to_string()),
            _ => (DOCKER_HUB.to_string(), format!("library/{name}")),
        };
        let registry = if registry == "docker.io" { DOCKER_HUB.to_string() } else { registry };
        check_repository(&repository).map_err(|why| bad(&why))?;
        let tag = if tag.is_none() && digest.is_none() { Some("latest".into()) } else { tag };
        Ok(Reference { registry, repository, tag, digest })
    }

    /// The registry host (and port), e.g. `127.0.0.1:5000`, `[::1]:5000`, `index.docker.io`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path, e.g. `library/alpine`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:<hex>`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// `registry/repository`, what cosign puts in `docker-reference`.
    pub fn repository_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What the registry API calls this manifest: the digest if known, else the tag.
    pub fn api_reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The same repository at `digest` (tag dropped).
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference { tag: None, digest: Some(digest.to_string()), ..self.clone() }
    }

    /// The same repository at `tag` (digest dropped).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference { tag: Some(tag.to_string()), digest: None, ..self.clone() }
    }

    /// The same reference in another repository of the same registry (`COSIGN_REPOSITORY`
    /// style, given as `registry/repo`).
    pub fn in_repository(&self, repository: &Reference) -> Reference {
        Reference {
            registry: repository.registry.clone(),
            repository: repository.repository.clone(),
            ..self.clone()
        }
    }

    /// True when the registry is on this machine (`localhost`, loopback addresses).
    pub fn is_loopback_registry(&self) -> bool {
        let host = host_of(&self.registry);
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    }

    /// True when the registry is on this machine or a private network, where
    /// go-containerregistry (so cosign) also tries plain HTTP.
    pub fn is_local_registry(&self) -> bool {
        let host = host_of(&self.registry);
        if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
            return true;
        }
        match host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
            Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
            Err(_) => false,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The host part of `host[:port]` (IPv6 literals keep their brackets).
fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.split_once(']').map_or(registry, |(h, _)| &registry[..h.len() + 1]);
    }
    registry.split(':').next().unwrap_or(registry)
}

fn check_registry(registry: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or("unclosed IPv6 bracket")?;
        ip.parse::<std::net::Ipv6Addr>().map_err(|_| format!("{ip:?} is not an IPv6 address"))?;
        (None, after.strip_prefix(':'))
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(host) = host {
        let ok = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !ok {
            return Err(format!("registry host {host:?} is not a host name"));
        }
    }
    if let Some(port) = port {
        port.parse::<u16>().map_err(|_| format!("registry port {port:?} is not a port"))?;
    }
    Ok(())
}

fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() || repository.len() > 255 {
        return Err("repository name is empty or too long".into());
    }
    for component in repository.split('/') {
        let bytes = component.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let ok = !bytes.is_empty()
            && alnum(bytes[0])
            && alnum(bytes[bytes.len() - 1])
            && bytes.iter().all(|&b| alnum(b) || b == b'.' || b == b'_' || b == b'-')
            && !component.contains("..")
            && !component.contains("___");
        if !ok {
            return Err(format!(
                "repository component {component:?} must be lowercase letters and digits \
                 separated by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("tag {tag:?} is not a valid tag"))
    }
}

/// Checks a `sha256:<64 lowercase hex>` digest (the only algorithm registries use).
pub fn check_digest(digest: &str) -> Result<(), String> {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Err(format!("digest {digest:?} is not sha256:<hex>"));
    };
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(format!("digest {digest:?} does not have 64 lowercase hex digits"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn docker_hub_defaults_and_library_prefix() {
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(r.registry(), DOCKER_HUB);
        assert_eq!(r.repository(), "library/alpine");
        assert_eq!(r.tag(), Some("latest"));
        let r = Reference::parse("docker.io/org/app:1.0").unwrap();
        assert_eq!((r.registry(), r.repository(), r.tag()), (DOCKER_HUB, "org/app", Some("1.0")));
    }

    #[test]
    fn ports_digests_and_ipv6() {
        let r = Reference::parse(&format!("127.0.0.1:5000/a/b:v1@{D}")).unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "a/b");
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.digest(), Some(D));
        assert_eq!(r.api_reference(), D);
        assert!(r.is_local_registry());
        let r = Reference::parse("[::1]:5000/repo:tag").unwrap();
        assert_eq!(r.registry(), "[::1]:5000");
        assert_eq!(r.tag(), Some("tag"));
        assert!(r.is_local_registry());
        let r = Reference::parse("localhost/repo").unwrap();
        assert_eq!(r.registry(), "localhost");
        assert!(!Reference::parse("ghcr.io/org/app").unwrap().is_local_registry());
        assert_eq!(r.to_string(), "localhost/repo:latest");
    }

    #[test]
    fn bad_references_name_the_problem() {
        for (text, why) in [
            ("Upper/Case", "lowercase"),
            ("repo:bad tag", "tag"),
            ("repo@sha256:abc", "64"),
            ("host:99999/repo", "port"),
            ("[::zz]:5/repo", "IPv6"),
            ("", "empty"),
        ] {
            let err = Reference::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
