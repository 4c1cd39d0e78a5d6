//! `wxprov quota`: how many calls an API has left today, and the rate limit WeChat states for
//! it (`/cgi-bin/openapi/quota/get`: `quota`, `rate_limit`, `component_rate_limit`), before a
//! big run spends them. Each path is asked with the token of the account that calls it: the
//! official account's for `fastregister`, the mini-program's for the rest.

use super::Context;
use crate::exit::{usage, Exit};
use wechat_open::api::{self, Endpoint, QuotaGet, QuotaInfo, RateLimit};
use wechat_open::appid::{self, Appid};

/// Print the daily call quota left and WeChat's rate limits for an appid
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The mini-program (or official account)
    appid: String,
    /// API paths to ask about [default: every state-changing API wxprov calls]
    #[arg(value_name = "API_PATH")]
    paths: Vec<String>,
    /// The official account that asks about the APIs it calls (fastregister) [default: the
    /// mini-program's official account in the ledger, else APPID]
    #[arg(long, value_name = "APPID")]
    official_appid: Option<String>,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
}

/// The APIs a run spends quota on.
pub(super) fn default_paths() -> Vec<String> {
    [
        api::FastRegister::PATH,
        api::CheckWxVerifyNickname::PATH,
        api::SetNickname::PATH,
        api::ModifyHeadImage::PATH,
        api::ModifySignature::PATH,
        api::AddCategory::PATH,
        api::DeleteCategory::PATH,
        api::ComponentRebindAdmin::PATH,
        api::MEDIA_UPLOAD_PATH,
    ]
    .iter()
    .map(|p| p.to_string())
    .collect()
}

/// The APIs an official account calls (with its own token) rather than the mini-program.
const OFFICIAL_ACCOUNT_PATHS: [&str; 1] = [api::FastRegister::PATH];

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let appid = parse_appid(&args.appid)?;
    let official_arg = args.official_appid.as_deref().map(parse_appid).transpose()?;
    let paths = if args.paths.is_empty() { default_paths() } else { args.paths };
    if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
        return Err(usage(format!("{bad:?} is not an API path; give one like /cgi-bin/account/modifysignature")));
    }
    let ledger = ctx.ledger_or_empty(None)?;
    let official = match official_arg {
        Some(official) => official.to_string(),
        None => ledger.official_appid_of(appid.as_str()).await?.unwrap_or_else(|| appid.to_string()),
    };
    let api = ctx.api(None, &ledger, None, Default::default()).await?;
    let asked: Vec<(&String, &str)> = paths
        .iter()
        .map(|p| (p, if OFFICIAL_ACCOUNT_PATHS.contains(&p.as_str()) { official.as_str() } else { appid.as_str() }))
        .collect();
    // All at once: the answers are independent, and tokens are shared safely.
    let requests: Vec<QuotaGet> = paths.iter().map(|p| QuotaGet { cgi_path: p.clone() }).collect();
    let answers =
        futures::future::join_all(requests.iter().zip(&asked).map(|(req, (_, appid))| api.call(appid, req))).await;
    println!("{}", line("api", "asked with", ["daily_limit", "used", "remain", "rate_limit", "component_rate_limit"]));
    let mut failed = None;
    for ((path, appid), answer) in asked.iter().zip(answers) {
        match answer {
            Ok(q) => println!("{}", line(path, appid, columns(&q).each_ref().map(String::as_str))),
            Err(e) => {
                println!("{path:<45} {appid:<18} error: {e}");
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(Exit::Ok),
    }
}

/// An appid argument, by the one rule ([`Appid::parse`]); a usage error otherwise.
fn parse_appid(text: &str) -> anyhow::Result<Appid> {
    Appid::parse(text).map_err(|_| usage(format!("{text:?} is not an appid ({})", appid::FORM)))
}

/// One line of the table.
fn line(path: &str, appid: &str, [limit, used, remain, rate, component]: [&str; 5]) -> String {
    format!("{path:<45} {appid:<18} {limit:>11} {used:>8} {remain:>8} {rate:>11} {component:>20}")
}

/// An answer's columns: `-` where WeChat states no rate limit.
fn columns(q: &QuotaInfo) -> [String; 5] {
    let rate = |r: Option<RateLimit>| r.map_or_else(|| "-".to_string(), |r| r.to_string());
    [
        q.quota.daily_limit.to_string(),
        q.quota.used.to_string(),
        q.quota.remain.to_string(),
        rate(q.rate_limit),
        rate(q.component_rate_limit),
    ]
}
