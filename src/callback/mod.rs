//! The callback receiver (DESIGN §7): WeChat's message encryption, event parsing, and the
//! HTTP server `wxprov serve` runs.
//!
//! [`crypto`] verifies and opens (and, for the simulator, seals) the encrypted pushes;
//! [`event`] reads the outer push body and the decrypted event XML into typed values;
//! [`server`] builds the router from [`redirect`] (tickets coming back in a merchant's browser)
//! and [`push`] (encrypted pushes), refusing with [`refusal`]s, reading queries with
//! [`params`], remembering nonces with [`replay`] and checking the links' HMAC `state` with
//! [`link_state`].

pub mod crypto;
pub mod event;
pub mod link_state;
pub mod params;
pub mod push;
pub mod redirect;
pub mod refusal;
pub mod replay;
pub mod server;

#[cfg(test)]
mod proptests;

pub use crypto::{CryptoError, MsgCrypt};
pub use event::{Event, EventError, PushBody, Pushed};
pub use server::{router, serve, ServerState};
