//! The sigbox executable: everything lives in the library; see `sigbox::cli`.

fn main() -> std::process::ExitCode {
    sigbox::cli::main()
}
