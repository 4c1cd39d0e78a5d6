//! The `nickname` step: check the name (`checkwxverifynickname`), upload the materials the
//! check asks for, `setnickname`, then follow the audit (`api_wxa_querynickname`) across
//! runs until WeChat approves (done) or rejects it (failed, with WeChat's reason).
//!
//! `setnickname` answering 91019 ("the mini-program is under review", NOTES.md: not
//! necessarily a name audit — one an earlier run started and lost the answer to, or one
//! started in the console) leaves the step in review with no audit id to ask about: each run
//! settles it from the account's name, and after [`REVIEW_WITHOUT_ID_DAYS`] it fails with a
//! hint for a person to look.

use serde_json::json;

use super::{load_image, StepCtx, StepError};
use crate::ledger::StepState;
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::{CheckWxVerifyNickname, GetAccountBasicInfo, QueryNickname, SetNickname};
use wechat_open::{api::Endpoint, ApiError};

/// 91019: the mini-program is under review (NOTES.md).
const UNDER_REVIEW: i64 = 91019;

/// How long a name review with no audit id may go on before it needs a person (DESIGN §4).
pub(crate) const REVIEW_WITHOUT_ID_DAYS: i64 = 14;

const REVIEW_WITHOUT_ID_HINT: &str = "WeChat said the mini-program was under review (91019) and wxprov has no \
    audit id to ask about. Look in the mini-program's console for what is under review (a name, code or \
    category audit); once it has ended, run again with --retry-failed.";

fn wanted<'a>(ctx: &'a StepCtx<'_>) -> &'a str {
    ctx.row.nickname.as_ref().map(|n| n.nickname.as_str()).unwrap_or_default()
}

