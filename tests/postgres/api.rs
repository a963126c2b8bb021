//! The Rekor API suite of `tests/rekor/api.rs`, the same test bodies, on PostgreSQL.

use super::Postgres;
use crate::rekor::api;

fn on_postgres(body: fn(&[&str])) {
    let pg = Postgres::start();
    let url = pg.url();
    body(&["--storage", &url]);
}

#[test]
fn postgres_rekor_create_returns_201_with_etag_location_set_and_checked_proof() {
    on_postgres(api::create_returns_201_with_etag_location_set_and_checked_proof);
}

#[test]
fn postgres_rekor_duplicate_is_409_with_location_of_the_first() {
    on_postgres(api::duplicate_is_409_with_location_of_the_first);
}

#[test]
fn postgres_rekor_bad_requests_are_4xx_json_and_change_nothing() {
    on_postgres(api::bad_requests_are_4xx_json_and_change_nothing);
}

#[test]
fn postgres_rekor_search_retrieve_consistency_and_tiles_agree() {
    on_postgres(api::search_retrieve_consistency_and_tiles_agree);
}

#[test]
fn postgres_rekor_restart_keeps_entries_key_and_tree_id() {
    on_postgres(api::restart_keeps_entries_key_and_tree_id);
}

#[test]
fn postgres_rekor_server_with_a_bad_storage_url_exits_2_naming_it() {
    use crate::harness::Sandbox;
    let sandbox = Sandbox::new();
    sandbox
        .sigbox()
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(sandbox.join("data"))
        .args(["--storage", "mysql://user:hunter2@db/log"])
        .fails_with(2)
        .stderr_has("is not a postgres:// URL");
}

#[test]
fn postgres_rekor_server_with_no_database_there_exits_2_naming_it() {
    use crate::harness::Sandbox;
    let sandbox = Sandbox::new();
    let port = super::free_port();
    let run = sandbox
        .sigbox()
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(sandbox.join("data"))
        .args(["--storage", &format!("postgres://sigbox:pw@127.0.0.1:{port}/logs")])
        .fails_with(2)
        .stderr_has(&format!("PostgreSQL database sigbox@127.0.0.1:{port}/logs"));
    assert!(!run.stderr().contains(":pw@"), "the password is never printed");
}

#[test]
fn postgres_rekor_over_tls_verifies_the_database_certificate() {
    let (pg, ca) = Postgres::start_tls();
    let ca = ca.to_str().expect("utf-8 path");
    // The whole create/read test over TLS (the server refuses connections without it).
    let url = format!("{}?sslmode=verify-full&sslrootcert={ca}", pg.url());
    api::create_returns_201_with_etag_location_set_and_checked_proof(&["--storage", &url]);

    use crate::harness::Sandbox;
    let sandbox = Sandbox::new();
    // Without TLS: refused by the database (hostssl only), the error names it.
    sandbox
        .sigbox()
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(sandbox.join("a"))
        .args(["--storage", &pg.url()])
        .fails_with(2)
        .stderr_has(&format!("PostgreSQL database sigbox@127.0.0.1:{}/postgres", pg.port));
    // With TLS but another CA: the certificate is not trusted.
    let other = sandbox.join("other-ca.pem");
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"])
        .args(["-keyout", "/dev/null", "-out"])
        .arg(&other)
        .args(["-days", "1", "-subj", "/CN=another CA"])
        .output()
        .expect("openssl");
    assert!(out.status.success());
    let url = format!("{}?sslmode=require&sslrootcert={}", pg.url(), other.display());
    sandbox
        .sigbox()
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(sandbox.join("b"))
        .args(["--storage", &url])
        .fails_with(2)
        .stderr_has("certificate");
}
