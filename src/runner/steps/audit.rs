//! The `audit` step (DESIGN §9): submit the committed code for WeChat's review within the
//! platform's monthly quota, then follow the review until WeChat approves (done) or rejects
//! it (failed, with the reason and the screenshots' media ids).
//!
//! The order, each part for a reason:
//! - a submission an earlier try started and never saw answered is looked for with
//!   `get_latest_auditstatus` (this row's `user_version`, submitted since the send) before
//!   anything is sent again: a quota once spent is not spent twice ([`lost_submission`]);
//! - `queryquota` once per run for every row ([`AuditPool`](crate::wechat::audit_pool)):
//!   rows get places in the order they ask, the others are deferred until a later run's
//!   `queryquota` shows `rest > 0` (85085's rule);
//! - the items: the row's pages, or the code's first page (`get_page`), each with the first
//!   approved category (`/wxa/get_category`);
//! - `submit_audit`, recorded as started first; the audit id it answers is stored before
//!   anything else. 85009 (an audit is running) is followed when `get_latest_auditstatus`
//!   shows this row's `user_version`, and is someone else's audit otherwise (blocked);
//! - the review: `serve` settles it from `weapp_audit_*` pushes; a run asks
//!   `get_auditstatus` at most hourly ([`POLL_EVERY_SECS`]). A delay keeps it in review.

use serde_json::json;

use super::{StepCtx, StepError};
use crate::golive::GoLive;
use crate::ledger::StepState;
use crate::lifecycle::{code_delay, code_rejection, Decision, StepOutcome, CODE_REJECTED_HINT};
use crate::wechat::audit_pool::Claim;
use wechat_open::api::Endpoint;
use wechat_open::errcode::DeferUntil;
use wechat_open::golive::audit::{
    AuditItem, AuditState, AuditStatus, GetAuditCategory, GetAuditStatus, GetLatestAuditStatus, LatestAuditStatus,
    QueryQuota, SubmitAudit,
};
use wechat_open::golive::code::GetPage;
use wechat_open::ApiError;

/// An audit in review is asked about at most this often (DESIGN §9: at most hourly).
pub(crate) const POLL_EVERY_SECS: i64 = 3600;

/// How far WeChat's clock (`submit_audit_time`) may be behind ours when a lost submission is
/// looked for.
const CLOCK_SLACK_SECS: i64 = 300;

/// 85009: an audit of this mini-program is already running.
const AUDIT_RUNNING: i64 = 85009;
/// 85085: the platform's monthly audit quota is spent.
const QUOTA_SPENT: i64 = 85085;
/// 85012: no such audit (get_latest_auditstatus: none yet).
const NO_AUDIT: i64 = 85012;

fn golive<'a>(ctx: &'a StepCtx<'_>) -> Option<&'a GoLive> {
    ctx.row.golive.as_deref()
}

fn version<'a>(ctx: &'a StepCtx<'_>) -> &'a str {
    golive(ctx).map(|g| g.code.user_version.as_str()).unwrap_or_default()
}

