//! The `domains` step (DESIGN §9): the server domains (`modify_domain`) and the business
//! domains (`setwebviewdomain`) by the platform's list ("method one", golive.md §2). Each type
//! the row names is set to exactly its list; the types it does not name keep what `get`
//! returned — `set` replaces all six lists, so the merged full lists are sent. Nothing is sent
//! when the account already has them. A domain WeChat refuses (`invalid_*`, `no_icp_domain`,
//! 85301–85303) fails the step naming it: the sheet or the domain's filing must change.

use serde_json::json;

use super::{StepCtx, StepError};
use crate::golive::{DomainType, DomainsChange};
use crate::lifecycle::{Decision, StepOutcome};
use wechat_open::api::Endpoint;
use wechat_open::golive::domain::{DomainAction, ModifyDomain, ServerDomains, SetWebviewDomain};
use wechat_open::ApiError;

/// The client's list of `kind`.
fn list_of(domains: &mut ServerDomains, kind: DomainType) -> &mut Vec<String> {
    match kind {
        DomainType::Request => &mut domains.requestdomain,
        DomainType::Ws => &mut domains.wsrequestdomain,
        DomainType::Upload => &mut domains.uploaddomain,
        DomainType::Download => &mut domains.downloaddomain,
        DomainType::Udp => &mut domains.udpdomain,
        DomainType::Tcp => &mut domains.tcpdomain,
    }
}

/// Two lists name the same domains (WeChat may answer them in another order).
fn same(a: &[String], b: &[String]) -> bool {
    let norm = |l: &[String]| {
        let mut l: Vec<String> = l.iter().map(|d| d.to_ascii_lowercase()).collect();
        l.sort();
        l
    };
    norm(a) == norm(b)
}

/// What the row asks of the account, given what it has now.
struct Todo {
    /// The six lists to send, when a named type differs: the row's for the types it names,
    /// the live ones for the others.
    server: Option<ServerDomains>,
    /// The business domains to set, when they differ.
    webview: Option<Vec<String>>,
    /// The types that change, for the words.
    changes: Vec<String>,
}

async fn todo(ctx: &StepCtx<'_>, change: &DomainsChange) -> Result<(Todo, serde_json::Value), StepError> {
    let mut t = Todo { server: None, webview: None, changes: vec![] };
    let mut before = json!({});
    if let Some(asked) = &change.server {
        let live = ctx.api.call(&ctx.appid, &ModifyDomain::get()).await?.domains;
        before["server"] = json!(live);
        let mut merged = live.clone();
        for (kind, list) in &asked.0 {
            let slot = list_of(&mut merged, *kind);
            if !same(slot, list) {
                *slot = list.clone();
                t.changes.push(kind.to_string());
            }
        }
        if !t.changes.is_empty() {
            t.server = Some(merged);
        }
    }
    if let Some(asked) = &change.webview {
        let live = ctx.api.call(&ctx.appid, &SetWebviewDomain::get()).await?.webviewdomain;
        before["webview"] = json!(live);
        if !same(&live, asked) {
            t.webview = Some(asked.clone());
            t.changes.push("webview".into());
        }
    }
    Ok((t, before))
}

fn change(ctx: &StepCtx<'_>) -> Option<DomainsChange> {
    ctx.row.golive.as_ref().and_then(|g| g.domains.clone())
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let Some(change) = change(ctx) else { return Ok(Decision::Skip("no domains asked".into())) };
    let (t, _) = todo(ctx, &change).await?;
    if t.changes.is_empty() {
        return Ok(ctx.already_so("the domains are already as asked"));
    }
    Ok(Decision::Set(format!("set the {} domains", t.changes.join(", "))))
}

/// 85301–85303: the set was refused whole; the error's message names the domains.
const REFUSED: std::ops::RangeInclusive<i64> = 85301..=85303;

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let Some(change) = change(ctx) else { return Ok(StepOutcome::done("no domains asked")) };
    let (t, before) = todo(ctx, &change).await?;
    if t.changes.is_empty() {
        return Ok(StepOutcome::from_decision(ctx.already_so("the domains are already as asked")));
    }
    ctx.mark_started(ModifyDomain::PATH, before).await?;
    if let Some(server) = t.server {
        match ctx.api.call(&ctx.appid, &ModifyDomain::change(DomainAction::Set, server)).await {
            Ok(answer) => {
                let refused = answer.refused();
                if !refused.is_empty() {
                    let named: Vec<String> = refused.iter().map(|(field, d)| format!("{d} ({field})")).collect();
                    return Ok(StepOutcome::from_decision(Decision::Fail {
                        errcode: None,
                        message: format!("WeChat refused the server domains {}", named.join(", ")),
                        hint: Some(REFUSED_HINT.into()),
                    }));
                }
            }
            Err(ApiError::WeChat { code, message, .. }) if REFUSED.contains(&code) => {
                return Ok(StepOutcome::from_decision(Decision::fail(
                    code,
                    format!("WeChat set no server domain: {message}"),
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(webview) = t.webview {
        ctx.api.call(&ctx.appid, &SetWebviewDomain::change(DomainAction::Set, webview)).await?;
    }
    Ok(StepOutcome::done(format!("set the {} domains", t.changes.join(", "))))
}

const REFUSED_HINT: &str = "Fix or remove the domains named (each must be ICP-filed, https:// or wss:// as its \
    type asks, a host name and not an IP address) in the server_domains cell or the job's [golive], then run again.";
