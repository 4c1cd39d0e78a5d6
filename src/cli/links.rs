//! `wxprov links JOB --redirect-base URL`: the links ops staff send to merchants — a
//! `fastregisterauth` link for each registration row (the official account's admin scans it
//! to lend its qualification) and a `componentrebindadmin` link for each row whose
//! `rebind_taskid` is `scan` — as a CSV for mail-merge, and optionally a QR code per link.
//! Each link's `redirect_uri` points at `wxprov serve`, which captures the ticket or taskid,
//! and carries a `state` signed with the ledger's link key (DESIGN §7) — `serve` must run on
//! the same ledger, and stores nothing for a link without a `state` that verifies.

use std::path::{Path, PathBuf};

use super::manifest_args::{self, ManifestArgs};
use super::Context;
use crate::callback::link_state::LinkKey;
use crate::exit::{fail, usage, Exit};
use crate::manifest::{self, Column, Manifest};
use wechat_open::{links, Appid};

/// Write the authorization links for registration and admin-rebind rows
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The job file or manifest
    job: PathBuf,
    /// Where `wxprov serve` is reachable from the merchants' phones, e.g.
    /// https://ops.example.com (its host must be the platform's registered domain)
    #[arg(long, value_name = "URL")]
    redirect_base: String,
    /// The CSV to write
    #[arg(long, default_value = "links.csv", value_name = "FILE")]
    out: PathBuf,
    /// Also write a QR code (SVG) per link into this folder
    #[arg(long, value_name = "DIR")]
    qr_dir: Option<PathBuf>,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
}

/// One link to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    pub line: u64,
    /// `fastregister` or `rebind`.
    pub kind: &'static str,
    /// The official account (registration) or mini-program (rebind).
    pub account: String,
    pub url: String,
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let job = ctx.load_job(&args.job)?;
    let base = url::Url::parse(&args.redirect_base)
        .map_err(|e| usage(format!("--redirect-base {:?} is not a URL ({e})", args.redirect_base)))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(usage("--redirect-base must start with https:// (or http://)"));
    }
    let settings = ctx.settings(Some(&job))?.clone();
    let component = match settings.secrets.component_appid.clone() {
        Some(appid) => appid,
        None => return Err(fail("WXPROV_COMPONENT_APPID is not set: the links name the third-party platform")),
    };
    let manifest = manifest_args::open(&settings)?;
    // The link key lives in the ledger (created there if need be).
    let ledger = ctx.open_ledger(Some(&job))?;
    let key = LinkKey::of(&ledger).await?;
    let base = args.redirect_base.trim_end_matches('/');
    let all = collect(&manifest, settings.max_rows, &component, base, &key)?;
    // A registration row the ledger knows the appid of is registered: no link to scan again.
    let registered = ledger.row_appids().await?;
    let (skipped, found): (Vec<Link>, Vec<Link>) =
        all.into_iter().partition(|l| l.kind == "fastregister" && registered.contains_key(&l.account));
    for link in &skipped {
        tracing::info!(
            "line {}: {} is registered already (as {}); no link",
            link.line,
            link.account,
            registered[&link.account]
        );
    }
    write_csv(&args.out, &found)?;
    if let Some(dir) = &args.qr_dir {
        write_qr(dir, &found)?;
    }
    match skipped.len() {
        0 => println!("{} links written to {}", found.len(), args.out.display()),
        n => println!(
            "{} links written to {}; {n} registration rows skipped, already registered",
            found.len(),
            args.out.display()
        ),
    }
    Ok(Exit::Ok)
}

/// The columns a link is made from.
const LINK_COLUMNS: [Column; 4] = [Column::Appid, Column::OfficialAppid, Column::CopyWxVerify, Column::RebindTaskid];

/// The links a manifest's rows (the first `max_rows`) ask for; rows that ask for none are
/// passed over, and rows whose account is not a valid appid, or whose cells are not data (an
/// error value, a number Excel mangled), are reported and skipped.
pub(super) fn collect(
    manifest: &Manifest,
    max_rows: Option<usize>,
    component: &str,
    base: &str,
    key: &LinkKey,
) -> anyhow::Result<Vec<Link>> {
    let columns = manifest.columns().clone();
    let mut links = Vec::new();
    for raw in manifest.rows().map_err(|e| usage(e.to_string()))?.take(max_rows.unwrap_or(usize::MAX)) {
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => {
                tracing::warn!("{e}; no link");
                continue;
            }
        };
        let cell = |c: Column| columns.cell(&raw.cells, c).trim().to_string();
        let unusable: Vec<String> = LINK_COLUMNS
            .into_iter()
            .filter_map(|c| {
                let numeric = columns.get(c).is_some_and(|i| raw.numeric.contains(&i));
                manifest::cell_problem(c, &cell(c), numeric).map(|(en, _)| format!("column {c}: {en}"))
            })
            .collect();
        if !unusable.is_empty() {
            tracing::warn!("line {}: {}; no link", raw.line, unusable.join("; "));
            continue;
        }
        let (appid, official) =
            (cell(Column::Appid).to_ascii_lowercase(), cell(Column::OfficialAppid).to_ascii_lowercase());
        if appid.is_empty() && !official.is_empty() {
            if Appid::parse(&official).is_err() {
                tracing::warn!("line {}: official_appid {official:?} is not an appid; no link", raw.line);
                continue;
            }
            let copy = cell(Column::CopyWxVerify) != "0";
            let state = key.state_for(&official);
            let redirect = format!("{base}/callback/fastregister?official_appid={official}&state={state}");
            let url = links::fastregister_auth(component, &official, copy, &redirect);
            links.push(Link { line: raw.line, kind: "fastregister", account: official, url });
        }
        let taskid = cell(Column::RebindTaskid);
        if manifest::validate::REBIND_BY_SCAN.contains(&taskid.as_str()) && Appid::parse(&appid).is_ok() {
            let state = key.state_for(&appid);
            let redirect = format!("{base}/callback/rebind?appid={appid}&state={state}");
            let url = links::rebind_admin(component, &appid, &redirect);
            links.push(Link { line: raw.line, kind: "rebind", account: appid, url });
        }
    }
    Ok(links)
}

fn write_csv(out: &Path, links: &[Link]) -> anyhow::Result<()> {
    let mut file = std::fs::File::create(out).map_err(|e| fail(format!("cannot write {}: {e}", out.display())))?;
    std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(["line", "kind", "account", "link"])?;
    for link in links {
        w.write_record([link.line.to_string(), link.kind.to_string(), link.account.clone(), link.url.clone()])?;
    }
    w.flush()?;
    Ok(())
}

fn write_qr(dir: &Path, links: &[Link]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    for link in links {
        let code = qrcode::QrCode::new(link.url.as_bytes())
            .map_err(|e| fail(format!("line {}: the link does not fit a QR code: {e}", link.line)))?;
        let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build();
        std::fs::write(dir.join(format!("{}-{}.svg", link.kind, link.account)), svg)?;
    }
    Ok(())
}
