//! Transitional: moved to [`wechat_open::lenient`]; this re-export keeps `crate::wechat::lenient`
//! paths compiling until their users import `wechat_open` directly.

pub use wechat_open::lenient::*;
