//! The `categories` step: bring the account's categories to what the row asks — add the
//! missing ones with their certificates (`addcategory`), fix rejected ones
//! (`modifycategory`), remove the ones marked `-` (`deletecategory`) — within the monthly
//! quota `getcategory` shows. Sensitive categories go through WeChat's audit; the step stays
//! in review until every asked category is approved or one is rejected.

use serde_json::json;

use super::{load_image, StepCtx, StepError};
use crate::ledger::StepState;
use crate::lifecycle::{Decision, StepOutcome};
use crate::manifest::{CategoryAdd, CategoryChange};
use wechat_open::api::Endpoint;
use wechat_open::api::{
    AccountCategories, AddCategory, CategoryToAdd, Certificate, DeleteCategory, GetCategory, ModifyCategory,
};

/// `audit_status` values of `getcategory`.
const REVIEWING: i64 = 1;
const REJECTED: i64 = 2;

/// What is left to do, from live state.
struct Todo<'a> {
    add: Vec<&'a CategoryAdd>,
    fix: Vec<&'a CategoryAdd>,
    remove: Vec<(i64, i64)>,
}

fn todo<'a>(change: &'a CategoryChange, live: &AccountCategories) -> Todo<'a> {
    let find = |first: i64, second: i64| live.categories.iter().find(|c| (c.first, c.second) == (first, second));
    let mut t = Todo { add: vec![], fix: vec![], remove: vec![] };
    for add in &change.add {
        match find(add.first, add.second) {
            None => t.add.push(add),
            Some(c) if c.audit_status == REJECTED && !add.certificates.is_empty() => t.fix.push(add),
            Some(_) => {}
        }
    }
    t.remove = change.remove.iter().copied().filter(|&(f, s)| find(f, s).is_some()).collect();
    t
}

/// Where the asked categories stand once nothing is left to send.
fn settled(ctx: &StepCtx<'_>, change: &CategoryChange, live: &AccountCategories) -> Decision {
    let asked: Vec<_> = change
        .add
        .iter()
        .filter_map(|a| live.categories.iter().find(|c| (c.first, c.second) == (a.first, a.second)))
        .collect();
    if let Some(rejected) = asked.iter().find(|c| c.audit_status == REJECTED) {
        return Decision::Fail {
            errcode: None,
            message: format!(
                "WeChat rejected category {}/{} ({}/{}): {}",
                rejected.first, rejected.second, rejected.first_name, rejected.second_name, rejected.audit_reason
            ),
            hint: Some("Give the certificate the reason asks for in the categories cell, then run again.".into()),
        };
    }
    if asked.iter().any(|c| c.audit_status == REVIEWING) {
        return Decision::Review { audit_id: None, message: "categories in WeChat's audit".into() };
    }
    ctx.already_so("the categories are already as asked")
}

/// Categories the sheet names that could not be resolved: the category tree was unreadable
/// when the run started. The tree is asked for with this account's token, so an account
/// without one is `blocked` with the token's hint (no call is sent), and any other failure
/// is judged as that call's error. A tree readable now resolves the names at the next run.
async fn waiting_for_tree(ctx: &StepCtx<'_>, unresolved: &[String]) -> Result<Decision, StepError> {
    ctx.api.all_categories(&ctx.appid).await?;
    Ok(Decision::Defer {
        not_before: ctx.now.timestamp(),
        errcode: None,
        message: format!(
            "the category names {} could not be resolved: the category tree was unreadable when the run started; \
             the next run resolves them",
            unresolved.join(";")
        ),
    })
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let Some(change) = &ctx.row.categories else { return Ok(Decision::Skip("nothing asked".into())) };
    if !change.unresolved.is_empty() {
        return waiting_for_tree(ctx, &change.unresolved).await;
    }
    let live = ctx.api.call(&ctx.appid, &GetCategory).await?;
    ctx.live.categories = Some(live.clone());
    let t = todo(change, &live);
    if t.add.is_empty() && t.fix.is_empty() && t.remove.is_empty() {
        return Ok(settled(ctx, change, &live));
    }
    if !t.add.is_empty() && live.limit > 0 && live.quota <= 0 {
        return Ok(Decision::next_month(
            ctx.now,
            Some(53300),
            format!("this month's category changes are spent (0 of {} left) / 超出每月次数限制", live.limit),
        ));
    }
    let after = live.categories.len() + t.add.len() - t.remove.len();
    if live.category_limit > 0 && after as i64 > live.category_limit {
        return Ok(Decision::fail(
            53301,
            format!("the account would have {after} categories; WeChat allows {}", live.category_limit),
        ));
    }
    let list = |v: &[&CategoryAdd]| v.iter().map(|a| format!("{}/{}", a.first, a.second)).collect::<Vec<_>>().join(" ");
    let mut parts = vec![];
    if !t.add.is_empty() {
        parts.push(format!("add {}", list(&t.add)));
    }
    if !t.fix.is_empty() {
        parts.push(format!("resubmit {}", list(&t.fix)));
    }
    if !t.remove.is_empty() {
        parts
            .push(format!("remove {}", t.remove.iter().map(|(f, s)| format!("{f}/{s}")).collect::<Vec<_>>().join(" ")));
    }
    Ok(Decision::Set(format!("{} ({} of {} changes left this month)", parts.join("; "), live.quota, live.limit)))
}

