//! The log on PostgreSQL: a real PostgreSQL server per test (Debian's `postgresql`:
//! `initdb` + `pg_ctl` in a temp dir, as `nobody` when the tests run as root, since the
//! server refuses to run as root), real `sigbox` servers on it.

#![allow(dead_code)]

mod api;
mod cluster;
mod ct;
mod handover;
mod moving;
mod outage;
mod server;

pub use server::{free_port, Postgres};
