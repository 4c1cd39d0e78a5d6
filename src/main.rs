//! The `wxprov` binary: parse the command line, run the command, exit with its code.
//! Everything else lives in the library so tests and benchmarks can reach it.

/// mimalloc rather than the system allocator: a run makes about a hundred small allocations
/// per API call (HTTP headers, JSON, ledger records), and glibc's malloc was a fifth of the
/// process's instructions in the overhead benchmark (README, "run (b)").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages: the kernel zeroes (and may first compact memory for) 2 MiB
    // at every first touch and again after each purge — up to half the CPU of resuming a
    // 100,000-row job, and most of its variance from one run to the next (README, "run
    // (c)"). mimalloc is built not to ask for them (`no_thp`, which also covers what it
    // touches before `main`); this covers kernels that hand them out unasked. The setting
    // passes to the processes wxprov starts (`WXPROV_TOKEN_COMMAND`). Failing to turn them
    // off costs only that.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    wxprov::cli::main()
}
