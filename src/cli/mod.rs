//! The edge: logging, persona dispatch, errors to exit codes, broken pipes.
//!
//! This is the only module that uses clap, anyhow, tracing-subscriber and indicatif, and the
//! only one that decides how the process exits. Each persona's front end turns argv into
//! plain arguments, resolves them into a core configuration, calls one core function and
//! shows the result through [`output`].

pub mod cosign;
pub mod dispatch;
pub mod exit;
pub mod fulcio_server;
pub mod gitsign;
pub mod humbly;
pub mod install_links;
pub mod instance;
pub(crate) mod keyless;
mod lifecycle;
pub mod log;
pub mod oidc_server;
pub mod output;
mod password;
pub mod rekor;
pub mod rekor_server;
pub mod sigbox;
pub mod sign;
pub mod sign_request;
pub mod token;
pub mod trust;
pub mod tsa_server;
pub mod tuf;
pub mod up;
pub mod verify;

use std::ffi::OsString;
use std::process::ExitCode;

use dispatch::Persona;
use exit::Code;

/// Runs the process: picks the persona from argv[0] (or, for `sigbox`, from the first
/// argument), runs it, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    init_logging(lifecycle::log_format_from_args(&args));
    let argv0 = args.first().cloned().unwrap_or_else(|| OsString::from("sigbox"));
    let Some(mut persona) = dispatch::persona_for_program(&argv0) else {
        eprintln!(
            "sigbox: unknown program name {:?}; known names:\n{}",
            argv0,
            dispatch::list_text()
        );
        return Code::Error.into();
    };
    if persona.name == "sigbox" {
        if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
            let alias = if first == "git-sign" { "gitsign" } else { first };
            if let Some(p) = dispatch::persona_named(alias).filter(|p| p.name != "sigbox") {
                persona = p;
                args.remove(0);
            }
        }
    }
    let result = run_persona(persona, args);
    finish(persona, result)
}

fn run_persona(persona: &Persona, args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    match persona.name {
        "sigbox" => sigbox::run(args),
        "cosign" => cosign::run(args),
        "fulcio-server" => fulcio_server::run(args),
        "rekor-server" => rekor_server::run(args),
        "tsa-server" => tsa_server::run(args),
        "gitsign" => gitsign::run(args),
        "gitsign-credential-cache" => gitsign::cache::run(args),
        "humbly" => humbly::run(args),
        other => Err(anyhow::Error::new(exit::Usage(format!(
            "{other}: not implemented yet in this build of sigbox"
        )))),
    }
}

/// Prints the whole error chain once and picks the exit code; a broken pipe on stdout is a
/// quiet success (`sigbox ... | head`).
fn finish(persona: &Persona, result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            let broken_pipe = err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return Code::Success.into();
            }
            // clap errors print themselves with their own exit code (help, version: 0).
            if let Some(clap_err) = err.downcast_ref::<clap::Error>() {
                let _ = clap_err.print();
                return match clap_err.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                        Code::Success.into()
                    }
                    _ if persona.name == "cosign" => Code::Rejected.into(),
                    _ => Code::Error.into(),
                };
            }
            eprintln!("{}: error: {err:#}", persona.name);
            let code = exit::code_for(&err);
            if persona.name == "cosign" && code != Code::Success {
                // compat(cosign): cosign exits 1 for every failure.
                return Code::Rejected.into();
            }
            code.into()
        }
    }
}

/// Installs the one tracing subscriber: stderr, level from `SIGBOX_LOG` (else the usual
/// `RUST_LOG`; default `warn`), text or JSON lines (`--log-format`, `SIGBOX_LOG_FORMAT`).
fn init_logging(format: lifecycle::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGBOX_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_env("RUST_LOG"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        lifecycle::LogFormat::Json => builder.json().try_init(),
        lifecycle::LogFormat::Text => builder.try_init(),
    };
}
