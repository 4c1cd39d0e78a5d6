//! The `register` step (复用公众号主体快速注册小程序): once the official account's admin has
//! scanned the `fastregisterauth` link and a ticket is known, `fastregister` with the
//! official account's token, then `api_query_auth` for the new mini-program's refresh token.
//!
//! What WeChat would refuse is checked locally first (five registrations this Beijing-time
//! month: 61055). The new appid and authorization code are written to the ledger before
//! anything else; the refresh token right after. A ticket is never resent within 5 s.
//!
//! An answer that leaves open whether the mini-program was created (61058, −1, a timeout, a
//! dropped connection, a run that stopped after the send) is reconciled through
//! `api_get_authorizer_list` before anything is sent again or a new scan is asked for
//! (DESIGN §4): one candidate is the registration, two or more block the row for a person to
//! choose. 61055 (the month's registrations are spent) drops the stored ticket, which will
//! be stale by then, and leaves the row waiting until the first of next month.

use std::time::Duration;

use serde_json::json;

use super::{StepCtx, StepError};
use crate::ledger::{now_secs, Registration, StepState, TicketKind};
use crate::lifecycle::{Decision, StepOutcome};
use crate::wechat::errcode;
use wechat_open::api::{ApiGetAuthorizerInfo, ApiQueryAuth, FastRegister};
use wechat_open::secret::Secret;
use wechat_open::{api::Endpoint, errcode::ErrClass, ApiError};

/// Registrations an official account may make in a month.
const MONTHLY_LIMIT: i64 = 5;
/// WeChat refuses the same ticket again within this long (61058).
const RESEND_GAP: Duration = Duration::from_secs(5);
/// How much earlier than our recorded send WeChat's `auth_time` of the new mini-program may
/// be and still count: the two clocks are not the same clock.
const CLOCK_SLACK_SECS: i64 = 60;
/// The official account's registrations this month are spent (DESIGN §5).
const MONTH_SPENT: i64 = 61055;
/// The scan ticket was refused — or a registration that took effect lost its answer and its
/// retry met the used ticket.
const TICKET_REFUSED: i64 = 61058;

fn official(ctx: &StepCtx<'_>) -> String {
    ctx.row.official_appid.clone().unwrap_or_default()
}

/// True while the step waits for next month after 61055: the tickets it had then are stale.
fn month_wait(ctx: &StepCtx<'_>) -> bool {
    ctx.record.state == StepState::Waiting && ctx.record.errcode == Some(MONTH_SPENT)
}

/// The ticket to register with: the row's own, else the newest `serve` stored. After a
/// 61055 wait only a ticket received since the month began counts (the row's own, from
/// before, is stale: a fresh one pasted in its place changes the step's input).
async fn ticket(ctx: &StepCtx<'_>) -> Result<Option<String>, StepError> {
    let since = if month_wait(ctx) {
        wechat_open::beijing::month_start(ctx.now).timestamp()
    } else if let Some(t) = ctx.row.ticket.clone() {
        return Ok(Some(t));
    } else {
        0
    };
    Ok(ctx.ledger.newest_ticket(TicketKind::FastRegister, &official(ctx), since).await?)
}

pub(crate) async fn decide(ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
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
    if latest.as_ref().is_some_and(|r| r.appid.is_none()) {
        return Ok(Decision::Set("find out whether the earlier registration took effect, then finish it".into()));
    }
    if ticket(ctx).await?.is_none() {
        return Ok(Decision::Wait(
            "waiting for the official account's admin to scan the link from `wxprov links`".into(),
        ));
    }
    if let Some(spent) = month_full(ctx).await? {
        return Ok(spent);
    }
    Ok(Decision::Set(format!("register a mini-program with {official}'s qualification")))
}

