//! wxprov: bulk provisioning of WeChat mini-programs for Open Platform third-party platforms.
//!
//! The binary is a thin shell over this library (`cli::main`). The pieces, roughly in the
//! order a run touches them:
//! - [`config`]: job files, common options and the secrets read from the environment.
//! - [`manifest`]: the spreadsheet ops staff fill, read and validated into rows and steps.
//! - [`golive`]: which rows go live and with what values (the job's `[golive]`, the go-live
//!   columns).
//! - [`wechat`]: the typed WeChat API client, the errcode catalogue, tokens and media; the
//!   protocol pieces with no storage of their own are in the `wechat_open` crate, and
//!   [`hints`] holds wxprov's hint for each of its errcodes.
//! - [`ledger`]: the SQLite file that remembers tokens, media, tickets and every call.
//! - [`callback`]: the callback receiver `serve` runs (the message encryption it opens pushes
//!   with is `wechat_open`'s).
//! - [`interrupt`]: SIGINT/SIGTERM during a run: no new call, the reports written.
//! - [`status_page`]: the page `serve --status-listen` shows ops staff, read from the ledger.
//!
//! The simulator that `wxprov sim` and the rehearsals (`--api-base sim`) run is the
//! `wechat_sim` crate.

pub mod callback;
pub mod cli;
pub mod config;
pub mod exit;
pub mod golive;
pub mod hints;
pub mod image;
pub mod interrupt;
pub mod ledger;
pub mod lifecycle;
pub mod manifest;
pub mod report;
pub mod runner;
pub mod status_page;
pub mod wechat;
