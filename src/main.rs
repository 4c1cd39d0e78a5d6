//! The `wxprov` binary: parse the command line, run the command, exit with its code.
//! Everything else lives in the library so tests and benchmarks can reach it.

fn main() -> std::process::ExitCode {
    wxprov::cli::main()
}
