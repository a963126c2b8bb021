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
