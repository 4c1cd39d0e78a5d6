//! The `code` step (DESIGN §9): `commit` the row's template with its `ext_json` (rendered
//! with the appid, sent as a string), its `user_version` and `user_desc`, making the trial
//! version (体验版). WeChat's privacy scan of the code follows; the `privacy` step waits for
//! it (61039), never this one: a commit is never sent again to wait for a scan.
//!
//! When is the commit "already so"? `getversioninfo` shows the trial version's label and time
//! only, not its template or `ext_json`, and a changed input (a new `ext_json`, another
//! template) may keep its label; a commit spends no quota. So a step whose input has no
//! record of its own (new, or changed) commits, whatever the trial version's label — done or
//! skipped records of the same input are never taken up again (DESIGN §4). The one thing a
//! reading settles is a commit this step sent and lost the answer to: its send time is kept in
//! the started call's `sent_at`, and the commit took effect when `getversioninfo`'s `exp_info`
//! shows the row's `user_version` with an `exp_time` at or after it (WeChat's clock and ours
//! are taken to agree to the second). Until that reading can be had, the step stays pending
//! with the call marked as out: it is never committed again blindly.

use serde_json::json;

use super::{StepCtx, StepError};
use crate::golive::CodeChange;
use crate::ledger::{now_secs, StepState};
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::Endpoint;
use wechat_open::golive::code::{Commit, GetVersionInfo, VersionInfo};
use wechat_open::ApiError;

fn change(ctx: &StepCtx<'_>) -> Option<CodeChange> {
    ctx.row.golive.as_ref().map(|g| g.code.clone())
}

/// The trial version as words.
fn trial(info: &VersionInfo) -> String {
    match &info.exp_info {
        Some(exp) if !exp.exp_version.is_empty() => format!("the trial version is {}", exp.exp_version),
        _ => "no trial version yet".into(),
    }
}

/// True when `info` shows `user_version` committed at or after `sent` (Unix s).
fn committed_since(info: &VersionInfo, user_version: &str, sent: i64) -> bool {
    info.exp_info.as_ref().is_some_and(|exp| exp.exp_version == user_version && exp.exp_time >= sent)
}

/// When the commit an earlier try started was sent (Unix s).
fn sent_at(ctx: &StepCtx<'_>) -> Option<i64> {
    ctx.started_info("sent_at").and_then(|v| v.as_i64()).or(ctx.record.started_call_at())
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let Some(code) = change(ctx) else { return Ok(Decision::Skip("no code asked".into())) };
    let info = match ctx.api.call(&ctx.appid, &GetVersionInfo {}).await {
        Ok(info) => info,
        // A commit is out and cannot be reconciled now: apply keeps it marked, sends nothing.
        Err(e) if ctx.was_started() && e.class() == wechat_open::errcode::ErrClass::Retry => {
            ctx.live.version = None;
            return Ok(Decision::Set(format!("reconcile the commit an earlier try sent ({e})")));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(sent) = sent_at(ctx).filter(|_| ctx.was_started()) {
        if committed_since(&info, &code.user_version, sent) {
            return Ok(Decision::Reconciled(format!(
                "template {} committed as {} (getversioninfo shows it; the earlier call's answer was lost)",
                code.template_id, code.user_version
            )));
        }
    }
    let what = format!("commit template {} as {} ({})", code.template_id, code.user_version, trial(&info));
    ctx.live.version = Some(info);
    Ok(Decision::Set(what))
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(code) = change(ctx) else { return Ok(StepOutcome::done("no code asked")) };
    if ctx.live.version.take().is_none() && ctx.was_started() {
        return Ok(StepOutcome::state(
            StepState::Pending,
            "a commit an earlier try sent is not reconciled yet (getversioninfo could not be read); \
             the next run reads it before committing again",
        ));
    }
    let sent = now_secs();
    ctx.mark_started(Commit::PATH, json!({ "sent_at": sent })).await?;
    let req = Commit {
        template_id: code.template_id.0 as i64,
        ext_json: code.ext_json.render(&ctx.appid),
        user_version: code.user_version.clone(),
        user_desc: code.user_desc.clone(),
    };
    let done = || {
        StepOutcome::done(format!(
            "committed template {} as {}; WeChat's privacy scan follows",
            code.template_id, code.user_version
        ))
    };
    match ctx.api.call(&ctx.appid, &req).await {
        Ok(_) => Ok(done()),
        // No answer: whether it took effect, getversioninfo says, before anything is resent.
        Err(e) if e.uncertain() => match ctx.api.call(&ctx.appid, &GetVersionInfo {}).await {
            Ok(info) if committed_since(&info, &code.user_version, sent) => Ok(done()),
            // It did not: the call is judged as the error it met (tried again while the
            // step's sends allow, reading live state first).
            Ok(_) => Err(e.into()),
            Err(read) if matches!(read, ApiError::Interrupted { .. }) => Err(read.into()),
            Err(read) => Ok(StepOutcome::state(
                StepState::Pending,
                format!(
                    "the commit's answer was lost ({e}) and getversioninfo could not be read ({read}); \
                     the next run reads it before committing again"
                ),
            )),
        },
        Err(e) => Err(e.into()),
    }
}
