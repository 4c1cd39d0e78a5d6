//! `wxprov serve`: not there yet; it comes with the callback receiver (issue #5).

use super::Context;
use crate::exit::Exit;

/// Not there yet: comes with the callback receiver (issue #5).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Anything; this command is not there yet
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub async fn run(_args: Args, _ctx: &mut Context) -> anyhow::Result<Exit> {
    super::not_yet("serve", "the callback receiver (issue #5)")
}
