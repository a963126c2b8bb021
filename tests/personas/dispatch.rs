//! Every persona answers through a real symlink and through `sigbox <persona>`.

use crate::harness::{Cmd, Sandbox};

/// Personas that are built, with a command that must succeed and what it prints.
const BUILT: &[(&str, &[&str], &str)] = &[
    ("sigbox", &["--version"], "sigbox"),
    ("cosign", &["version"], "cosign persona"),
    ("fulcio-server", &["--help"], "--data-dir"),
    ("rekor-server", &["--help"], "--data-dir"),
    ("tsa-server", &["--help"], "--policy-oid"),
    ("gitsign", &["version"], "gitsign (sigbox)"),
    ("gitsign-credential-cache", &["--help"], "--socket"),
    ("humbly", &["--help"], "verify"),
];

/// Personas not built yet: they must say so and exit 2, never pretend.
const NOT_BUILT: &[&str] = &[];

#[test]
fn every_persona_answers_through_a_symlink_and_a_subcommand() {
    let sandbox = Sandbox::new();
    for (name, args, expect) in BUILT {
        let link = sandbox.link(name);
        Cmd::new(&link).args(*args).succeeds().stdout_has(expect);
        if *name != "sigbox" {
            sandbox.sigbox().arg(name).args(*args).succeeds().stdout_has(expect);
            let prefixed = sandbox.link(&format!("sigbox-{name}"));
            Cmd::new(&prefixed).args(*args).succeeds().stdout_has(expect);
        }
    }
    for name in NOT_BUILT {
        let link = sandbox.link(name);
        Cmd::new(&link).arg("--help").fails_with(2).stderr_has("not implemented yet");
        sandbox.sigbox().arg(name).fails_with(2).stderr_has("not implemented yet");
    }
}

#[test]
fn list_names_every_persona() {
    let run = Sandbox::new().sigbox().arg("--list").succeeds();
    for name in ["sigbox", "cosign", "gitsign", "humbly", "fulcio-server", "rekor-server"] {
        assert!(run.stdout().lines().any(|l| l.starts_with(name)), "--list lacks {name}");
    }
}

#[test]
fn unknown_program_name_lists_known_ones_and_exits_2() {
    let sandbox = Sandbox::new();
    let link = sandbox.link("cosine");
    Cmd::new(&link).arg("--help").fails_with(2).stderr_has("known names").stderr_has("gitsign");
}

#[test]
fn install_links_creates_working_links() {
    let sandbox = Sandbox::new();
    let dir = sandbox.join("bin");
    let run = sandbox.sigbox().arg("install-links").arg(&dir).succeeds();
    let personas = sandbox.sigbox().arg("--list").succeeds().stdout().lines().count();
    // One link per persona, `sigbox` itself included (README's quick start needs it on PATH).
    assert_eq!(run.stdout().lines().count(), personas, "{}", run.stdout());
    Cmd::new(dir.join("cosign")).arg("version").succeeds().stdout_has("cosign persona");
    Cmd::new(dir.join("sigbox")).arg("--version").succeeds().stdout_has("sigbox");
    // Running it again replaces the links instead of failing.
    sandbox.sigbox().arg("install-links").arg(&dir).succeeds();
}

#[test]
fn unknown_cosign_flag_is_an_error_not_ignored() {
    let sandbox = Sandbox::new();
    sandbox.write("a.txt", "a");
    sandbox
        .cosign()
        .args(["sign-blob", "--no-such-flag", "a.txt"])
        .fails_with(1)
        .stderr_has("--no-such-flag");
}

#[test]
fn completions_are_printed_for_each_shell() {
    let sandbox = Sandbox::new();
    let bash = sandbox.sigbox().args(["completions", "bash"]).succeeds();
    bash.stdout_has("_sigbox()").stdout_has("install-links");
    sandbox.sigbox().args(["completions", "zsh"]).succeeds().stdout_has("#compdef sigbox");
    sandbox.sigbox().args(["completions", "fish"]).succeeds().stdout_has("complete -c sigbox");
    sandbox.sigbox().args(["completions", "tcsh"]).fails_with(2).stderr_has("tcsh");
}
