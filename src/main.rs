//! The `wxprov` binary: parse the command line, run the command, exit with its code.
//! Everything else lives in the library so tests and benchmarks can reach it.

/// mimalloc rather than the system allocator: a run makes about a hundred small allocations
/// per API call (HTTP headers, JSON, ledger records), and glibc's malloc was a fifth of the
/// process's instructions in the overhead benchmark (README, "run (b)").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wxprov::cli::main()
}
