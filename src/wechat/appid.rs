//! The appid rule, moved to [`wechat_open::appid`]; re-exported here, transitionally, so the
//! `crate::wechat::appid::…` paths keep compiling.

pub use wechat_open::appid::*;
