//! `cosign login REGISTRY -u USER -p PASSWORD | --password-stdin`: stores credentials in
//! the docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, mode 0600).

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::exit::{self, Usage};
use crate::cli::output;
use crate::oci::auth;

/// Flags of `cosign login`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry host (`host[:port]`).
    registry: String,
    /// User name.
    #[arg(short = 'u', long)]
    username: String,
    /// Password (prefer --password-stdin).
    #[arg(short = 'p', long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long = "password-stdin")]
    password_stdin: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let password = match (args.password, args.password_stdin) {
        (Some(p), false) => p,
        (None, true) => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("reading the password")?;
            text.trim_end_matches(['\r', '\n']).to_string()
        }
        _ => return Err(Usage("give -p PASSWORD or --password-stdin".into()).into()),
    };
    let registry = args.registry.trim_start_matches("https://").trim_start_matches("http://");
    let registry = registry.split('/').next().unwrap_or(registry);
    let registry =
        if registry == "docker.io" { crate::oci::reference::DOCKER_HUB } else { registry };
    let dir = auth::docker_config_dir()
        .ok_or_else(|| Usage("neither DOCKER_CONFIG nor HOME is set".into()))?;
    let credentials = auth::Credentials { username: args.username, password };
    let path = auth::store(&dir, registry, &credentials)?;
    output::status(format!("logged in via {}", path.display()));
    Ok(exit::Code::Success.into())
}
