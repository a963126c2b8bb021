//! Signing config v0.2 (PROTOCOLS §2.2): which CA, OIDC issuer, logs and TSAs a signer uses,
//! and the selection rules that pick them at a given time.

use crate::trust::{parse_time, wire, Error, Result};

/// Media type of signing config v0.2.
pub const SIGNING_CONFIG_V02: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// A checked signing config: the wire model with a known media type.
#[derive(Debug, Clone)]
pub struct SigningConfig {
    wire: wire::SigningConfig,
}

/// How many of a service list to use (`rekorTlogConfig`, `tsaConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// One per operator, all operators.
    All,
    /// Any one.
    Any,
    /// Exactly this many (one per operator).
    Exact(u32),
}

impl SigningConfig {
    /// Parses signing config v0.2 JSON.
    ///
    /// Errors: [`Error::Json`], [`Error::MediaType`].
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let wire: wire::SigningConfig = serde_json::from_slice(bytes).map_err(Error::Json)?;
        SigningConfig::try_from(wire)
    }

    /// The wire form (for writing it back out).
    pub fn wire(&self) -> &wire::SigningConfig {
        &self.wire
    }

    /// The CA to use at `now`: valid, highest supported `majorApiVersion`, newest start.
    pub fn select_ca(&self, now: i64, versions: &[u32]) -> Option<&wire::Service> {
        select(&self.wire.ca_urls, now, versions).into_iter().next()
    }

    /// The OIDC issuer to use at `now`.
    pub fn select_oidc(&self, now: i64, versions: &[u32]) -> Option<&wire::Service> {
        select(&self.wire.oidc_urls, now, versions).into_iter().next()
    }

    /// The Rekor logs to write to at `now`, per `rekorTlogConfig`.
    ///
    /// Errors: [`Error::TooFewServices`] when the selector cannot be met.
    pub fn select_tlogs(&self, now: i64, versions: &[u32]) -> Result<Vec<&wire::Service>> {
        let selector = selector(self.wire.rekor_tlog_config.as_ref());
        apply_selector("rekorTlogUrls", select(&self.wire.rekor_tlog_urls, now, versions), selector)
    }

    /// The TSAs to use at `now`, per `tsaConfig`; empty when none are listed.
    ///
    /// Errors: [`Error::TooFewServices`] when the selector cannot be met.
    pub fn select_tsas(&self, now: i64, versions: &[u32]) -> Result<Vec<&wire::Service>> {
        let candidates = select(&self.wire.tsa_urls, now, versions);
        if self.wire.tsa_urls.is_empty() {
            return Ok(candidates);
        }
        apply_selector("tsaUrls", candidates, selector(self.wire.tsa_config.as_ref()))
    }
}

impl TryFrom<wire::SigningConfig> for SigningConfig {
    type Error = Error;

    fn try_from(wire: wire::SigningConfig) -> Result<Self> {
        if wire.media_type != SIGNING_CONFIG_V02 {
            return Err(Error::MediaType(wire.media_type));
        }
        Ok(SigningConfig { wire })
    }
}

/// Steps 1–3 of the selection rule: valid now, only the highest supported major version,
/// newest `validFor.start` first, at most one per operator.
fn select<'a>(services: &'a [wire::Service], now: i64, versions: &[u32]) -> Vec<&'a wire::Service> {
    let valid: Vec<&wire::Service> = services
        .iter()
        .filter(|s| versions.contains(&s.major_api_version) && service_valid_at(s, now))
        .collect();
    let Some(best) = valid.iter().map(|s| s.major_api_version).max() else {
        return Vec::new();
    };
    let mut chosen: Vec<&wire::Service> =
        valid.into_iter().filter(|s| s.major_api_version == best).collect();
    chosen.sort_by_key(|s| std::cmp::Reverse(service_start(s)));
    let mut operators: Vec<&str> = Vec::new();
    chosen.retain(|s| {
        if s.operator.is_empty() {
            return true;
        }
        if operators.contains(&s.operator.as_str()) {
            return false;
        }
        operators.push(&s.operator);
        true
    });
    chosen
}

fn apply_selector<'a>(
    list: &'static str,
    candidates: Vec<&'a wire::Service>,
    selector: Selector,
) -> Result<Vec<&'a wire::Service>> {
    let want = match selector {
        Selector::All => return non_empty(list, candidates),
        Selector::Any => 1,
        Selector::Exact(n) => usize::try_from(n).unwrap_or(usize::MAX),
    };
    if candidates.len() < want {
        return Err(Error::TooFewServices { list, got: candidates.len(), want });
    }
    Ok(candidates.into_iter().take(want).collect())
}

fn non_empty<'a>(
    list: &'static str,
    candidates: Vec<&'a wire::Service>,
) -> Result<Vec<&'a wire::Service>> {
    if candidates.is_empty() {
        return Err(Error::TooFewServices { list, got: 0, want: 1 });
    }
    Ok(candidates)
}

fn selector(config: Option<&wire::ServiceConfiguration>) -> Selector {
    match config.map(|c| (c.selector.as_str(), c.count)) {
        Some(("ALL", _)) => Selector::All,
        Some(("EXACT", n)) => Selector::Exact(n),
        _ => Selector::Any,
    }
}

fn service_start(service: &wire::Service) -> i64 {
    service
        .valid_for
        .as_ref()
        .and_then(|r| r.start.as_deref())
        .and_then(parse_time)
        .unwrap_or(i64::MIN)
}

fn service_valid_at(service: &wire::Service, now: i64) -> bool {
    let Some(range) = &service.valid_for else { return true };
    let start_ok = range.start.as_deref().and_then(parse_time).map_or(true, |s| s <= now);
    let end_ok = range.end.as_deref().and_then(parse_time).map_or(true, |e| now <= e);
    start_ok && end_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_GOOD: &str = include_str!("../../fixtures/trust/signing_config.v0.2.json");

    #[test]
    fn public_good_config_selects_one_ca_and_one_log() {
        let config = SigningConfig::from_json(PUBLIC_GOOD.as_bytes()).unwrap();
        let now = 1_760_000_000; // 2025-10
        let ca = config.select_ca(now, &[1]).unwrap();
        assert_eq!(ca.url, "https://fulcio.sigstore.dev");
        let logs = config.select_tlogs(now, &[1]).unwrap();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs.first().unwrap().url, "https://rekor.sigstore.dev");
    }

    #[test]
    fn exact_selector_with_too_few_logs_is_rejected() {
        let mut wire: wire::SigningConfig = serde_json::from_str(PUBLIC_GOOD).unwrap();
        wire.rekor_tlog_config =
            Some(wire::ServiceConfiguration { selector: "EXACT".into(), count: 3 });
        let config = SigningConfig::try_from(wire).unwrap();
        assert!(matches!(
            config.select_tlogs(1_760_000_000, &[1]),
            Err(Error::TooFewServices { want: 3, .. })
        ));
    }
}
