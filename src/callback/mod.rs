//! The callback receiver's building blocks: WeChat's message encryption and event parsing (DESIGN §7).
//!
//! [`crypto`] verifies and opens (and, for the simulator, seals) the encrypted pushes;
//! [`event`] reads the outer push body and the decrypted event XML into typed values.

pub mod crypto;
pub mod event;

pub use crypto::{CryptoError, MsgCrypt};
pub use event::{Event, EventError, PushBody, Pushed};
