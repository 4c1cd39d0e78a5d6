//! Everything that speaks to WeChat: the typed endpoints ([`api`]), the HTTP client
//! ([`client`]), the errcode catalogue ([`errcode`]), tokens ([`token`]), media uploads
//! ([`media`]) and the mp.weixin.qq.com links ops staff send to merchants ([`links`]).

pub mod api;
pub mod errcode;
pub mod lenient;
