//! The `signature` step (功能介绍): `modifysignature`, at most as often as the monthly quota
//! `getaccountbasicinfo` shows allows.

use serde_json::json;

use super::{StepCtx, StepError};
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::Endpoint;
use wechat_open::api::{GetAccountBasicInfo, ModifySignature};

fn wanted<'a>(ctx: &'a StepCtx<'_>) -> &'a str {
    ctx.row.signature.as_deref().unwrap_or_default()
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let info = ctx.api.call(&ctx.appid, &GetAccountBasicInfo).await?;
    let live = info.signature_info.unwrap_or_default();
    if live.signature == wanted(ctx) {
        return Ok(ctx.already_so("the signature is already as asked"));
    }
    let (used, quota) = (live.modify_used_count, live.modify_quota);
    if let Some(spent) =
        Decision::month_spent(ctx.now, Some(53200), "signature", " / 本月功能介绍修改次数已用完", used, quota)
    {
        return Ok(spent);
    }
    Ok(Decision::Set(format!(
        "set the signature ({} of {} changes used this month)",
        live.modify_used_count, live.modify_quota
    )))
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let started = ctx.mark_started(ModifySignature::PATH, json!({}));
    let req = ModifySignature { signature: wanted(ctx).to_string() };
    ctx.api.call_after(&ctx.appid, &req, Some(started)).await?;
    Ok(StepOutcome::done("signature set"))
}
