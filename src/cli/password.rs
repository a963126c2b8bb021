//! Where passwords come from: `COSIGN_PASSWORD`, else an interactive prompt on the terminal.

use std::io::IsTerminal;

use anyhow::Context;

use crate::crypto::cosign_key::Password;

/// Reads the password for an existing key: `COSIGN_PASSWORD` (an empty value is a valid
/// empty password), else one prompt.
pub fn existing(key_path: &str) -> anyhow::Result<Password> {
    if let Some(pw) = std::env::var_os("COSIGN_PASSWORD") {
        return Ok(Password::new(pw.into_encoded_bytes()));
    }
    ensure_terminal()?;
    let pw = rpassword::prompt_password(format!("Enter password for private key {key_path}: "))
        .context("reading the password from the terminal")?;
    Ok(Password::new(pw.into_bytes()))
}

/// Reads the password for a new key: `COSIGN_PASSWORD`, else typed twice, which must match.
pub fn new_key() -> anyhow::Result<Password> {
    if let Some(pw) = std::env::var_os("COSIGN_PASSWORD") {
        return Ok(Password::new(pw.into_encoded_bytes()));
    }
    ensure_terminal()?;
    let first = zeroize::Zeroizing::new(
        rpassword::prompt_password("Enter password for private key: ")
            .context("reading the password from the terminal")?,
    );
    let second = zeroize::Zeroizing::new(
        rpassword::prompt_password("Enter password for private key again: ")
            .context("reading the password from the terminal")?,
    );
    if *first != *second {
        return Err(super::exit::Usage("passwords do not match".into()).into());
    }
    Ok(Password::new(first.as_bytes().to_vec()))
}

fn ensure_terminal() -> anyhow::Result<()> {
    if std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(super::exit::Usage(
            "no password: set COSIGN_PASSWORD or run on a terminal to be prompted".into(),
        )
        .into())
    }
}