/// Waiting until next month when the ledger shows the official account's registrations for
/// this Beijing-time month spent (what WeChat would answer with 61055).
async fn month_full(ctx: &StepCtx<'_>) -> Result<Option<Decision>, StepError> {
    let official = official(ctx);
    let month_start = wechat_open::beijing::month_start(ctx.now).timestamp();
    let this_month = ctx.ledger.registrations_since(&official, month_start).await?;
    Ok(month_full_wait(&official, this_month, ctx.now))
}

/// Waiting until the first of the Beijing-time month after `now` once `this_month`
/// registrations of `official` reach the monthly limit; `None` below it.
fn month_full_wait(official: &str, this_month: i64, now: chrono::DateTime<chrono::Utc>) -> Option<Decision> {
    if this_month < MONTHLY_LIMIT {
        return None;
    }
    let not_before = wechat_open::beijing::next_month(now).timestamp();
    Some(Decision::WaitUntil {
        not_before,
        errcode: Some(MONTH_SPENT),
        message: format!(
            "{official} has registered {this_month} mini-programs this month (the limit is {MONTHLY_LIMIT}); waiting \
             until {}",
            wechat_open::beijing::show(Some(not_before))
        ),
        hint: errcode::lookup(MONTH_SPENT).map(|e| e.hint.to_string()),
    })
}

pub(crate) async fn apply(ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    let official = official(ctx);
    let latest = ctx.ledger.latest_registration(&official).await?;
    if let Some(reg) = latest.clone().filter(|r| r.appid.is_some() && r.exchanged_at.is_none()) {
        return exchange(ctx, &reg).await;
    }
    // An earlier attempt whose answer was lost (with this ticket or another; the run may have
    // stopped after the send): did it create the mini-program? If so, that is the
    // registration; never a second one.
    if let Some(earlier) = latest.filter(|r| r.appid.is_none()) {
        if let Some(outcome) = reconcile(ctx, &earlier, None).await? {
            return Ok(outcome);
        }
        ctx.ledger.registration_failed(&earlier.official_appid, &earlier.ticket).await?;
        if ticket(ctx).await?.as_deref() == Some(earlier.ticket.as_str()) {
            let wait = (earlier.sent_at + RESEND_GAP.as_secs() as i64 + 1 - now_secs()).max(0);
            tokio::time::sleep(Duration::from_secs(wait as u64)).await;
        }
    }
    let Some(ticket) = ticket(ctx).await? else { return Ok(StepOutcome::from_decision(decide(ctx).await?)) };
    if let Some(Decision::WaitUntil { not_before, errcode, message, hint }) = month_full(ctx).await? {
        // The ticket will be stale by next month.
        ctx.ledger.use_ticket(TicketKind::FastRegister, &official, &ticket).await?;
        let message = format!("{message} (the stored ticket was dropped)");
        return Ok(StepOutcome::from_decision(Decision::WaitUntil { not_before, errcode, message, hint }));
    }
    let sent_at = now_secs();
    // Awaited here: the registration's own record follows it.
    ctx.mark_started(FastRegister::PATH, json!({ "official_appid": official })).await?;
    ctx.ledger.registration_sent(&official, &ticket).await?;
    let sent = Registration {
        official_appid: official.clone(),
        ticket: ticket.clone(),
        appid: None,
        authorization_code: None,
        sent_at,
        registered_at: None,
        exchanged_at: None,
    };
    let registered = match ctx.api.call(&official, &FastRegister { ticket: ticket.clone() }).await {
        Ok(registered) => registered,
        // A refused ticket may be the retry of a registration that took effect without its
        // answer reaching us: look for it before asking the merchant for a new scan.
        Err(e) if e.errcode() == Some(TICKET_REFUSED) => {
            if let Some(outcome) = reconcile(ctx, &sent, Some(&e)).await? {
                return Ok(outcome);
            }
            ctx.ledger.registration_failed(&official, &ticket).await?;
            return Err(e.into());
        }
        Err(e) if e.errcode() == Some(MONTH_SPENT) => {
            ctx.ledger.registration_failed(&official, &ticket).await?;
            return month_spent(ctx, &ticket, e.to_string()).await;
        }
        // WeChat answered: nothing was created. Only a lost answer stays "sent", for the
        // next try (or run) to reconcile.
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
        appid: Some(registered.appid),
        authorization_code: Some(registered.authorization_code),
        registered_at: Some(now_secs()),
        ..sent
    };
    exchange(ctx, &reg).await
}