async fn certificates(ctx: &StepCtx<'_>, add: &CategoryAdd) -> Result<Vec<Certificate>, StepError> {
    let mut certs = Vec::new();
    for cert in &add.certificates {
        let media = ctx.api.media_id(&ctx.appid, &load_image(&cert.image.path)?).await?;
        certs.push(Certificate { key: cert.name.clone(), value: media });
    }
    Ok(certs)
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(change) = ctx.row.categories.clone() else { return Ok(StepOutcome::done("nothing asked")) };
    let live = ctx.account_categories().await?;
    let t = todo(&change, &live);
    // Upload first: nothing is started until every certificate has a media id.
    let mut adds = Vec::new();
    for add in &t.add {
        adds.push(CategoryToAdd { first: add.first, second: add.second, certicates: certificates(ctx, add).await? });
    }
    let mut fixes = Vec::new();
    for fix in &t.fix {
        fixes.push(ModifyCategory { first: fix.first, second: fix.second, certicates: certificates(ctx, fix).await? });
    }
    // The first call sent waits for the record.
    let mut started = Some(ctx.mark_started(AddCategory::PATH, json!({ "quota": live.quota })));
    // Removals first, to make room.
    for &(first, second) in &t.remove {
        ctx.api.call_after(&ctx.appid, &DeleteCategory { first, second }, started.take()).await?;
    }
    if !adds.is_empty() {
        ctx.api.call_after(&ctx.appid, &AddCategory { categories: adds }, started.take()).await?;
    }
    for fix in &fixes {
        ctx.api.call_after(&ctx.appid, fix, started.take()).await?;
    }
    if let Some(started) = started {
        started.await?;
    }
    // Categories without certificates are not audited: WeChat's yes is the outcome. Any
    // with certificates go through the audit, which getcategory follows.
    if fixes.is_empty() && t.add.iter().all(|a| a.certificates.is_empty()) {
        return Ok(StepOutcome::done("categories set"));
    }
    poll(ctx).await
}

pub(crate) async fn poll(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(change) = ctx.row.categories.clone() else { return Ok(StepOutcome::done("nothing asked")) };
    let live = ctx.api.call(&ctx.appid, &GetCategory).await?;
    let t = todo(&change, &live);
    // A rejection seen while following the audit settles the step as failed (below): it is
    // resubmitted only when the row's input changes, never on every run.
    if !(t.add.is_empty() && t.remove.is_empty()) {
        // Something asked is still missing (a removal or addition WeChat did not keep).
        return Ok(StepOutcome::state(StepState::Pending, "categories not yet as asked; the next run continues"));
    }
    Ok(match settled(ctx, &change, &live) {
        Decision::Skip(_) | Decision::Reconciled(_) => StepOutcome::done("categories as asked"),
        other => StepOutcome::from_decision(other),
    })
}
