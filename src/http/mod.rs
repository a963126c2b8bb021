//! L2 HTTP: a small hyper 1 server (plain or rustls TLS) that reads whole request bodies under a size cap and a
//! read timeout, hands them to a [`Handler`], and writes JSON `{"code","message"}` errors the
//! way Rekor and Fulcio do; and builds the outgoing HTTP clients ([`blocking_client`]). The
//! only module that uses hyper and reqwest.
//!
//! Services (`rekor::api`, `fulcio::api`) see only [`Request`] and [`Response`], so they are
//! plain functions of bytes that unit tests can call without a socket.

mod answer;
mod client;
mod error;
mod message;
mod server;
mod tls;

pub use answer::{Answer, ReadError, MAX_RESPONSE_BYTES};
pub use client::{
    blocking_builder, blocking_client, blocking_client_with_ca, builder, BlockingClient,
};
pub use error::{Error, Result};
pub use hyper::{Method, StatusCode};
pub use message::{query_param, Request, Response};
pub use server::{serve, serve_tls, Handler, Limits};
pub use tls::{tls_config, TlsConfig};
