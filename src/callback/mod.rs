//! The callback receiver (DESIGN §7): the HTTP server `wxprov serve` runs.
//!
//! The message encryption ([`wechat_open::crypto`]) and the pushes' XML
//! ([`wechat_open::event`]) are the protocol's and live in `wechat_open`. [`server`] builds
//! the router from [`redirect`] (tickets coming back in a merchant's browser) and [`push`]
//! (encrypted pushes), refusing with [`refusal`]s, reading queries with [`params`],
//! remembering nonces with [`replay`] and checking the links' HMAC `state` with
//! [`link_state`].

pub mod link_state;
pub mod params;
pub mod push;
pub mod redirect;
pub mod refusal;
pub mod replay;
pub mod server;

#[cfg(test)]
mod proptests;

pub use server::{router, serve, ServerState};
