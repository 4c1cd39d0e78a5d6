//! `wxprov explain ERRCODE` (placeholder until the catalogue lands).
use crate::exit::Exit;

/// What an errcode means
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The errcode
    #[arg(allow_negative_numbers = true)]
    pub errcode: String,
}

pub fn run(_args: &Args) -> anyhow::Result<Exit> {
    Err(crate::exit::usage("not yet"))
}