fn has_materials(ctx: &StepCtx<'_>) -> bool {
    ctx.row.nickname.as_ref().is_some_and(|n| n.license.is_some() || n.id_card.is_some() || !n.materials.is_empty())
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let info = ctx.api.call(&ctx.appid, &GetAccountBasicInfo).await?;
    if info.current_nickname() == Some(wanted(ctx)) {
        return Ok(ctx.already_so("the name is already as asked"));
    }
    if ctx.record.state == StepState::InReview {
        return Ok(Decision::Review {
            audit_id: ctx.record.audit_id,
            message: "the name change is in WeChat's audit".into(),
        });
    }
    // The name changes are counted per calendar year (getaccountbasicinfo: "本年"), not per
    // month like the avatar's: a spent quota waits for 1 January, Beijing time.
    if let Some(live) = &info.nickname_info {
        let (used, quota) = (live.modify_used_count, live.modify_quota);
        if quota > 0 && used >= quota {
            return Ok(Decision::until(
                wechat_open::errcode::NAME_CHANGES_RESET,
                ctx.now,
                None,
                format!("this year's name changes are spent ({used}/{quota}); they reset on 1 January / 本年度名称修改次数已用完"),
            ));
        }
    }
    let check = ctx.api.call(&ctx.appid, &CheckWxVerifyNickname { nick_name: wanted(ctx).to_string() }).await?;
    if check.hit_condition && !has_materials(ctx) {
        return Ok(Decision::Fail {
            errcode: Some(91009),
            message: format!("WeChat asks for materials for this name: {}", check.wording),
            hint: Some(
                "Add the licence (license / 营业执照), ID card (id_card / 身份证) or other materials \
                 (naming_materials / 其他证明材料) that back the name, then run again."
                    .into(),
            ),
        });
    }
    let note = if check.hit_condition { " with the materials WeChat asks for" } else { "" };
    Ok(Decision::Set(format!("set the name to {:?}{note}", wanted(ctx))))
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(change) = ctx.row.nickname.clone() else { return Ok(StepOutcome::done("nothing asked")) };
    let mut req = SetNickname { nick_name: change.nickname.clone(), ..Default::default() };
    if let Some(file) = &change.license {
        req.license = ctx.api.media_id(&ctx.appid, &load_image(&file.path)?).await?;
    }
    if let Some(file) = &change.id_card {
        req.id_card = ctx.api.media_id(&ctx.appid, &load_image(&file.path)?).await?;
    }
    let mut materials = Vec::new();
    for file in &change.materials {
        materials.push(ctx.api.media_id(&ctx.appid, &load_image(&file.path)?).await?);
    }
    let req = req.with_materials(&materials);
    // A call an earlier attempt started and never saw answered: the review, if it opened
    // one, began then.
    let first_sent = ctx.record.started_call_at();
    let started = ctx.mark_started(SetNickname::PATH, json!({}));
    match ctx.api.call_after(&ctx.appid, &req, Some(started)).await {
        Ok(set) if set.audit_id > 0 => Ok(StepOutcome {
            audit_id: Some(set.audit_id),
            ..StepOutcome::state(StepState::InReview, format!("in WeChat's audit (audit {})", set.audit_id))
        }),
        Ok(_) => Ok(StepOutcome::done("name set")),
        // Under review — by the audit that earlier call opened (its id lost with its answer),
        // or by one started elsewhere: settled from the account's name from now on.
        Err(ApiError::WeChat { code: UNDER_REVIEW, .. }) => {
            ctx.record.review_opened_at(first_sent);
            let by = if first_sent.is_some() {
                "by the audit an earlier call opened, whose answer was lost"
            } else {
                "by an audit wxprov did not start"
            };
            Ok(StepOutcome {
                errcode: Some(UNDER_REVIEW),
                ..StepOutcome::state(
                    StepState::InReview,
                    format!("the mini-program is under review {by} (91019): waiting for the name to change"),
                )
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// A review with no audit id to ask about, settled from live state: done once the account
/// bears the name; failed with a hint once it has lasted [`REVIEW_WITHOUT_ID_DAYS`]; else
/// still in review. Its start is the call that opened it (or, on a ledger from before that
/// was kept, the first time it is judged here).
async fn settle_without_id(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let info = ctx.api.call(&ctx.appid, &GetAccountBasicInfo).await?;
    let current = match info.current_nickname() {
        Some(name) if name == wanted(ctx) => return Ok(StepOutcome::done("name approved (the account bears it)")),
        Some(name) => format!("the name is still {name:?}"),
        None => "the account has no name yet".to_string(),
    };
    let now = ctx.now.timestamp();
    let since = ctx.record.review_since(now);
    let days = (now - since) / 86_400;
    if days >= REVIEW_WITHOUT_ID_DAYS {
        return Ok(StepOutcome {
            errcode: ctx.record.errcode,
            hint: Some(REVIEW_WITHOUT_ID_HINT.into()),
            ..StepOutcome::state(
                StepState::Failed,
                format!(
                    "in review for {days} days with no audit id to ask about, and {current}, not {:?}",
                    wanted(ctx)
                ),
            )
        });
    }
    Ok(StepOutcome {
        errcode: ctx.record.errcode,
        ..StepOutcome::state(
            StepState::InReview,
            format!(
                "still under review ({days} of {REVIEW_WITHOUT_ID_DAYS} days; no audit id to ask about): {current}"
            ),
        )
    })
}

pub(crate) async fn poll(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(audit_id) = ctx.record.audit_id else { return settle_without_id(ctx).await };
    let audit = ctx.api.call(&ctx.appid, &QueryNickname { audit_id }).await?;
    Ok(match audit.audit_stat {
        3 => StepOutcome::done("name approved by WeChat's audit"),
        2 => StepOutcome {
            hint: Some("Fix the name or add materials as WeChat's reason says, then run again.".into()),
            ..StepOutcome::state(StepState::Failed, format!("WeChat rejected the name: {}", audit.fail_reason))
        },
        _ => StepOutcome {
            audit_id: Some(audit_id),
            ..StepOutcome::state(StepState::InReview, format!("in WeChat's audit (audit {audit_id})"))
        },
    })
}
