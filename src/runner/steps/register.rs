//! The `register` step (复用公众号主体快速注册小程序): once the official account's admin has
//! scanned the `fastregisterauth` link and a ticket is known, `fastregister` with the
//! official account's token, then `api_query_auth` for the new mini-program's refresh token.
//!
//! What WeChat would refuse is checked locally first (five registrations this Beijing-time
//! month: 61055). The new appid and authorization code are written to the ledger before
//! anything else; the refresh token right after. A ticket is never resent within 5 s. When
//! an earlier `fastregister` got no answer, the mini-program is looked for through
//! `api_get_authorizer_list` before anything is sent again.

use std::time::Duration;

use serde_json::json;

use super::{StepCtx, StepError};
use crate::ledger::{now_secs, Registration, TicketKind};
use crate::runner::outcome::{Decision, StepOutcome};
use crate::wechat::api::{ApiQueryAuth, AuthorizerListItem, FastRegister, GetAccountBasicInfo};
use crate::wechat::Endpoint;

/// Registrations an official account may make in a month.
const MONTHLY_LIMIT: i64 = 5;
/// WeChat refuses the same ticket again within this long (61058).
const RESEND_GAP: Duration = Duration::from_secs(5);

fn official(ctx: &StepCtx<'_>) -> String {
    ctx.row.official_appid.clone().unwrap_or_default()
}

async fn ticket(ctx: &StepCtx<'_>) -> Result<Option<String>, StepError> {
    if let Some(t) = ctx.row.ticket.clone() {
        return Ok(Some(t));
    }
    Ok(ctx.ledger.newest_ticket(TicketKind::FastRegister, &official(ctx), 0).await?)
}

pub async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    let official = official(ctx);
    if let Some(appid) = ctx.ledger.row_appid(&ctx.row.identity).await? {
        if ctx.ledger.refresh_token(&appid).await?.is_some() {
            return Ok(Decision::Skip(format!("registered as {appid}")));
        }
    }
    let latest = ctx.ledger.latest_registration(&official).await?;
    if let Some(reg) = latest.as_ref().filter(|r| r.appid.is_some() && r.exchanged_at.is_none()) {
        return Ok(Decision::Set(format!(
            "finish the registration of {}: exchange its authorization code",
            reg.appid.as_deref().unwrap_or_default()
        )));
    }
    if ticket(ctx).await?.is_none() {
        return Ok(Decision::Wait(
            "waiting for the official account's admin to scan the link from `wxprov links`".into(),
        ));
    }
    if latest.as_ref().is_some_and(|r| r.appid.is_none()) {
        return Ok(Decision::Set("find out whether the earlier registration took effect, then finish it".into()));
    }
    let month_start = crate::beijing::month_start(chrono::Utc::now()).timestamp();
    let this_month = ctx.ledger.registrations_since(&official, month_start).await?;
    if this_month >= MONTHLY_LIMIT {
        return Ok(Decision::fail(
            61055,
            format!("{official} has registered {this_month} mini-programs this month (the limit is {MONTHLY_LIMIT})"),
        ));
    }
    Ok(Decision::Set(format!("register a mini-program with {official}'s qualification")))
}

