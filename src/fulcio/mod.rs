//! L3 the certificate authority (Fulcio role): issuance ([`ca`]), the built-in CT log
//! ([`ct`]).

pub mod ca;
pub mod ct;
