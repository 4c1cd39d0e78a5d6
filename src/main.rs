//! The `wxprov` binary: parse the command line, run the command, exit with its code.
//! Everything else lives in the library so tests and benchmarks can reach it.

/// mimalloc rather than the system allocator: a run makes about a hundred small allocations
/// per API call (HTTP headers, JSON, ledger records), and mimalloc serves them for less CPU
/// than glibc's malloc (README, "Benchmarks").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages: the kernel zeroes (and may first compact memory for) 2 MiB
    // at every first touch and again after each purge, which makes a large resume slower and
    // its CPU time erratic (README, "Benchmarks"). mimalloc is built not to ask for them
    // (`no_thp`, which also covers what it touches before `main`); this covers kernels that
    // hand them out unasked. The setting passes to the processes wxprov starts
    // (`WXPROV_TOKEN_COMMAND`). If the call fails, wxprov runs on with them.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    wxprov::cli::main()
}
