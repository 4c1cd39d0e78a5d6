//! Names: the check, the change request, and the audit that follows it.
//!
//! A name is never set directly: `setnickname` opens an audit and the name changes only when
//! the audit is approved, on a later `api_wxa_querynickname` (per the fixture's
//! `nickname_audit`) or through `POST /__sim/audit`. The format rules are assumed (NOTES.md):
//! 4–30 characters with CJK counting as 2, never containing "小程序". An approved change
//! counts against the mini-program's `nickname_quota` (2 a calendar year, as
//! `getaccountbasicinfo` reports it); once spent, `setnickname` is refused.

use serde_json::json;

use super::account::{contains_any, mini_program};
use super::api::{changed, err, ok, ApiError, Ctx, Reply};
use super::fixture::AuditMode;
use super::state::{NicknameAuditRec, State};

/// Length as WeChat counts names: ASCII 1, everything else 2.
pub(super) fn name_len(name: &str) -> usize {
    name.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Why a name cannot be used, as a check errcode (53010, 53012, 53013).
fn name_problem(st: &State, appid: &str, name: &str) -> Option<i64> {
    let len = name_len(name);
    if name.trim().is_empty() || name.contains("小程序") || !(4..=30).contains(&len) {
        return Some(53010);
    }
    if contains_any(name, &st.rules.blacklisted_words) {
        return Some(53012);
    }
    let taken_elsewhere = st.mini_programs.values().any(|m| m.appid != appid && m.nickname == name)
        || st.official_accounts.values().any(|o| o.appid != appid && o.nickname == name);
    if st.rules.taken_nicknames.iter().any(|t| t == name) || taken_elsewhere {
        return Some(53013);
    }
    None
}

/// `checkwxverifynickname`.
pub(super) fn check(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?;
    if st.mini_programs.get(appid).is_some_and(|m| m.not_created_by_platform) {
        return Err(err(41033, "invalid register type"));
    }
    let name = ctx.str("nick_name").unwrap_or("");
    match name_problem(st, appid, name) {
        Some(53010) => Err(err(53010, "invalid nickname format")),
        Some(53012) => Err(err(53012, "nickname is forbidden")),
        Some(code) => Err(err(code, "nickname duplicates an existing mini-program's name")),
        None if contains_any(name, &st.rules.nickname_hit_words) => {
            ok(json!({ "hit_condition": true, "wording": st.rules.nickname_hit_wording }))
        }
        None => ok(json!({ "hit_condition": false, "wording": "" })),
    }
}

/// `setnickname`: opens an audit.
pub(super) fn set(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?.to_string();
    if !mini_program(st, ctx)?.fast_registered {
        return Err(err(91001, "not a mini-program fast-registered from an official account"));
    }
    if st.audits.values().any(|a| a.appid == appid && a.audit_stat == 1) {
        return Err(err(91019, "a nickname audit is already in progress"));
    }
    // The year's name changes (`nickname_quota`, 2 by default) are spent: refused. Which
    // errcode the live platform gives is not in any source at hand; 91003 (改名状态不合法)
    // is the documented setnickname code that fits [assumed].
    if let Some(mp) = st.mini_programs.get(&appid) {
        if mp.nickname_quota > 0 && mp.nickname_used >= mp.nickname_quota {
            return Err(err(91003, "invalid change stat: this year's name changes are used up"));
        }
    }
    let name = ctx.str("nick_name").unwrap_or("").to_string();
    match name_problem(st, &appid, &name) {
        Some(53013) => return Err(err(91007, "nickname is already taken")),
        Some(_) => return Err(err(91004, "invalid nickname")),
        None => {}
    }
    let mut materials = Vec::new();
    let keys =
        ["license", "id_card"].into_iter().map(String::from).chain((1..=5).map(|i| format!("naming_other_stuff_{i}")));
    for key in keys {
        let id = ctx.str(&key).unwrap_or("");
        if id.is_empty() {
            continue;
        }
        if st.media_of(&appid, id, ctx.now).is_none() {
            return Err(err(40007, format!("invalid media_id in {key}")));
        }
        materials.push(id.to_string());
    }
    if materials.is_empty() && contains_any(&name, &st.rules.nickname_hit_words) {
        return Err(err(91009, "materials required for this nickname"));
    }
    let audit_id = st.next_audit_id;
    st.next_audit_id += 1;
    st.audits.insert(
        audit_id,
        NicknameAuditRec {
            audit_id,
            appid,
            nickname: name,
            audit_stat: 1,
            fail_reason: String::new(),
            create_time: (ctx.now / 1000) as i64,
            audit_time: 0,
            queries: 0,
            materials,
        },
    );
    changed(json!({ "wording": "", "audit_id": audit_id }))
}

/// Ends the audit `audit_id`: 3 approves (and renames the account), 2 rejects.
pub(super) fn finish_audit(st: &mut State, audit_id: i64, result: i64, reason: &str, now: u64) {
    let Some(audit) = st.audits.get_mut(&audit_id) else {
        return;
    };
    audit.audit_stat = result;
    audit.audit_time = (now / 1000) as i64;
    if result == 3 {
        audit.fail_reason.clear();
        let (appid, name) = (audit.appid.clone(), audit.nickname.clone());
        if let Some(mp) = st.mini_programs.get_mut(&appid) {
            mp.nickname = name;
            mp.nickname_used += 1;
        }
    } else {
        audit.fail_reason = reason.to_string();
    }
}

/// `api_wxa_querynickname`: reports an audit, moving it along per the fixture.
pub(super) fn query(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?.to_string();
    let not_found = || err(91011, "nickname audit not found");
    let audit_id = ctx.i64("audit_id").ok_or_else(not_found)?;
    let audit = st.audits.get(&audit_id).filter(|a| a.appid == appid).ok_or_else(not_found)?;
    let mut effect = false;
    if audit.audit_stat == 1 {
        let mode = st.mini_programs.get(&appid).and_then(|m| m.nickname_audit).unwrap_or(st.rules.nickname_audit);
        let due = audit.queries >= st.rules.audit_delay_queries;
        match mode {
            AuditMode::Manual => {}
            _ if !due => {
                if let Some(a) = st.audits.get_mut(&audit_id) {
                    a.queries += 1;
                }
            }
            AuditMode::Approve => {
                finish_audit(st, audit_id, 3, "", ctx.now);
                effect = true;
            }
            AuditMode::Reject => {
                let reason = st.rules.nickname_fail_reason.clone();
                finish_audit(st, audit_id, 2, &reason, ctx.now);
                effect = true;
            }
        }
    }
    let a = st.audits.get(&audit_id).ok_or_else(not_found)?;
    let body = json!({
        "nickname": a.nickname,
        "audit_stat": a.audit_stat,
        "fail_reason": a.fail_reason,
        "create_time": a.create_time,
        "audit_time": a.audit_time,
    });
    if effect {
        changed(body)
    } else {
        ok(body)
    }
}

/// For the control API: the running audit of `appid`, if any.
pub(super) fn running_audit(st: &State, appid: &str) -> Result<i64, ApiError> {
    st.audits
        .values()
        .find(|a| a.appid == appid && a.audit_stat == 1)
        .map(|a| a.audit_id)
        .ok_or_else(|| err(91011, "no nickname audit in progress for this appid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_counts_two() {
        assert_eq!(name_len("abcd"), 4);
        assert_eq!(name_len("示例"), 4);
        assert_eq!(name_len("示"), 2);
    }
}
