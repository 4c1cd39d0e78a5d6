//! The `privacy` step (DESIGN §9): `getprivacysetting` (the development guide, version 2),
//! then `setprivacysetting` with the row's guide, which must cover every key WeChat's scan
//! of the committed code found (`privacy_list`): a key the guide lacks fails the step naming
//! it. No guide and no key found: nothing to set. The guide already as asked: skipped.
//!
//! The scan runs for a while after each commit and answers 61039 until it ends (golive.md
//! §1.3: "wait a minute"). The step waits for it in place, within the run and without ever
//! committing again: [`SCAN_WAIT`] between questions, at most [`SCAN_WAITS`] times; a scan
//! still running then defers the step a minute (61039's rule), so the next run asks again.
//! The wait sits in the step rather than in the runner's loop: each row's steps run in order
//! in their own task, so only this row waits, and an interrupt cuts the wait short.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use super::{StepCtx, StepError};
use crate::golive::PrivacyGuide;
use crate::ledger::StepState;
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::Endpoint;
use wechat_open::golive::privacy::{GetPrivacySetting, PrivacySetting, SetPrivacySetting};
use wechat_open::ApiError;

/// 61039: the privacy scan of the committed code has not finished.
const SCANNING: i64 = 61039;

/// How long to wait before asking again while the scan runs (≥ 60 s between tries).
pub(crate) const SCAN_WAIT: Duration = Duration::from_secs(60);

/// How many times the step waits for the scan in one run before deferring.
pub(crate) const SCAN_WAITS: u32 = 5;

fn guide(ctx: &StepCtx<'_>) -> Option<std::sync::Arc<PrivacyGuide>> {
    ctx.row.golive.as_ref().and_then(|g| g.privacy.clone())
}

/// What the guide makes of what WeChat shows: a failure naming the keys it lacks, nothing to
/// do, already so, or the guide to set.
fn judge(ctx: &StepCtx<'_>, guide: Option<&PrivacyGuide>, live: &PrivacySetting) -> Decision {
    let covered: Vec<&str> = guide.map(|g| g.keys().collect()).unwrap_or_default();
    let missing: Vec<&str> = live.privacy_list.iter().map(String::as_str).filter(|k| !covered.contains(k)).collect();
    if !missing.is_empty() {
        let keys = missing.join(", ");
        let (message, hint) = match guide {
            Some(_) => (
                format!("the code uses privacy keys the guide does not cover: {keys}"),
                format!(
                    "Add {keys} to the privacy file's setting_list (privacy_key and the purpose as privacy_text), \
                     then run again."
                ),
            ),
            None => (
                format!("the code uses privacy keys and the row gives no privacy guide: {keys}"),
                format!(
                    "Give a privacy guide covering {keys} (the privacy cell, or [golive] privacy in the job file), \
                     then run again."
                ),
            ),
        };
        return Decision::Fail { errcode: None, message, hint: Some(hint) };
    }
    let Some(guide) = guide else {
        return Decision::Skip("the code uses no privacy key and the row gives no guide".into());
    };
    let want = guide.request();
    let configured: BTreeMap<&str, &str> = live
        .setting_list
        .iter()
        .filter(|s| !s.privacy_text.trim().is_empty())
        .map(|s| (s.privacy_key.as_str(), s.privacy_text.as_str()))
        .collect();
    let asked: BTreeMap<&str, &str> =
        want.setting_list.iter().flatten().map(|s| (s.privacy_key.as_str(), s.privacy_text.as_str())).collect();
    if configured == asked
        && live.owner_setting == want.owner_setting
        && live.sdk_privacy_info_list == want.sdk_privacy_info_list
    {
        return ctx.already_so("the privacy guide is already as asked");
    }
    let keys: Vec<&str> = asked.keys().copied().collect();
    Decision::Set(format!(
        "set the privacy guide ({})",
        if keys.is_empty() { "no keys".into() } else { keys.join(", ") }
    ))
}

fn scanning(e: &ApiError) -> bool {
    e.errcode() == Some(SCANNING)
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let guide = guide(ctx);
    match ctx.api.call(&ctx.appid, &GetPrivacySetting::default()).await {
        // Before a commit (what `plan` sees) the scan has found nothing yet.
        Ok(live) if !live.code_exist => {
            Ok(Decision::Set("set the privacy guide once the committed code is scanned".into()))
        }
        Ok(live) => {
            let decision = judge(ctx, guide.as_deref(), &live);
            ctx.live.privacy = Some(live);
            Ok(decision)
        }
        Err(e) if scanning(&e) => Ok(Decision::Set(format!(
            "set the privacy guide once WeChat's privacy scan of the code ends ({SCANNING}: still scanning; \
             the run asks again every {} s)",
            SCAN_WAIT.as_secs()
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `getprivacysetting` once the scan has ended: asked again after [`SCAN_WAIT`] while it
/// answers 61039, at most [`SCAN_WAITS`] times (the last 61039 is then the step's answer).
async fn after_scan(ctx: &StepCtx<'_>) -> Result<PrivacySetting, StepError> {
    let mut waits = 0;
    loop {
        // Decide has just been answered 61039 (or saw no committed code): wait first.
        ctx.api.calls.wait(GetPrivacySetting::PATH, SCAN_WAIT).await?;
        waits += 1;
        match ctx.api.call(&ctx.appid, &GetPrivacySetting::default()).await {
            Err(e) if scanning(&e) && waits < SCAN_WAITS => {
                tracing::debug!("line {}: privacy: the scan is still running ({waits} waits)", ctx.row.line);
            }
            other => return Ok(other?),
        }
    }
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let guide = guide(ctx);
    let live = match ctx.live.privacy.take() {
        Some(live) => live,
        None => after_scan(ctx).await?,
    };
    if !live.code_exist {
        return Ok(StepOutcome {
            not_before: Some(ctx.now.timestamp() + SCAN_WAIT.as_secs() as i64),
            ..StepOutcome::state(
                StepState::Deferred,
                "WeChat shows no committed code to scan yet; the next run asks again",
            )
        });
    }
    // Judged again from this reading: the scan may have found keys since `decide` asked.
    let decision = judge(ctx, guide.as_deref(), &live);
    let (Decision::Set(_), Some(guide)) = (&decision, guide) else {
        return Ok(StepOutcome::from_decision(decision.clone()));
    };
    ctx.mark_started(SetPrivacySetting::PATH, json!({ "update_time": live.update_time })).await?;
    let request = guide.request();
    let keys: Vec<String> = guide.keys().map(str::to_string).collect();
    ctx.api.call(&ctx.appid, &request).await?;
    Ok(StepOutcome::done(format!(
        "privacy guide set ({})",
        if keys.is_empty() { "no keys".into() } else { keys.join(", ") }
    )))
}
