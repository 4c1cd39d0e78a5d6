//! Transitional: moved to [`wechat_open::links`]; this re-export keeps `crate::wechat::links`
//! paths compiling until their users import `wechat_open` directly.

pub use wechat_open::links::*;
