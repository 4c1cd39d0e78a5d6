//! `wxprov quota`: how many calls an API has left today for an appid
//! (`/cgi-bin/openapi/quota/get`), before a big run spends them.

use super::Context;
use crate::exit::{usage, Exit};
use crate::wechat::api::{self, Endpoint, QuotaGet};

/// Print the daily call quota left for an appid
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The mini-program (or official account)
    appid: String,
    /// API paths to ask about [default: every state-changing API wxprov calls]
    #[arg(value_name = "API_PATH")]
    paths: Vec<String>,
}

/// The APIs a run spends quota on.
pub fn default_paths() -> Vec<String> {
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

pub async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    if !crate::wechat::is_appid(&args.appid) {
        return Err(usage(format!("{:?} is not an appid (wx followed by 16 hex digits)", args.appid)));
    }
    let paths = if args.paths.is_empty() { default_paths() } else { args.paths };
    if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
        return Err(usage(format!("{bad:?} is not an API path; give one like /cgi-bin/account/modifysignature")));
    }
    let ledger = ctx.ledger_or_empty(None)?;
    let api = ctx.api(None, &ledger, None, Default::default()).await?;
    // All at once: the answers are independent, and tokens are shared safely.
    let requests: Vec<QuotaGet> = paths.iter().map(|p| QuotaGet { cgi_path: p.clone() }).collect();
    let answers = futures::future::join_all(requests.iter().map(|req| api.call(&args.appid, req))).await;
    println!("{:<45} {:>11} {:>8} {:>8}", "api", "daily_limit", "used", "remain");
    let mut failed = None;
    for (path, answer) in paths.iter().zip(answers) {
        match answer {
            Ok(q) => println!("{:<45} {:>11} {:>8} {:>8}", path, q.quota.daily_limit, q.quota.used, q.quota.remain),
            Err(e) => {
                println!("{path:<45} error: {e}");
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(Exit::Ok),
    }
}
