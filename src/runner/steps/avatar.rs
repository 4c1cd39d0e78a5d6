//! The `avatar` step: upload the image (reused for three days), then `modifyheadimage` with
//! the crop. WeChat shows no way to compare the current avatar with ours, so a started call
//! is reconciled from what `getaccountbasicinfo` said before it: a different avatar URL, or
//! (within the same Beijing month) a higher change count, means the change took effect.

use serde_json::json;

use super::{load_image, StepCtx, StepError};
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::Endpoint;
use wechat_open::api::{GetAccountBasicInfo, ModifyHeadImage};

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let info = ctx.api.call(&ctx.appid, &GetAccountBasicInfo).await?;
    ctx.live.info = Some(info.clone());
    let live = info.head_image_info.unwrap_or_default();
    if ctx.was_started() {
        let url_before = ctx.started_info("url").and_then(|v| v.as_str().map(str::to_string));
        let used_before = ctx.started_info("used").and_then(|v| v.as_i64());
        let same_month = ctx.started_info("month").and_then(|v| v.as_str().map(str::to_string)) == Some(month(ctx.now));
        let url_changed = url_before.is_some_and(|u| u != live.head_image_url);
        let count_went_up = same_month && used_before.is_some_and(|b| live.modify_used_count > b);
        if url_changed || count_went_up {
            return Ok(ctx.already_so("the avatar was changed"));
        }
    }
    let (used, quota) = (live.modify_used_count, live.modify_quota);
    if let Some(spent) = Decision::month_spent(ctx.now, Some(53202), "avatar", " / 本月头像修改次数已用完", used, quota)
    {
        return Ok(spent);
    }
    Ok(Decision::Set(format!(
        "set the avatar ({} of {} changes used this month)",
        live.modify_used_count, live.modify_quota
    )))
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(change) = &ctx.row.avatar else { return Ok(StepOutcome::done("nothing asked")) };
    // The live state just before the call (as `decide` read it): what reconciling compares
    // against.
    let live = ctx.basic_info().await?.head_image_info.unwrap_or_default();
    let image = load_image(&change.image.path)?;
    let media = ctx.api.media_id(&ctx.appid, &image).await?;
    let before = json!({ "used": live.modify_used_count, "url": live.head_image_url, "month": month(ctx.now) });
    let started = ctx.mark_started(ModifyHeadImage::PATH, before);
    let c = change.crop;
    let req = ModifyHeadImage { head_img_media_id: media, x1: c.x1, y1: c.y1, x2: c.x2, y2: c.y2 };
    ctx.api.call_after(&ctx.appid, &req, Some(started)).await?;
    Ok(StepOutcome::done("avatar set"))
}

/// The Beijing-time month `now` is in, e.g. `2026-11`: WeChat's change counts restart each
/// month.
fn month(now: chrono::DateTime<chrono::Utc>) -> String {
    wechat_open::beijing::local(now).format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_change_counts_month_turns_at_beijing_midnight() {
        // 2026-03-31 23:59:59 and 2026-04-01 00:00:00 Beijing time (UTC+8).
        let last = Utc.with_ymd_and_hms(2026, 3, 31, 15, 59, 59).unwrap();
        let first = Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap();
        assert_eq!((super::month(last), super::month(first)), ("2026-03".to_string(), "2026-04".to_string()));
    }
}
