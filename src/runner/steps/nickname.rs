//! The `nickname` step: check the name (`checkwxverifynickname`), upload the materials the
//! check asks for, `setnickname`, then follow the audit (`api_wxa_querynickname`) across
//! runs until WeChat approves (done) or rejects it (failed, with WeChat's reason).

use serde_json::json;

use super::{load_image, StepCtx, StepError};
use crate::ledger::StepState;
use crate::runner::outcome::{Decision, StepOutcome};
use crate::wechat::api::{CheckWxVerifyNickname, GetAccountBasicInfo, QueryNickname, SetNickname};
use crate::wechat::{errcode, ApiError, Endpoint};

/// 91019: a name audit is already running (NOTES.md).
const AUDIT_RUNNING: i64 = 91019;

fn wanted<'a>(ctx: &'a StepCtx<'_>) -> &'a str {
    ctx.row.nickname.as_ref().map(|n| n.nickname.as_str()).unwrap_or_default()
}

fn has_materials(ctx: &StepCtx<'_>) -> bool {
    ctx.row.nickname.as_ref().is_some_and(|n| n.license.is_some() || n.id_card.is_some() || !n.materials.is_empty())
}

pub async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
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
                errcode::NAME_CHANGES_RESET,
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

pub async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
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
    let resent = ctx.was_started();
    ctx.mark_started(SetNickname::PATH, json!({})).await?;
    match ctx.api.call(&ctx.appid, &req).await {
        Ok(set) if set.audit_id > 0 => Ok(StepOutcome {
            audit_id: Some(set.audit_id),
            ..StepOutcome::state(StepState::InReview, format!("in WeChat's audit (audit {})", set.audit_id))
        }),
        Ok(_) => Ok(StepOutcome::done("name set")),
        // The earlier run's call did start an audit; its id was lost with that run.
        Err(ApiError::WeChat { code: AUDIT_RUNNING, .. }) if resent => Ok(StepOutcome::state(
            StepState::InReview,
            "in WeChat's audit (started by an earlier run; waiting for the name to change or the audit event)",
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn poll(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(audit_id) = ctx.record.audit_id else {
        let info = ctx.api.call(&ctx.appid, &GetAccountBasicInfo).await?;
        return Ok(if info.current_nickname() == Some(wanted(ctx)) {
            StepOutcome::done("name approved")
        } else {
            StepOutcome::state(StepState::InReview, "still in WeChat's audit")
        });
    };
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
