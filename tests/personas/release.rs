//! The release binary is statically linked and runs with an empty environment in an empty
//! directory (the air-gapped "download one file" case).
//!
//! `make test` builds it first and passes its path in `SIGBOX_RELEASE_BIN`; run alone, the
//! test builds it into a separate target directory.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::{Cmd, Sandbox};

fn release_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SIGBOX_RELEASE_BIN") {
        return PathBuf::from(path);
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let target_dir = PathBuf::from(root).join("target/static-test");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--target", "x86_64-unknown-linux-gnu"])
        .env("RUSTFLAGS", "-C target-feature=+crt-static -C relocation-model=static")
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(root)
        .status()
        .expect("running cargo build --release");
    assert!(status.success(), "release build failed");
    target_dir.join("x86_64-unknown-linux-gnu/release/sigbox")
}

#[test]
fn release_binary_is_static_and_runs_with_empty_environment() {
    let bin = release_binary();
    let file = Command::new("file").arg(&bin).output().expect("running file(1)");
    let description = String::from_utf8_lossy(&file.stdout);
    assert!(description.contains("statically linked"), "file(1) says: {description}");

    let sandbox = Sandbox::new();
    let copy = sandbox.join("sigbox");
    std::fs::copy(&bin, &copy).expect("copying the release binary");
    let run =
        Cmd::new("env").arg("-i").arg("./sigbox").arg("--version").cwd(sandbox.path()).succeeds();
    assert!(run.stdout().starts_with("sigbox "), "{}", run.stdout());
}
