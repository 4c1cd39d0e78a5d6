//! The go-live endpoints (`golive.md` §1–§4): what a third-party platform calls after
//! registration so that a mini-program gets a released version — its domains, code from a
//! template, the privacy guide the code scan asks for, the audit within the platform's
//! monthly quota, the release, and the ICP filing state that gates it.
//!
//! They sit apart from [`crate::api`] (registration and settings) because they are one flow
//! with its own rules, each concept in its file: [`domain`] (server and business domains, both
//! methods, and the platform's own lists), [`code`] (the template library, `commit`, the trial
//! version's pages and QR code, version info and rollback), [`privacy`] (the guide and the
//! scan), [`audit`] (categories for the audit, `submit_audit`, its status, withdrawal,
//! speed-up and the quota), [`release`] and [`icp`]. Every request is an
//! [`Endpoint`](crate::api::Endpoint) sent with [`Client::call`](crate::Client::call), with
//! the GET or POST its document gives and the body exactly as documented (`{}` where a POST
//! has no parameters: an empty body is 44002).
//!
//! Where the documents, the SDKs and the live platform disagree (`golive.md` §5), requests
//! are sent the documented way and answers are read every way seen: `template_id` as a number
//! or a string, `auditid` as a number or a numeric string, `ScreenShot` or `screenshot`,
//! `privacy_desc` as an object (or the 2.0 document's bare array), 0/1 or `true`/`false` for
//! flags, numbers in strings (WxJava types `get_privacy_interface`'s as strings).

pub mod audit;
pub mod code;
pub mod domain;
pub mod icp;
pub mod privacy;
pub mod release;

#[cfg(test)]
pub(crate) mod loopback;
