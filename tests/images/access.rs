//! Registry access: basic auth (htpasswd) with credentials from `cosign login`, a docker
//! `config.json` and a credential helper; HTTPS with a test CA; nothing written when
//! signing fails.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::instance::Up;
use super::registry::{self, Registry, Setup};
use super::{cosign, key_pair};
use crate::harness::Sandbox;

fn htpasswd(sb: &Sandbox) -> std::path::PathBuf {
    registry::require("htpasswd", "apache2-utils");
    let out = Command::new("htpasswd").args(["-Bbn", "user", "s3cret"]).output().expect("htpasswd");
    assert!(out.status.success());
    sb.write("htpasswd", out.stdout)
}

#[test]
fn basic_auth_with_login_config_json_and_credential_helper() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start_with(
        &sb.join("registry"),
        &Setup { htpasswd: Some(htpasswd(&sb)), ..Setup::default() },
    );
    let layout = registry::build_layout(sb.path(), "private", &[]);
    registry::push(&layout, &reg.image("private", "v1"), &["--dest-creds", "user:s3cret"]);
    let image = format!("{}/private@{}", reg.host, registry::layout_digest(&layout));
    key_pair(&sb, "k");

    // Anonymous: refused, naming the registry and what to do.
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub"])
        .arg(&image)
        .fails_with(1)
        .stderr_has("cosign login");

    // A failed signature (wrong key password) writes nothing to the registry.
    cosign(&sb, Some(&up))
        .env("COSIGN_PASSWORD", "wrong")
        .args(["sign", "--key", "k.key", "-y", "--registry-username", "user"])
        .args(["--registry-password", "s3cret"])
        .arg(&image)
        .fails_with(1);
    let sig_tag = format!("{}.sig", registry::layout_digest(&layout).replace(':', "-"));
    let tags = Command::new("skopeo")
        .args(["list-tags", "--tls-verify=false", "--creds", "user:s3cret"])
        .arg(format!("docker://{}/private", reg.host))
        .output()
        .expect("skopeo list-tags");
    assert!(tags.status.success(), "{}", String::from_utf8_lossy(&tags.stderr));
    assert!(!String::from_utf8_lossy(&tags.stdout).contains(&sig_tag), "nothing written");

    // `cosign login` stores the credentials (0600); sign and verify then work.
    cosign(&sb, None)
        .args(["login", &reg.host, "-u", "user", "--password-stdin"])
        .stdin("s3cret\n")
        .succeeds();
    let config = sb.join("docker-config/config.json");
    let mode = std::fs::metadata(&config).expect("config.json").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    cosign(&sb, Some(&up)).args(["sign", "--key", "k.key", "-y"]).arg(&image).succeeds();
    cosign(&sb, Some(&up)).args(["verify", "--key", "k.pub"]).arg(&image).succeeds();

    // A credential helper named in credHelpers is asked (and its answer used).
    let helper_config = sb.join("helper-config");
    std::fs::create_dir_all(&helper_config).expect("dir");
    std::fs::write(
        helper_config.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"test"}}}}"#, reg.host),
    )
    .expect("config");
    let bin = sb.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let script = bin.join("docker-credential-test");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nread server\necho \"$server\" >> {}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"user\",\"Secret\":\"s3cret\"}}' \"$server\"\n",
            sb.join("helper.log").display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    cosign(&sb, Some(&up))
        .env("DOCKER_CONFIG", &helper_config)
        .env("PATH", path)
        .args(["verify", "--key", "k.pub"])
        .arg(&image)
        .succeeds();
    let log = std::fs::read_to_string(sb.join("helper.log")).expect("helper was run");
    assert_eq!(log.trim(), reg.host);
}

#[test]
fn https_registry_with_a_test_ca() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    registry::require("openssl", "openssl");
    let openssl = |args: &[&str]| {
        let out =
            Command::new("openssl").args(args).current_dir(sb.path()).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "1",
                "-subj",
                "/CN=sigbox test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
        ]
        .concat(),
    );
    sb.write(
        "ext.cnf",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
    ]);
    let reg = Registry::start_with(
        &sb.join("registry"),
        &Setup { tls: Some((sb.join("server.pem"), sb.join("server.key"))), ..Setup::default() },
    );
    let image = registry::push_image(sb.path(), &reg, "tls", "t");
    key_pair(&sb, "k");
    cosign(&sb, Some(&up))
        .args(["sign", "--key", "k.key", "-y", "--registry-cacert", "ca.pem"])
        .arg(&image)
        .succeeds();
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub", "--registry-cacert", "ca.pem"])
        .arg(&image)
        .succeeds();
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub"])
        .arg(&image)
        .fails_with(1)
        .stderr_has("certificate");
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub", "--allow-insecure-registry"])
        .arg(&image)
        .succeeds();
}
