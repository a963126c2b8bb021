//! `sigbox token`: asks a sigbox test issuer for an ID token and prints it.

use std::process::ExitCode;

use anyhow::Context;

use super::{exit, output};
use crate::test_issuer::client::{request_token, TokenSubject};

/// Flags of `sigbox token`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["email", "subject"])))]
pub struct Args {
    /// The test issuer's URL (as `sigbox oidc-server` printed it).
    #[arg(long)]
    issuer: String,
    /// Mint a token for this email (marked verified).
    #[arg(long)]
    email: Option<String>,
    /// Mint a token for this subject, without an email.
    #[arg(long)]
    subject: Option<String>,
}

/// Runs `sigbox token`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let who = match (args.email, args.subject) {
        (Some(email), None) => TokenSubject::Email(email),
        (None, Some(subject)) => TokenSubject::Subject(subject),
        _ => return Err(exit::Usage("give exactly one of --email and --subject".into()).into()),
    };
    let token = request_token(&args.issuer, &who)
        .with_context(|| format!("getting a token from {}", args.issuer))?;
    output::line(token.as_str())?;
    Ok(exit::Code::Success.into())
}
