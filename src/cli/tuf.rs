//! `sigbox tuf-server` (an instance's TUF repository served on its own) and `sigbox tuf`
//! (operator commands: new keys, a new root signed by a threshold of root keys held in
//! files, e.g. offline).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use super::exit::Code;
use super::lifecycle::unix_now;
use super::output;
use crate::http::Handler;
use crate::tuf::repository::{self, Repository};

/// Flags of `sigbox tuf-server`.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3005")]
    listen: String,
    /// A `sigbox up` data directory: its `trusted_root.json` and `signing_config.json` are
    /// published; the repository lives in its `tuf/`.
    #[arg(long)]
    data_dir: PathBuf,
    #[command(flatten)]
    limits: super::lifecycle::LimitArgs,
    #[command(flatten)]
    log: super::lifecycle::LogArgs,
}

/// Runs `sigbox tuf-server`.
pub fn serve(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let data_dir = args.data_dir.clone();
    super::fulcio_server::serve_until_signal(&args.listen, args.limits.limits(), None, move |_| {
        let repository = crate::up::publish_trust_files(&data_dir, unix_now())
            .context("publishing the trust files")?;
        output::line(format!("TUF root: {}", repository.root_path().display()))?;
        let repository = Arc::new(repository);
        // Runs until the process ends with the server.
        drop(repository::spawn_refresher(repository.clone(), unix_now));
        Ok(Arc::new(repository::Server::new(&repository)) as Arc<dyn Handler>)
    })
}

/// Flags of `sigbox tuf`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Write a new P-256 key (PKCS#8 PEM, mode 0600) and print its TUF key ID.
    NewKey {
        /// Where to write it (never replaced).
        #[arg(long)]
        out: PathBuf,
    },
    /// Make and publish root v(N+1), signed with the given root keys (a threshold of the
    /// current root's keys and of the new root's keys must sign).
    SignRoot(SignRootArgs),
}

#[derive(Debug, clap::Args)]
struct SignRootArgs {
    /// The instance's data directory (the repository is in its `tuf/`).
    #[arg(long)]
    data_dir: PathBuf,
    /// A root private key file (PKCS#8 PEM); repeat for each signer.
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
    /// A key file whose public half becomes a root key.
    #[arg(long = "add-root-key")]
    add: Vec<PathBuf>,
    /// A TUF key ID to drop from the root role.
    #[arg(long = "remove-root-key")]
    remove: Vec<String>,
    /// The new root role threshold.
    #[arg(long)]
    threshold: Option<u64>,
}

/// Runs `sigbox tuf ...`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::NewKey { out } => {
            let signer = repository::new_key_file(&out)?;
            let key = repository::tuf_key(signer.as_ref());
            output::line(format!("{}  {}", crate::trust::tuf::key_id(&key), out.display()))?;
            Ok(Code::Success.into())
        }
        Command::SignRoot(args) => sign_root(args),
    }
}

fn sign_root(args: SignRootArgs) -> anyhow::Result<ExitCode> {
    let repo = Repository::open_or_create(&args.data_dir.join("tuf"), unix_now())?;
    let signers =
        args.keys.iter().map(|p| repository::read_key_file(p)).collect::<Result<Vec<_>, _>>()?;
    let added =
        args.add.iter().map(|p| repository::read_key_file(p)).collect::<Result<Vec<_>, _>>()?;
    let version = repo
        .sign_root(
            |root| {
                for signer in &added {
                    let key = repository::tuf_key(signer.as_ref());
                    let id = crate::trust::tuf::key_id(&key);
                    root.keys.insert(id.clone(), key);
                    if let Some(role) = root.roles.get_mut("root") {
                        if !role.keyids.contains(&id) {
                            role.keyids.push(id);
                        }
                    }
                }
                if let Some(role) = root.roles.get_mut("root") {
                    role.keyids.retain(|id| !args.remove.contains(id));
                    if let Some(t) = args.threshold {
                        role.threshold = t;
                    }
                }
                let used: Vec<String> =
                    root.roles.values().flat_map(|r| r.keyids.iter().cloned()).collect();
                root.keys.retain(|id, _| used.contains(id));
            },
            &signers,
            unix_now(),
        )
        .map_err(|e| match e {
            crate::tuf::Error::Check { .. } => anyhow::Error::new(super::exit::Rejected(format!(
                "the new root was not published: {:#}",
                anyhow::Error::new(e)
            ))),
            other => anyhow::Error::new(other),
        })?;
    output::line(format!("published root v{version}: {}", repo.root_path().display()))?;
    Ok(Code::Success.into())
}
