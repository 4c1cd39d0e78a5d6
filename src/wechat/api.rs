//! The typed endpoints, moved to [`wechat_open::api`]; re-exported here, transitionally, so the
//! `crate::wechat::api::…` paths keep compiling.

pub use wechat_open::api::*;
pub use wechat_open::TokenKind;
