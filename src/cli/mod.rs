//! The command line.

pub mod explain;

pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(2)
}
