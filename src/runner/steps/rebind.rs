//! The `rebind_admin` step: `componentrebindadmin` with the taskid the new admin's scan
//! produced — pasted in the row, or captured by `serve` from the redirect. Without one the
//! step waits for the scan.

use serde_json::json;

use super::{StepCtx, StepError};
use crate::ledger::TicketKind;
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::ComponentRebindAdmin;
use wechat_open::{api::Endpoint, ApiError};

/// 85060: invalid taskid — also what a consumed one answers.
const INVALID_TASKID: i64 = 85060;

async fn taskid(ctx: &StepCtx<'_>) -> Result<Option<String>, StepError> {
    if let Some(id) = ctx.row.rebind.as_ref().and_then(|r| r.taskid.clone()) {
        return Ok(Some(id));
    }
    Ok(ctx.ledger.newest_ticket(TicketKind::Rebind, &ctx.appid, 0).await?)
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    match taskid(ctx).await? {
        Some(_) => Ok(Decision::Set("rebind the admin with the captured taskid".into())),
        None => Ok(Decision::Wait(
            "waiting for the new admin's scan: send the link from `wxprov links` (serve captures the taskid)".into(),
        )),
    }
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(taskid) = taskid(ctx).await? else {
        return Ok(StepOutcome::from_decision(decide(ctx).await?));
    };
    let resent = ctx.was_started();
    let started = ctx.mark_started(ComponentRebindAdmin::PATH, json!({}));
    let result = ctx.api.call_after(&ctx.appid, &ComponentRebindAdmin { taskid: taskid.clone() }, Some(started)).await;
    let outcome = match result {
        Ok(_) => StepOutcome::done("admin rebound"),
        // A taskid is single-use: after an earlier run sent it and lost the answer, WeChat
        // calls it invalid because it was consumed.
        Err(ApiError::WeChat { code: INVALID_TASKID, .. }) if resent => {
            StepOutcome::done("admin rebound by an earlier run's call (the taskid was consumed)")
        }
        Err(e) => return Err(e.into()),
    };
    ctx.ledger.use_ticket(TicketKind::Rebind, &ctx.appid, &taskid).await?;
    Ok(outcome)
}
