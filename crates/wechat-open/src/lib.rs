//! The WeChat Open Platform protocol, for third-party platforms (第三方平台): the pieces of
//! it that do not depend on how a tool stores its state. wxprov (the root package of this
//! workspace) is built on it; the protocol pieces move here from wxprov step by step
//! (`docs/architecture.md` in the workspace).
#![deny(missing_docs)]
