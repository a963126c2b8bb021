//! The CA's CT log on PostgreSQL (`fulcio-server --storage`): the same test body as on the
//! embedded store — certificates carry SCTs that verify, the entries are in the log with
//! inclusion proofs, and two tree heads are consistent — and a restart keeps the log.

use super::Postgres;

#[test]
fn postgres_ct_log_issues_certificates_with_scts_in_the_log() {
    let pg = Postgres::start();
    let url = pg.url();
    crate::fulcio::public_key_request_gets_a_certificate_with_an_sct_in_the_log(&[
        "--storage",
        &url,
    ]);
}
