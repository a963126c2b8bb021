//! Secrets never reach a log: with every sigbox process at `trace` level (`SIGBOX_LOG`, and
//! `RUST_LOG` as well), a keyless signing with an identity token, a key pair generated,
//! imported and used with a password, and a gitsign commit, the logs of the instance and
//! of every client contain none of the secrets used: the token (whole, or its claims or
//! signature part), the password, the private key files' contents.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::gitsign::Repo;
use crate::harness::process::Process;
use crate::harness::{Cmd, Sandbox};

const PASSWORD: &str = "correct-horse-battery-5e1f";

/// `sigbox up` with every log level on; its stderr is kept in the sandbox.
fn start_up(sb: &Sandbox) -> (Process, PathBuf, String) {
    let data = sb.join("state");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigbox"));
    command.arg("up").arg("--data-dir").arg(&data);
    for flag in ["--fulcio-port", "--rekor-port", "--oidc-port", "--rekor-v2-port", "--tsa-port"] {
        command.args([flag, "0"]);
    }
    command.env("SIGBOX_LOG", "trace").env("RUST_LOG", "trace");
    let mut process = Process::spawn(command, Some(sb.join("up.log")));
    let lines = process.wait_for(|line| line.trim() == "ready");
    let oidc = lines
        .iter()
        .find(|l| l.trim_start().starts_with("OIDC issuer"))
        .and_then(|l| l.split_whitespace().last())
        .expect("the issuer URL")
        .to_string();
    (process, data.join("trust_config.json"), oidc)
}

fn traced(cmd: Cmd, trust: &Path) -> Cmd {
    cmd.env("SIGBOX_LOG", "trace").env("RUST_LOG", "trace").env("SIGBOX_TRUST_CONFIG", trust)
}

/// The base64 lines of a PEM file's body (each long enough to be unmistakable).
fn pem_body_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 24)
        .map(str::to_string)
        .collect()
}

#[test]
fn no_log_at_trace_level_contains_a_token_password_or_private_key() {
    let sb = Sandbox::new();
    let (up, trust, oidc) = start_up(&sb);
    let cosign = sb.link("cosign");
    let mut logs: Vec<(String, String)> = Vec::new();
    sb.write("a.txt", "artifact\n");

    let token = Cmd::new(env!("CARGO_BIN_EXE_sigbox"))
        .args(["token", "--issuer", &oidc, "--email", "secret-test@example.com"])
        .succeeds()
        .stdout()
        .trim()
        .to_string();
    let run = traced(Cmd::new(&cosign), &trust)
        .cwd(sb.path())
        .args(["sign-blob", "--identity-token", &token, "--bundle", "a.keyless.json", "a.txt"])
        .succeeds();
    logs.push(("cosign sign-blob (keyless)".into(), run.stderr()));
    let run = traced(Cmd::new(&cosign), &trust)
        .cwd(sb.path())
        .env("SIGSTORE_ID_TOKEN", &token)
        .args(["sign-blob", "--bundle", "a.env.json", "a.txt"])
        .succeeds();
    logs.push(("cosign sign-blob (token from the environment)".into(), run.stderr()));

    let run = traced(Cmd::new(&cosign), &trust)
        .cwd(sb.path())
        .env("COSIGN_PASSWORD", PASSWORD)
        .arg("generate-key-pair")
        .succeeds();
    logs.push(("cosign generate-key-pair".into(), run.stderr()));
    let run = traced(Cmd::new(&cosign), &trust)
        .cwd(sb.path())
        .env("COSIGN_PASSWORD", PASSWORD)
        .args(["sign-blob", "--key", "cosign.key", "--bundle", "a.key.json", "a.txt"])
        .succeeds();
    logs.push(("cosign sign-blob --key".into(), run.stderr()));
    // A wrong password fails, and its error does not echo the password tried either.
    let run = traced(Cmd::new(&cosign), &trust)
        .cwd(sb.path())
        .env("COSIGN_PASSWORD", format!("{PASSWORD}-wrong"))
        .args(["sign-blob", "--key", "cosign.key", "--bundle", "a.bad.json", "a.txt"])
        .run();
    logs.push(("cosign sign-blob with a wrong password".into(), run.stderr()));

    let pkcs8 = sb.join("plain.pem");
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
        .arg(&pkcs8)
        .status()
        .expect("openssl (Debian package openssl) is needed");
    assert!(made.success());
    let run = traced(Cmd::new(&cosign), &trust)
        .cwd(sb.path())
        .env("COSIGN_PASSWORD", PASSWORD)
        .args(["import-key-pair", "--key", "plain.pem", "--output-key-prefix", "imported"])
        .succeeds();
    logs.push(("cosign import-key-pair".into(), run.stderr()));

    // gitsign: git swallows the signer's stderr on success, so its own log file is read.
    let mut repo = Repo::new(Some(&trust));
    let gitsign_log = sb.join("gitsign.log");
    repo.env.push(("SIGBOX_LOG".into(), "trace".into()));
    repo.env.push(("GITSIGN_LOG".into(), gitsign_log.display().to_string()));
    repo.commit("f.txt", "signed\n", "a signed commit");
    let run = repo.gitsign(&["verify", "HEAD"]).env("SIGBOX_LOG", "trace").run();
    logs.push(("gitsign verify".into(), run.stderr()));
    logs.push((
        "gitsign log file".into(),
        std::fs::read_to_string(&gitsign_log).unwrap_or_default(),
    ));

    logs.push(("sigbox up".into(), up.log()));
    // The logs are not empty: trace level was on, so a clean result means something.
    let up_log = &logs.last().unwrap().1;
    assert!(up_log.contains("TRACE") || up_log.contains("DEBUG"), "trace logging was not on");

    let mut secrets: Vec<(&str, String)> = vec![
        ("identity token", token.clone()),
        ("password", PASSWORD.to_string()),
        ("the phrase PRIVATE KEY", "PRIVATE KEY".to_string()),
    ];
    let mut parts = token.split('.');
    let _header = parts.next();
    secrets.push(("token claims", parts.next().unwrap_or_default().to_string()));
    secrets.push(("token signature", parts.next().unwrap_or_default().to_string()));
    for line in pem_body_lines(&sb.join("cosign.key")) {
        secrets.push(("cosign.key contents", line));
    }
    for line in pem_body_lines(&pkcs8) {
        secrets.push(("imported PKCS#8 key", line));
    }
    for line in pem_body_lines(&sb.join("imported.key")) {
        secrets.push(("imported.key contents", line));
    }
    for (what, log) in &logs {
        for (secret_name, secret) in &secrets {
            assert!(!secret.is_empty(), "{secret_name} is empty");
            assert!(
                !log.contains(secret.as_str()),
                "the log of {what} contains the {secret_name}:\n{log}"
            );
        }
    }
    eprintln!(
        "secrets test: {} logs ({} bytes) checked for {} secrets",
        logs.len(),
        logs.iter().map(|(_, l)| l.len()).sum::<usize>(),
        secrets.len()
    );
}