/// The newest audit, or `None` when the mini-program has none (85012).
async fn latest(ctx: &StepCtx<'_>) -> Result<Option<LatestAuditStatus>, StepError> {
    match ctx.api.call(&ctx.appid, &GetLatestAuditStatus {}).await {
        Ok(latest) => Ok(Some(latest)),
        Err(ApiError::WeChat { code: NO_AUDIT, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// In review with `audit_id`, asked about again after [`POLL_EVERY_SECS`].
fn in_review(ctx: &StepCtx<'_>, audit_id: i64, message: String) -> StepOutcome {
    StepOutcome {
        audit_id: Some(audit_id),
        not_before: Some(ctx.now.timestamp() + POLL_EVERY_SECS),
        ..StepOutcome::state(StepState::InReview, message)
    }
}

fn rejected(reason: &str, screenshots: &[String]) -> StepOutcome {
    StepOutcome {
        hint: Some(CODE_REJECTED_HINT.into()),
        ..StepOutcome::state(StepState::Failed, code_rejection(reason, screenshots))
    }
}

/// Where audit `audit_id` stands, as `get_auditstatus` or `get_latest_auditstatus` tell it.
fn judged(ctx: &StepCtx<'_>, audit_id: i64, audit: &AuditStatus) -> StepOutcome {
    let reason = audit.reason.as_str();
    match audit.state() {
        AuditState::Approved => StepOutcome {
            audit_id: Some(audit_id),
            ..StepOutcome::done(format!("approved by WeChat's audit (audit {audit_id})"))
        },
        AuditState::Rejected => StepOutcome { audit_id: Some(audit_id), ..rejected(reason, &audit.screenshots()) },
        AuditState::Delayed => in_review(ctx, audit_id, format!("{} (audit {audit_id})", code_delay(reason))),
        AuditState::InReview => in_review(ctx, audit_id, format!("in WeChat's audit (audit {audit_id})")),
        AuditState::Withdrawn => StepOutcome {
            audit_id: Some(audit_id),
            hint: Some(
                "Someone withdrew the audit (undocodeaudit or the console). Run again with --retry-failed to \
                 submit it again."
                    .into(),
            ),
            ..StepOutcome::state(StepState::Failed, format!("the audit {audit_id} was withdrawn"))
        },
        AuditState::Other(status) => in_review(
            ctx,
            audit_id,
            format!("WeChat answered an audit status wxprov does not know ({status}) for audit {audit_id}"),
        ),
    }
}

/// The submission an earlier try sent and never saw answered, if WeChat has it: the newest
/// audit is of this row's version and — when the send is recorded — was submitted since.
/// A try whose record was settled without the answer (its retries ran out) left no time: an
/// audit of this version in review or approved is taken as its submission, a rejected one is
/// not (`--retry-failed` submits again).
fn lost_submission(ctx: &StepCtx<'_>, latest: &LatestAuditStatus) -> bool {
    if latest.user_version != version(ctx) {
        return false;
    }
    match ctx.record.started_call_at() {
        Some(sent) => latest.submit_audit_time + CLOCK_SLACK_SECS >= sent,
        None => latest.audit.state().is_pending() || latest.audit.state() == AuditState::Approved,
    }
}

/// True when an earlier try of this input may have submitted: a call recorded as started,
/// or a try before this one (its answer lost and its retries spent).
fn tried_before(ctx: &StepCtx<'_>) -> bool {
    ctx.was_started() || ctx.record.attempts > 1
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    if golive(ctx).is_none() {
        return Ok(Decision::Skip("nothing asked".into()));
    }
    // `plan` reads a step in review without asking about it: the run asks, at most hourly.
    if let (StepState::InReview, Some(audit_id)) = (ctx.record.state, ctx.record.audit_id) {
        return Ok(Decision::Review {
            audit_id: Some(audit_id),
            message: format!("in WeChat's audit (audit {audit_id})"),
        });
    }
    if tried_before(ctx) {
        if let Some(found) = latest(ctx).await?.filter(|l| lost_submission(ctx, l)) {
            let id = found.auditid;
            return Ok(match judged(ctx, id, &found.audit) {
                StepOutcome { state: StepState::Done, .. } => Decision::Reconciled(format!(
                    "approved by WeChat's audit (audit {id}, submitted by an earlier run)"
                )),
                StepOutcome { state: StepState::Failed, message, hint, .. } => {
                    Decision::Fail { errcode: None, message: message.unwrap_or_default(), hint }
                }
                _ => Decision::Review {
                    audit_id: Some(id),
                    message: format!(
                        "in WeChat's audit (audit {id}, submitted by an earlier run whose answer was lost)"
                    ),
                },
            });
        }
    }
    let read = ctx.api.call(&ctx.appid, &QueryQuota {});
    match ctx.api.audit_pool.claim(&ctx.row.identity, read).await? {
        Claim::Granted { rest, limit } => Ok(Decision::Set(format!(
            "submit version {} for audit ({rest} of {limit} submissions left this month after it)",
            version(ctx)
        ))),
        Claim::Spent { limit } => Ok(quota_spent(ctx, limit)),
    }
}

/// Deferred: the platform's pool is spent.
fn quota_spent(ctx: &StepCtx<'_>, limit: i64) -> Decision {
    Decision::until(
        DeferUntil::AuditQuota,
        ctx.now,
        Some(QUOTA_SPENT),
        format!(
            "the platform's audit quota is spent (0 of {limit} left this month); submitted by the first run whose \
             queryquota shows some left / 本月提审额度已用完"
        ),
    )
}

/// The items to submit: the row's pages, or the code's first page, each with the first
/// approved category. `Err` with the outcome when there is nothing to name.
async fn items(ctx: &StepCtx<'_>) -> Result<Result<Vec<AuditItem>, StepOutcome>, StepError> {
    let categories = ctx.api.call(&ctx.appid, &GetAuditCategory {}).await?;
    let Some(category) = categories.category_list.first() else {
        return Ok(Err(StepOutcome::from_decision(Decision::fail(
            85008,
            "the mini-program has no approved category to name in the audit (get_category is empty)",
        ))));
    };
    let asked = golive(ctx).map(|g| g.audit.items.clone()).unwrap_or_default();
    if !asked.is_empty() {
        return Ok(Ok(asked.iter().map(|i| AuditItem::new(&i.address, &i.tag, &i.title, category)).collect()));
    }
    let pages = ctx.api.call(&ctx.appid, &GetPage {}).await?;
    let Some(page) = pages.page_list.first() else {
        return Ok(Err(StepOutcome::from_decision(Decision::fail(
            85007,
            "the committed code has no page to name in the audit (get_page is empty)",
        ))));
    };
    Ok(Ok(vec![AuditItem::new(page, "", "", category)]))
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(golive) = ctx.row.golive.clone() else { return Ok(StepOutcome::done("nothing asked")) };
    let identity = ctx.row.identity.clone();
    let item_list = match items(ctx).await {
        Ok(Ok(items)) => items,
        Ok(Err(outcome)) => {
            ctx.api.audit_pool.give_back(&identity).await;
            return Ok(outcome);
        }
        Err(e) => {
            ctx.api.audit_pool.give_back(&identity).await;
            return Err(e);
        }
    };
    let req = SubmitAudit {
        item_list,
        version_desc: golive.audit.version_desc.clone().unwrap_or_default(),
        ..Default::default()
    };
    ctx.mark_started(SubmitAudit::PATH, json!({ "user_version": golive.code.user_version })).await?;
    match ctx.api.call(&ctx.appid, &req).await {
        Ok(submitted) => {
            // Stored before anything else: the next run follows this audit whatever happens now.
            let id = submitted.auditid;
            let outcome = in_review(ctx, id, format!("submitted; in WeChat's audit (audit {id})"));
            let run_id = ctx.record.run_id.clone().unwrap_or_default();
            ctx.record.settle(&outcome, &run_id);
            ctx.ledger.save_step(&ctx.record).await?;
            Ok(outcome)
        }
        Err(ApiError::WeChat { code: AUDIT_RUNNING, .. }) => {
            ctx.api.audit_pool.give_back(&identity).await;
            running(ctx).await
        }
        Err(ApiError::WeChat { code: QUOTA_SPENT, .. }) => {
            ctx.api.audit_pool.spent(&identity).await;
            Ok(StepOutcome::from_decision(quota_spent(ctx, 0)))
        }
        // An answer lost is not a refusal: its place stays taken (the next try looks first).
        Err(e) if e.class() == wechat_open::errcode::ErrClass::Retry => Err(e.into()),
        Err(e) => {
            ctx.api.audit_pool.give_back(&identity).await;
            Err(e.into())
        }
    }
}

/// 85009: an audit is running. This row's (its `user_version`) is followed; anyone else's
/// blocks the step until it ends.
async fn running(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let latest = latest(ctx).await?;
    match latest {
        Some(l) if l.user_version == version(ctx) && l.audit.state().is_pending() => Ok(in_review(
            ctx,
            l.auditid,
            format!("following this version's audit already running (audit {})", l.auditid),
        )),
        other => {
            let whose = other
                .map(|l| format!("version {:?} (audit {})", l.user_version, l.auditid))
                .unwrap_or_else(|| "another version".into());
            Ok(StepOutcome::from_decision(Decision::Block {
                errcode: Some(AUDIT_RUNNING),
                message: format!(
                    "an audit of {whose} is running, not of this row's version {:?}: one audit at a time per \
                     mini-program / 已有其他版本正在审核",
                    version(ctx)
                ),
                hint: Some(
                    "Someone else's audit is running on this mini-program. Wait for it to end, or withdraw it \
                     (undocodeaudit or the console); the step is tried again on the next Beijing day."
                        .into(),
                ),
            }))
        }
    }
}

pub(crate) async fn poll(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(audit_id) = ctx.record.audit_id else {
        // In review without an id (an older record): the newest audit of this version.
        return match latest(ctx).await?.filter(|l| l.user_version == version(ctx)) {
            Some(l) => Ok(judged(ctx, l.auditid, &l.audit)),
            None => {
                Ok(StepOutcome::state(StepState::Pending, "no audit of this version found; the next run submits it"))
            }
        };
    };
    let status = ctx.api.call(&ctx.appid, &GetAuditStatus { auditid: audit_id }).await?;
    Ok(judged(ctx, audit_id, &status))
}
