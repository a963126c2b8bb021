//! Persona tests: program names, `--list`, unknown names, `install-links`, the static
//! release binary, and one file per persona.

mod cosign_keys;
mod dispatch;
mod release;
