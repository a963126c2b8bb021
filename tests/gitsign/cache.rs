//! The credential cache: one login for a 20-commit rebase, other users refused, keys
//! forgotten when the certificate expires.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{split_commit, Repo};
use crate::harness::sigbox_bin;
use crate::up::instance::Up;

/// A running `gitsign credential-cache`, killed on drop.
struct Daemon {
    child: Child,
    socket: PathBuf,
}

impl Daemon {
    fn start(socket: &Path, uid: Option<u32>) -> Daemon {
        let mut cmd = Command::new(sigbox_bin());
        cmd.args(["gitsign", "credential-cache", "--socket"])
            .arg(socket)
            .env_remove("GITSIGN_CREDENTIAL_CACHE")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(uid) = uid {
            cmd.uid(uid).gid(uid);
        }
        let child = cmd.spawn().expect("starting the credential cache");
        let daemon = Daemon { child, socket: socket.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(socket).is_err() {
            assert!(Instant::now() < deadline, "the credential cache never listened on {socket:?}");
            std::thread::yield_now();
        }
        daemon
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// The leaf certificate DER of every commit in `revs`.
fn leaves(repo: &Repo, revs: &[String]) -> Vec<Vec<u8>> {
    revs.iter()
        .map(|rev| {
            let (_, sig) = split_commit(&repo.cat("commit", rev));
            let sig =
                sigbox::git::verify::Signature::from_armored(sig.as_bytes()).expect("signature");
            sig.leaf().expect("leaf").der().to_vec()
        })
        .collect()
}

#[test]
fn twenty_commit_rebase_with_gpgsign_logs_in_once_through_the_cache() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let mut repo = Repo::for_up(&up);
    for i in 0..20 {
        std::fs::write(repo.dir.join("n.txt"), format!("{i}\n")).expect("write");
        repo.git(&["add", "n.txt"]).succeeds();
        repo.git(&["commit", "-q", "-m", &format!("commit {i}")]).succeeds();
    }
    // Without the cache every signature is a login and a new certificate.
    repo.git(&["commit", "-S", "-q", "--allow-empty", "-m", "uncached 1"]).succeeds();
    repo.git(&["commit", "-S", "-q", "--allow-empty", "-m", "uncached 2"]).succeeds();
    let uncached = leaves(&repo, &[repo.rev("HEAD"), repo.rev("HEAD~1")]);
    assert_ne!(uncached[0], uncached[1], "two logins give two certificates");
    repo.git(&["reset", "-q", "--hard", "HEAD~2"]).succeeds();

    let socket = repo.sb.join("cache.sock");
    let _daemon = Daemon::start(&socket, None);
    let mode = std::fs::metadata(&socket)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777);
    assert_eq!(mode.expect("socket metadata"), 0o600);
    repo.env.push(("GITSIGN_CREDENTIAL_CACHE".into(), socket.display().to_string()));
    repo.git(&["config", "commit.gpgsign", "true"]).succeeds();
    repo.git(&["rebase", "-q", "--force-rebase", "--root", "--exec", "true"]).succeeds();
    let revs: Vec<String> =
        repo.git(&["log", "--format=%H"]).succeeds().stdout().lines().map(str::to_string).collect();
    assert_eq!(revs.len(), 20);
    for rev in &revs {
        assert_eq!(repo.g(rev), "G", "{rev} is signed and verifies");
    }
    let mut distinct = leaves(&repo, &revs);
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 1, "20 signatures, one certificate: one login");
}

#[test]
fn the_cache_refuses_another_users_connection() {
    assert!(
        current_uid() == 0,
        "this test starts the cache as another user (uid 65534) and needs to run as root"
    );
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let mut repo = Repo::for_up(&up);
    let dir = repo.sb.join("nobody");
    std::fs::create_dir(&dir).expect("mkdir");
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown");
    let mut perms = std::fs::metadata(repo.sb.path()).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(repo.sb.path(), perms).expect("chmod");
    let socket = dir.join("cache.sock");
    let _daemon = Daemon::start(&socket, Some(65534));
    repo.env.push(("GITSIGN_CREDENTIAL_CACHE".into(), socket.display().to_string()));
    let payload = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
                   author A <a@b.c> 1700000000 +0000\ncommitter A <a@b.c> 1700000000 +0000\n\nm\n";
    // The daemon checks its peer: a raw request from root gets the refusal.
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect as root");
    std::io::Write::write_all(&mut stream, b"{\"op\":\"get\",\"id\":\"x\"}\n").expect("write");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("read");
    assert!(answer.contains("connection from another user refused"), "{answer}");
    assert!(!answer.contains("\"key\""), "{answer}");
    // gitsign checks the daemon too: it will not hand a key to another user's daemon, and
    // signs with a fresh login instead.
    repo.gitsign(&["--status-fd=2", "-bsau", "A"])
        .stdin(payload)
        .succeeds()
        .stderr_has("runs as uid 65534, not as this user");
}

fn current_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("uid")
}

#[test]
fn the_cache_forgets_a_key_when_its_certificate_expires() {
    use sigbox::crypto::{EcdsaP256Signer, Signer as _};
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("cache.sock");
    let _daemon = Daemon::start(&socket, None);
    let signer = EcdsaP256Signer::generate();
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let lifetime = sigbox::git::cache::MIN_REMAINING_SECONDS + 3;
    let cert = sigbox::x509::build_ca_certificate(
        "CN=short-lived",
        signer.public_key(),
        None,
        &signer,
        &[1],
        now - 5,
        now + lifetime,
        None,
    )
    .expect("certificate");
    let client = sigbox::git::cache::Client::new(&socket);
    let certified = sigbox::sign::keyless::Certified {
        signer,
        certificate: cert.clone(),
        chain: vec![cert.clone()],
    };
    client.store("instance", &certified).expect("store");
    let held = client.get("instance").expect("get").expect("held while the certificate lives");
    assert_eq!(held.certificate.der(), cert.der());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if client.get("instance").expect("get").is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "the cache still hands out an expiring key");
        std::thread::sleep(Duration::from_millis(100));
    }
    #[allow(clippy::disallowed_methods)]
    let forgotten_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(forgotten_at >= now + 3 - 1, "forgotten too early: {forgotten_at} vs {now}");
}
