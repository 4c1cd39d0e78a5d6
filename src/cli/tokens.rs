//! `wxprov tokens`: the authorizer refresh tokens wxprov keeps in the ledger. Import the
//! ones a platform already has, list them (never the secrets), and recover lost ones through
//! `api_get_authorizer_list`.

use std::path::PathBuf;

use super::status::time;
use super::Context;
use crate::exit::{usage, Exit};
use crate::ledger::Ledger;
use crate::wechat::Hint;
use wechat_open::appid::{self, Appid};
use wechat_open::secret::Secret;
use wechat_open::{errcode::ErrClass, ApiError};

/// Import, list or recover authorizer refresh tokens
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Import refresh tokens from a CSV of `appid,refresh_token` (a header line is optional),
    /// with an optional third column `func_info`: the permission set ids the account granted,
    /// separated by `;` or spaces (e.g. `17;18;30;31`)
    Import {
        /// The CSV file
        file: PathBuf,
        #[command(flatten)]
        ledger: super::LedgerOpt,
        #[command(flatten)]
        log: super::LogOpts,
    },
    /// List the stored tokens: appid, kind, source and dates, never the secrets
    List {
        #[command(flatten)]
        ledger: super::LedgerOpt,
        #[command(flatten)]
        log: super::LogOpts,
    },
    /// Fetch every authorizer's refresh token from WeChat and store the ones missing here,
    /// with the permission sets (api_get_authorizer_info) of those stored now and of those
    /// whose sets the ledger does not know
    Recover {
        /// Replace stored refresh tokens too, not only the missing ones
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        ledger: super::LedgerOpt,
        #[command(flatten)]
        log: super::LogOpts,
    },
}

impl Args {
    /// The common options the action was given.
    pub(super) fn common(&self) -> (&super::LedgerOpt, &super::LogOpts) {
        match &self.action {
            Action::Import { ledger, log, .. } | Action::List { ledger, log } | Action::Recover { ledger, log, .. } => {
                (ledger, log)
            }
        }
    }
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    // Listing only reads: a ledger that does not exist is an error, not created.
    let ledger = match args.action {
        Action::List { .. } => ctx.existing_ledger(None)?,
        _ => ctx.open_ledger(None)?,
    };
    match args.action {
        Action::Import { file, .. } => import(&ledger, &file).await,
        Action::List { .. } => list(&ledger).await,
        Action::Recover { all, .. } => recover(ctx, &ledger, all).await,
    }
}

async fn import(ledger: &Ledger, file: &PathBuf) -> anyhow::Result<Exit> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(file)
        .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
    let (mut tokens, mut granted) = (Vec::new(), Vec::new());
    for (index, record) in reader.records().enumerate() {
        let line = index + 1;
        let record = record.map_err(|e| usage(format!("{}: line {line}: {e}", file.display())))?;
        let cell = record.get(0).unwrap_or("").trim_start_matches('\u{feff}');
        if line == 1 && cell.eq_ignore_ascii_case("appid") {
            continue;
        }
        if cell.is_empty() && record.iter().all(str::is_empty) {
            continue;
        }
        let appid = Appid::parse(cell).map_err(|_| {
            usage(format!(
                "{}: line {line}, column appid: {cell:?} is not an appid ({}); nothing was imported",
                file.display(),
                appid::FORM
            ))
        })?;
        let refresh = record.get(1).unwrap_or("");
        if refresh.is_empty() || record.len() > 3 {
            return Err(usage(format!(
                "{}: line {line}: expected appid, refresh_token and optionally func_info; nothing was imported",
                file.display()
            )));
        }
        if let Some(cell) = record.get(2).filter(|c| !c.is_empty()) {
            let ids = parse_func_ids(cell).ok_or_else(|| {
                usage(format!(
                    "{}: line {line}, column func_info: {cell:?} is not a list of permission set ids like \
                     17;18;30;31; nothing was imported",
                    file.display()
                ))
            })?;
            granted.push((appid.to_string(), ids));
        }
        tokens.push((appid.to_string(), Secret::new(refresh)));
    }
    let count = tokens.len();
    ledger.put_refresh_tokens(tokens, "import").await?;
    ledger.put_many_permissions(granted, "import").await?;
    println!("imported {count} refresh tokens into {}", ledger.path().display());
    Ok(Exit::Ok)
}

/// `17;18;30` (or spaces, or `|`) as ids; `None` when a part is not a number.
fn parse_func_ids(cell: &str) -> Option<Vec<i64>> {
    cell.split([';', '|', ' ']).filter(|p| !p.trim().is_empty()).map(|p| p.trim().parse().ok()).collect()
}

async fn list(ledger: &Ledger) -> anyhow::Result<Exit> {
    let rows = ledger.token_rows().await?;
    println!(
        "{:<20} {:<10} {:<7} {:<8} {:<20} {:<20} access token until",
        "appid", "kind", "refresh", "source", "stored", "refreshed"
    );
    for row in &rows {
        println!(
            "{:<20} {:<10} {:<7} {:<8} {:<20} {:<20} {}",
            row.appid,
            row.kind,
            if row.has_refresh_token { "yes" } else { "no" },
            row.source,
            time(Some(row.imported_at)),
            time(row.refreshed_at),
            time(row.access_expires_at),
        );
    }
    println!("{} tokens", rows.len());
    Ok(Exit::Ok)
}

async fn recover(ctx: &mut Context, ledger: &Ledger, all: bool) -> anyhow::Result<Exit> {
    let api = ctx.api(None, ledger, None, Default::default()).await?;
    let listed = api.authorizers().await?;
    let mut missing = Vec::new();
    for item in &listed {
        if all || ledger.refresh_token(&item.authorizer_appid).await?.is_none() {
            missing.push((item.authorizer_appid.clone(), item.refresh_token.clone()));
        }
    }
    let stored = missing.len();
    let mut unknown: std::collections::BTreeSet<String> = missing.iter().map(|(appid, _)| appid.clone()).collect();
    ledger.put_refresh_tokens(missing, "recover").await?;
    // The permission sets `check` compares with what the sheet needs: of the accounts stored
    // now (a new authorization may grant other sets) and of those the ledger has none for.
    let known = ledger.all_permissions().await?;
    unknown.extend(listed.iter().map(|i| i.authorizer_appid.clone()).filter(|appid| !known.contains_key(appid)));
    let mut granted = Vec::new();
    for appid in unknown {
        match api.authorizer_func_ids(&appid).await {
            Ok(ids) => granted.push((appid.clone(), ids)),
            // One account WeChat will not describe (41033 for an account the platform did not
            // create, 61003, 48001…) is no reason to leave the others unread.
            Err(e @ ApiError::WeChat { .. }) if matches!(e.class(), ErrClass::Human | ErrClass::Blocked) => {
                tracing::warn!("the permission sets of {appid} could not be read: {}", e.with_hint());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let read = granted.len();
    ledger.put_many_permissions(granted, "recover").await?;
    println!(
        "{} authorizers listed by WeChat; stored {stored} refresh tokens; read the permission sets of {read}",
        listed.len()
    );
    Ok(Exit::Ok)
}