pub async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let official = official(ctx);
    let latest = ctx.ledger.latest_registration(&official).await?;
    if let Some(reg) = latest.clone().filter(|r| r.appid.is_some() && r.exchanged_at.is_none()) {
        return exchange(ctx, &reg).await;
    }
    let Some(ticket) = ticket(ctx).await? else { return Ok(StepOutcome::from_decision(decide(ctx).await?)) };
    // An earlier attempt whose answer was lost (with this ticket or another): did it create
    // the mini-program? If so, that is the registration; never a second one.
    if let Some(earlier) = latest.filter(|r| r.appid.is_none()) {
        if let Some(outcome) = reconcile(ctx, &earlier).await? {
            return Ok(outcome);
        }
        ctx.ledger.registration_failed(&earlier.official_appid, &earlier.ticket).await?;
        if earlier.ticket == ticket {
            let wait = (earlier.sent_at + RESEND_GAP.as_secs() as i64 + 1 - now_secs()).max(0);
            tokio::time::sleep(Duration::from_secs(wait as u64)).await;
        }
    }
    ctx.mark_started(FastRegister::PATH, json!({ "official_appid": official })).await?;
    ctx.ledger.registration_sent(&official, &ticket).await?;
    let registered = match ctx.api.call(&official, &FastRegister { ticket: ticket.clone() }).await {
        Ok(registered) => registered,
        // WeChat answered: nothing was created. Only a lost answer stays "sent".
        Err(e) if !e.uncertain() => {
            ctx.ledger.registration_failed(&official, &ticket).await?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    ctx.ledger.registration_result(&official, &ticket, &registered.appid, Some(&registered.authorization_code)).await?;
    ctx.ledger.set_row_appid(&ctx.row.identity, &registered.appid).await?;
    ctx.ledger.use_ticket(TicketKind::FastRegister, &official, &ticket).await?;
    let reg = Registration {
        official_appid: official,
        ticket,
        appid: Some(registered.appid),
        authorization_code: Some(registered.authorization_code),
        sent_at: now_secs(),
        registered_at: Some(now_secs()),
        exchanged_at: None,
    };
    exchange(ctx, &reg).await
}

/// Exchanges a registration's authorization code for the new mini-program's refresh token.
async fn exchange(ctx: &mut StepCtx<'_>, reg: &Registration) -> Result<StepOutcome, StepError> {
    let appid = reg.appid.clone().unwrap_or_default();
    ctx.ledger.set_row_appid(&ctx.row.identity, &appid).await?;
    let code = reg.authorization_code.clone().unwrap_or_default();
    let req = ApiQueryAuth { component_appid: ctx.api.component_appid().to_string(), authorization_code: code };
    let (refresh, granted) = match ctx.api.call_component(&req).await {
        Ok(answer) => {
            let granted = answer.authorization_info.func_ids();
            (answer.authorization_info.authorizer_refresh_token, Some(granted))
        }
        // The code is single-use: a run that stopped after exchanging it but before storing
        // the refresh token finds it spent. The authorizer list still has the token.
        Err(e) if matches!(e.errcode(), Some(61009) | Some(61010)) => {
            match ctx.api.authorizers().await?.into_iter().find(|i| i.authorizer_appid == appid) {
                Some(item) => (item.refresh_token, None),
                None => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    ctx.api.tokens.store_refresh_token(&appid, &refresh, "register").await?;
    // The permission sets the new mini-program granted, for `check` (a spent code: unknown
    // here, `tokens recover` reads them).
    if let Some(granted) = granted {
        ctx.ledger.put_permissions(&appid, &granted, "register").await?;
    }
    ctx.ledger.registration_exchanged(&reg.official_appid, &reg.ticket).await?;
    ctx.appid = appid.clone();
    Ok(StepOutcome::done(format!("registered as {appid}")))
}

/// After a `fastregister` whose answer was lost: looks for a mini-program authorized since
/// it was sent, with the official account's principal, that wxprov did not know before it
/// was sent and that no row of the ledger accounts for. Found, it is recorded (the list
/// carries its refresh token) and the step is done. A refresh token stored since (by
/// `tokens recover`) does not hide it; one stored before rules it out.
async fn reconcile(ctx: &mut StepCtx<'_>, earlier: &Registration) -> Result<Option<StepOutcome>, StepError> {
    let principal = ctx.api.call(&earlier.official_appid, &GetAccountBasicInfo).await?.principal_name;
    let accounted = ctx.ledger.row_accounts().await?;
    let known = ctx.ledger.known_before(earlier.sent_at).await?;
    let found: Vec<AuthorizerListItem> = ctx
        .api
        .authorizers()
        .await?
        .into_iter()
        .filter(|i| i.auth_time == 0 || i.auth_time >= earlier.sent_at - 60)
        .filter(|i| i.authorizer_appid != earlier.official_appid)
        .filter(|i| !accounted.contains(&i.authorizer_appid) && !known.contains(&i.authorizer_appid))
        .collect();
    for item in found {
        ctx.api.tokens.store_refresh_token(&item.authorizer_appid, &item.refresh_token, "recover").await?;
        let info = ctx.api.call(&item.authorizer_appid, &GetAccountBasicInfo).await?;
        if info.principal_name == principal && info.account_type != 1 && info.account_type != 2 {
            let appid = item.authorizer_appid.clone();
            ctx.ledger.registration_result(&earlier.official_appid, &earlier.ticket, &appid, None).await?;
            ctx.ledger.registration_exchanged(&earlier.official_appid, &earlier.ticket).await?;
            ctx.ledger.set_row_appid(&ctx.row.identity, &appid).await?;
            ctx.ledger.use_ticket(TicketKind::FastRegister, &earlier.official_appid, &earlier.ticket).await?;
            ctx.appid = appid.clone();
            return Ok(Some(StepOutcome::done(format!(
                "registered as {appid} (found through api_get_authorizer_list after a lost answer)"
            ))));
        }
    }
    Ok(None)
}
