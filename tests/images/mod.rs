//! Container images end to end: `cosign sign / verify / attest / verify-attestation` and
//! friends against a real `docker-registry` started by the test, images pushed with
//! `skopeo`, keyless signing against a real `sigbox up`.

mod access;
mod airgap;
mod layouts;
pub(crate) mod registry;
mod sign_verify;

use crate::harness::{Cmd, Sandbox};
// `sigbox up` for keyless signing: the same helper the `up` tests use.
pub(crate) use crate::up::instance;
use instance::Up;

/// The identity `sigbox up`'s test issuer signs for when nobody asks.
pub const IDENTITY: &str = "test-user@sigbox.local";
/// The key password the tests use.
pub const PASSWORD: &str = "image-test-password";

/// `sigbox cosign …` bound to `up`'s instance, with a docker config of its own.
pub fn cosign(sb: &Sandbox, up: Option<&Up>) -> Cmd {
    let docker = sb.join("docker-config");
    let mut cmd = sb.cosign().env("DOCKER_CONFIG", &docker).env("COSIGN_PASSWORD", PASSWORD);
    if let Some(up) = up {
        cmd = cmd.env("SIGBOX_TRUST_CONFIG", up.trust_config());
    }
    cmd
}

/// Generates `cosign.key`/`cosign.pub` (prefix `name`) in the sandbox.
pub fn key_pair(sb: &Sandbox, name: &str) {
    cosign(sb, None).args(["generate-key-pair", "--output-key-prefix", name]).succeeds();
}

/// Keyless verify flags for `up`'s default identity.
pub fn identity_flags(up: &Up, identity: &str) -> Vec<String> {
    vec![
        "--certificate-identity".into(),
        identity.into(),
        "--certificate-oidc-issuer".into(),
        up.oidc_url.clone(),
    ]
}
