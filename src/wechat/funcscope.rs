//! Permission sets (权限集, the ids in `func_info`): which ones each step's calls need, on
//! which account, and what ops staff call them.
//!
//! An account grants the platform permission sets when it authorizes it; a call outside
//! them is refused (61007 "api is unauthorized to component", 48001). `wxprov check` compares
//! what the sheet's steps need with the stored `func_info` of each account, so a missing set
//! is found before a run, not as blocked rows after it. The ids are WeChat's own (the
//! platform's permission set lists: official accounts 1–…, mini-programs 17 onwards); which
//! set an endpoint falls under follows fast registration's "权限准备" (account service on the
//! official account; account management, basic information and verification on the
//! mini-program) — the rebind admin call's set is \[assumed\] account management.

use crate::manifest::StepKind;

/// Whose permission sets a step needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Holder {
    /// The official account whose qualification a registration reuses (`fastregister`
    /// carries its token).
    OfficialAccount,
    /// The mini-program the row configures.
    MiniProgram,
}

/// 帐号服务权限 (official account): `fastregister`.
pub const ACCOUNT_SERVICE: i64 = 3;
/// 小程序帐号管理权限: the admin rebind.
pub const MP_ACCOUNT_MANAGEMENT: i64 = 17;
/// 小程序基本信息设置权限: name, avatar, signature, categories.
pub const MP_BASIC_INFO: i64 = 30;
/// 小程序认证权限 (认证名称检测): `checkwxverifynickname`.
pub const MP_VERIFICATION: i64 = 31;
/// 小程序开发与数据分析权限: domains, code, privacy, audit, release (golive.md).
pub const MP_DEVELOPMENT: i64 = 18;

/// The account whose sets `step` needs, and the set ids.
pub fn needed(step: StepKind) -> (Holder, &'static [i64]) {
    match step {
        StepKind::Register => (Holder::OfficialAccount, &[ACCOUNT_SERVICE]),
        StepKind::Nickname => (Holder::MiniProgram, &[MP_BASIC_INFO, MP_VERIFICATION]),
        StepKind::Avatar | StepKind::Signature | StepKind::Categories => (Holder::MiniProgram, &[MP_BASIC_INFO]),
        StepKind::RebindAdmin => (Holder::MiniProgram, &[MP_ACCOUNT_MANAGEMENT]),
        // golive.md: every go-live call belongs to 小程序开发与数据分析 (the ICP reads take 156 too).
        StepKind::Domains | StepKind::Code | StepKind::Privacy | StepKind::Audit | StepKind::Release => {
            (Holder::MiniProgram, &[MP_DEVELOPMENT])
        }
    }
}

/// The Chinese name of a set wxprov needs, as the platform's pages show it.
pub fn name(id: i64) -> &'static str {
    match id {
        ACCOUNT_SERVICE => "帐号服务权限",
        MP_ACCOUNT_MANAGEMENT => "小程序帐号管理权限",
        MP_BASIC_INFO => "小程序基本信息设置权限",
        MP_VERIFICATION => "小程序认证权限",
        MP_DEVELOPMENT => "小程序开发与数据分析权限",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_needs_a_named_set() {
        for step in StepKind::ALL {
            let (_, ids) = needed(step);
            assert!(!ids.is_empty(), "{step}");
            assert!(ids.iter().all(|id| !name(*id).is_empty()), "{step}");
        }
    }
}
