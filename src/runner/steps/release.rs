//! The `release` step (DESIGN §9): publish the approved version — only when the row says
//! `release = auto`, and only once the ICP filing is finished (`get_icp_entrance_info`
//! status 6: since 2023-09 an unfiled mini-program cannot go live).
//!
//! `manual` (the default) stops at approved: the step is `waiting` — nothing is wrong, the
//! row is in results.csv with what to do (release it in the console, or set `release =
//! auto`), the run's exit code stays 0, and each run looks at `getversioninfo` so that the
//! step is done as soon as ops staff have released the version.
//!
//! `release` is sent with the body `{}`, recorded as started first (with the release time
//! before it); every try reads `getversioninfo` before anything is sent: this row's version
//! released is done — by the call an earlier try sent and never saw answered, or by ops
//! staff. 85052 (already released) is done.

use serde_json::json;

use super::{StepCtx, StepError};
use crate::golive::{GoLive, ReleaseMode};
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::Endpoint;
use wechat_open::golive::code::{GetVersionInfo, VersionInfo};
use wechat_open::golive::icp::GetIcpEntranceInfo;
use wechat_open::golive::release::Release;
use wechat_open::ApiError;

/// 85052: the version is already released.
const ALREADY_RELEASED: i64 = 85052;

fn golive<'a>(ctx: &'a StepCtx<'_>) -> Option<&'a GoLive> {
    ctx.row.golive.as_deref()
}

fn version<'a>(ctx: &'a StepCtx<'_>) -> &'a str {
    golive(ctx).map(|g| g.code.user_version.as_str()).unwrap_or_default()
}

/// `release_info`'s version and time, when something is released.
fn released(info: &VersionInfo) -> Option<(&str, i64)> {
    info.release_info.as_ref().map(|r| (r.release_version.as_str(), r.release_time))
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let Some(golive) = golive(ctx) else { return Ok(Decision::Skip("nothing asked".into())) };
    let mode = golive.release;
    let info = ctx.api.call(&ctx.appid, &GetVersionInfo {}).await?;
    // Released already — by the call an earlier try sent and never saw answered, or by ops
    // staff: nothing is sent (a second release would meet 85052).
    if let Some((v, _)) = released(&info) {
        if v == version(ctx) {
            return Ok(ctx.already_so(format!("version {v} is released")));
        }
    }
    if mode == ReleaseMode::Manual {
        return Ok(Decision::Wait(format!(
            "approved; release is manual: release version {} in the mini-program's console (or set release = \
             auto) / 审核已通过，请手动发布",
            version(ctx)
        )));
    }
    let icp = ctx.api.call(&ctx.appid, &GetIcpEntranceInfo {}).await?;
    if !icp.info.is_filed() {
        return Ok(Decision::Block {
            errcode: None,
            message: format!(
                "the ICP filing is not finished (status {}: {}); an unfiled mini-program cannot be released / 未完成备案",
                icp.info.status,
                icp.info.describe()
            ),
            hint: Some(
                "Finish the mini-program's ICP filing (备案) in its console; the release follows once \
                 get_icp_entrance_info shows status 6 (checked again on the next Beijing day)."
                    .into(),
            ),
        });
    }
    Ok(Decision::Set(format!("release version {}", version(ctx))))
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let info = ctx.api.call(&ctx.appid, &GetVersionInfo {}).await?;
    let before = released(&info).map(|(_, t)| t);
    ctx.mark_started(Release::PATH, json!({ "release_time": before })).await?;
    match ctx.api.call(&ctx.appid, &Release {}).await {
        Ok(_) => Ok(StepOutcome::done(format!("version {} released", version(ctx)))),
        Err(ApiError::WeChat { code: ALREADY_RELEASED, .. }) => Ok(StepOutcome {
            errcode: Some(ALREADY_RELEASED),
            ..StepOutcome::done(format!("version {} was already released (85052)", version(ctx)))
        }),
        Err(e) => Err(e.into()),
    }
}