/// The month's registrations of the official account are spent (WeChat's 61055, or the
/// ledger's count): the ticket will be stale by next month, so it is dropped, and the step
/// waits for the first of next month, Beijing time.
async fn month_spent(ctx: &StepCtx<'_>, ticket: &str, why: String) -> Result<StepOutcome, StepError> {
    ctx.ledger.use_ticket(TicketKind::FastRegister, &official(ctx), ticket).await?;
    let not_before = wechat_open::beijing::next_month(ctx.now).timestamp();
    Ok(StepOutcome {
        errcode: Some(MONTH_SPENT),
        hint: errcode::lookup(MONTH_SPENT).map(|e| e.hint.to_string()),
        not_before: Some(not_before),
        ..StepOutcome::state(
            StepState::Waiting,
            format!(
                "{why}; waiting until {} (the stored ticket was dropped)",
                wechat_open::beijing::show(Some(not_before))
            ),
        )
    })
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

/// A mini-program that may be the registration being reconciled.
struct Candidate {
    appid: String,
    refresh: Option<Secret>,
    /// The permission sets it granted (`func_info`), for `check`.
    granted: Vec<i64>,
}

/// After a `fastregister` whose answer left open whether it took effect (`answer`: the error
/// it met, `None` when it got none): the candidates are the authorizers of
/// `api_get_authorizer_list` first authorized since it was sent, that are mini-programs with
/// the official account's principal (read with `api_get_authorizer_info` on the component
/// token, for the official account too), that no row of the ledger accounts for and whose
/// refresh token the ledger did not hold before the send (a token stored since, by `tokens
/// recover`, does not hide one). A candidate whose read answers an error (41033 for an
/// account not created by the platform, 48001, 61003…) is skipped; a transient failure is
/// not, since it could hide the registration.
///
/// One candidate is the registration: it is recorded with its refresh token and the step is
/// done. Two or more block the step with their appids for a person to choose, and nothing is
/// sent again meanwhile. `None`: none, the registration did not happen.
async fn reconcile(
    ctx: &mut StepCtx<'_>,
    earlier: &Registration,
    answer: Option<&ApiError>,
) -> Result<Option<StepOutcome>, StepError> {
    let official = earlier.official_appid.clone();
    let principal = authorizer_info(ctx, &official).await?.authorizer_info.principal_name;
    let accounted = ctx.ledger.row_accounts().await?;
    let known = ctx.ledger.known_before(earlier.sent_at).await?;
    let listed: Vec<_> = ctx
        .api
        .authorizers()
        .await?
        .into_iter()
        .filter(|i| i.auth_time == 0 || i.auth_time >= earlier.sent_at - CLOCK_SLACK_SECS)
        .filter(|i| i.authorizer_appid != official)
        .filter(|i| !accounted.contains(&i.authorizer_appid) && !known.contains(&i.authorizer_appid))
        .collect();
    let mut found = Vec::new();
    for item in listed {
        let info = match authorizer_info(ctx, &item.authorizer_appid).await {
            Ok(info) => info,
            Err(StepError::Api(e @ ApiError::WeChat { .. }))
                if matches!(e.class(), ErrClass::Human | ErrClass::Blocked) =>
            {
                tracing::debug!("line {}: {} is no candidate: {e}", ctx.row.line, item.authorizer_appid);
                continue;
            }
            Err(e) => return Err(e),
        };
        if info.authorizer_info.principal_name != principal || !info.authorizer_info.is_mini_program() {
            continue;
        }
        let usable = |t: &Secret| !t.expose().is_empty();
        let from_info = info.authorization_info.authorizer_refresh_token.clone().filter(usable);
        let refresh = from_info.or(Some(item.refresh_token).filter(usable));
        let granted = wechat_open::api::func_ids(&info.authorization_info.func_info);
        found.push(Candidate { appid: item.authorizer_appid, refresh, granted });
    }
    let after = match answer {
        Some(e) => {
            format!("after fastregister answered {}", e.errcode().map_or_else(|| e.to_string(), |c| c.to_string()))
        }
        None => "after fastregister's answer was lost".to_string(),
    };
    match found.len() {
        0 => Ok(None),
        1 => {
            let Candidate { appid, refresh, granted } = found.remove(0);
            ctx.ledger.registration_result(&official, &earlier.ticket, &appid, None).await?;
            ctx.ledger.set_row_appid(&ctx.row.identity, &appid).await?;
            if let Some(refresh) = refresh {
                ctx.api.tokens.store_refresh_token(&appid, &refresh, "register").await?;
            }
            ctx.ledger.put_permissions(&appid, &granted, "register").await?;
            ctx.ledger.registration_exchanged(&official, &earlier.ticket).await?;
            ctx.ledger.use_ticket(TicketKind::FastRegister, &official, &earlier.ticket).await?;
            ctx.appid = appid.clone();
            Ok(Some(StepOutcome::done(format!(
                "registered as {appid} (found through api_get_authorizer_list {after})"
            ))))
        }
        n => {
            let mut appids: Vec<&str> = found.iter().map(|c| c.appid.as_str()).collect();
            appids.sort_unstable();
            let list = appids.join(", ");
            Ok(Some(StepOutcome {
                errcode: answer.and_then(ApiError::errcode),
                hint: Some(format!(
                    "{n} mini-programs with {official}'s principal were authorized to the platform since \
                     fastregister was sent: {list}. Find out which one this row registered (mp.weixin.qq.com, or \
                     ask the merchant), put its appid in the row's appid column and run again (`wxprov tokens \
                     recover` fetches its refresh token). wxprov sends no new registration for this row meanwhile."
                )),
                ..StepOutcome::state(
                    StepState::Blocked,
                    format!("the registration {after} may be any of {list}: a person must choose"),
                )
            }))
        }
    }
}

/// `api_get_authorizer_info` for `appid`, with the component's token.
async fn authorizer_info(ctx: &StepCtx<'_>, appid: &str) -> Result<wechat_open::api::AuthorizerInfo, StepError> {
    let req = ApiGetAuthorizerInfo {
        component_appid: ctx.api.component_appid().to_string(),
        authorizer_appid: appid.to_string(),
    };
    Ok(ctx.api.call_component(&req).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn a_full_month_waits_for_the_next_beijing_month_and_flips_exactly_at_midnight() {
        let official = "wx2222222222222222";
        let waits_until = |now| match month_full_wait(official, MONTHLY_LIMIT, now) {
            Some(Decision::WaitUntil { not_before, errcode, .. }) => (not_before, errcode),
            other => panic!("{other:?}"),
        };
        // 2026-03-31 23:59:59 Beijing time (UTC+8): the month's count resets at the coming
        // midnight, 2026-04-01 00:00 Beijing time.
        let last = Utc.with_ymd_and_hms(2026, 3, 31, 15, 59, 59).unwrap();
        let april = Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap();
        assert_eq!(waits_until(last), (april.timestamp(), Some(MONTH_SPENT)));
        // A second later April has begun: a full April waits for May.
        let may = Utc.with_ymd_and_hms(2026, 4, 30, 16, 0, 0).unwrap();
        assert_eq!(waits_until(april), (may.timestamp(), Some(MONTH_SPENT)));
        // The month whose registrations are counted begins at that midnight too.
        assert_eq!(wechat_open::beijing::month_start(last), Utc.with_ymd_and_hms(2026, 2, 28, 16, 0, 0).unwrap());
        assert_eq!(wechat_open::beijing::month_start(april), april);
        assert!(month_full_wait(official, MONTHLY_LIMIT - 1, last).is_none(), "a registration is left");
    }
}
