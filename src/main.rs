//! The sigbox executable: everything lives in the library; see `sigbox::cli`.

/// mimalloc instead of glibc's allocator: the servers allocate and free small buffers on
/// several threads per request, where glibc's arenas cost measurably more (the log's
/// add-entry path went from 8,500 to 9,900 entries/s, `make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sigbox::cli::main()
}
