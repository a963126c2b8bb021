//! L3 the certificate authority (Fulcio role): issuance ([`ca`]), the built-in CT log
//! ([`ct`]), issuer keys ([`issuers`]), the HTTP API ([`api`]), start-up from a data
//! directory ([`service`]), and the client keyless signing uses ([`client`]).

pub mod api;
pub mod ca;
pub mod client;
pub mod ct;
mod ct_api;
pub mod issuers;
mod responses;
pub mod service;

/// An error and its causes on one line (`a: b: c`), for messages to clients and for logs.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
