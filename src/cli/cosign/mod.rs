//! The `cosign` persona: cosign's subcommands and flag spellings, translated to the same
//! core calls the native `sigbox` commands use. One file per subcommand.

mod attest;
mod attest_blob;
mod clean;
mod copy;
mod download;
mod flags;
mod generate_key_pair;
mod identity_flags;
pub(crate) mod image_flags;
mod import_key_pair;
mod initialize;
mod login;
mod public_key;
mod save;
mod sign;
mod sign_blob;
mod tree;
mod triangulate;
mod verify;
mod verify_attestation;
mod verify_blob;
mod verify_blob_attestation;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::exit;

/// cosign's command line.
#[derive(Debug, Parser)]
#[command(name = "cosign", version, about = "cosign-compatible signing and verification (sigbox)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Attest to an image: an in-toto statement in DSSE, stored beside it.
    Attest(attest::Args),
    /// Attest to a file: an in-toto statement in a DSSE envelope (keyless).
    AttestBlob(attest_blob::Args),
    /// Delete an image's signatures and attestations.
    Clean(clean::Args),
    /// Copy an image with its signatures and attestations.
    Copy(copy::Args),
    /// Print an image's stored signatures or attestations.
    Download(download::Args),
    /// Generate an encrypted key pair (cosign.key, cosign.pub).
    GenerateKeyPair(generate_key_pair::Args),
    /// Import a PEM private key into cosign's encrypted format.
    ImportKeyPair(import_key_pair::Args),
    /// Trust a TUF mirror (its root.json) and fetch its trusted root and signing config.
    Initialize(initialize::Args),
    /// Load an image and its signatures from an OCI layout into a registry.
    Load(save::LoadArgs),
    /// Store registry credentials in the docker config.
    Login(login::Args),
    /// Print the public key of a key file.
    PublicKey(public_key::Args),
    /// Save an image and its signatures to an OCI layout directory.
    Save(save::SaveArgs),
    /// Sign container images.
    Sign(sign::Args),
    /// Sign a blob (file).
    SignBlob(sign_blob::Args),
    /// Show an image's signatures, attestations and referrers.
    Tree(tree::Args),
    /// Print where an image's signatures are stored.
    Triangulate(triangulate::Args),
    /// Verify container image signatures.
    Verify(verify::Args),
    /// Verify container image attestations.
    VerifyAttestation(verify_attestation::Args),
    /// Verify a blob against a Sigstore bundle.
    VerifyBlob(verify_blob::Args),
    /// Verify an in-toto attestation (DSSE bundle) about a blob.
    VerifyBlobAttestation(verify_blob_attestation::Args),
    /// Print version information.
    Version,
}

/// Runs `cosign ARGS...`.
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = Cli::try_parse_from(args)?;
    match cli.command {
        Command::Attest(args) => attest::run(args),
        Command::AttestBlob(args) => attest_blob::run(args),
        Command::Clean(args) => clean::run(args),
        Command::Copy(args) => copy::run(args),
        Command::Download(args) => download::run(args),
        Command::GenerateKeyPair(args) => generate_key_pair::run(args),
        Command::ImportKeyPair(args) => import_key_pair::run(args),
        Command::Initialize(args) => initialize::run(args),
        Command::Load(args) => save::load(args),
        Command::Login(args) => login::run(args),
        Command::PublicKey(args) => public_key::run(args),
        Command::Save(args) => save::save(args),
        Command::Sign(args) => sign::run(args),
        Command::SignBlob(args) => sign_blob::run(args),
        Command::Tree(args) => tree::run(args),
        Command::Triangulate(args) => triangulate::run(args),
        Command::Verify(args) => verify::run(args),
        Command::VerifyAttestation(args) => verify_attestation::run(args),
        Command::VerifyBlob(args) => verify_blob::run(args),
        Command::VerifyBlobAttestation(args) => verify_blob_attestation::run(args),
        Command::Version => {
            super::output::line(format!("sigbox {} (cosign persona)", env!("CARGO_PKG_VERSION")))?;
            Ok(exit::Code::Success.into())
        }
    }
}
