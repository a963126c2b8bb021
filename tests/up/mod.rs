//! `sigbox up` end to end: the local instance, keyless signing through the `cosign`
//! persona, sigstore-python (from the clone's `.venv`) as an independent client both ways,
//! restarts, and the errors a user meets.

pub(crate) mod instance;
mod keyless;
mod login;
mod readme_path;
mod sigstore_js;
mod timestamps;
