//! `wxprov categories`: the category tree ops staff write the `categories` column from, with
//! the ids, the names and the certificates each sensitive category requires.

use super::Context;
use crate::exit::{usage, Exit};
use wechat_open::api::Category;

/// Print the category tree with ids, names and required certificates
///
/// The tree is fetched with a mini-program's token (the first stored one that may read it,
/// unless --appid names one) and cached in the ledger for a day.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Only categories whose name contains WORD (and their parents or children)
    #[arg(long, value_name = "WORD")]
    search: Option<String>,
    /// The mini-program whose token fetches the tree
    #[arg(long, value_name = "APPID")]
    appid: Option<String>,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
    #[command(flatten)]
    pub log: super::LogOpts,
}

pub(super) async fn run(args: Args, ctx: &mut Context) -> anyhow::Result<Exit> {
    let ledger = ctx.ledger_or_empty(None)?;
    let api = ctx.api(None, &ledger, None, Default::default()).await?;
    let candidates = match args.appid {
        Some(appid) => vec![appid],
        None => api.stored_authorizers(crate::wechat::categories::MAX_TRIES).await?,
    };
    if candidates.is_empty() {
        return Err(usage("no authorizer refresh token is stored: give --appid, after `wxprov tokens import`"));
    }
    let tree = api.all_categories_any(&candidates).await?;
    print!("{}", render(&tree, args.search.as_deref()));
    Ok(Exit::Ok)
}

/// The tree as text: first-level categories, then their children indented with the
/// `first/second` id pair the manifest takes.
pub(super) fn render(tree: &[Category], search: Option<&str>) -> String {
    let matches = |c: &Category| search.is_none_or(|w| c.name.contains(w));
    let children_of = |id: i64| tree.iter().filter(move |c| c.father == id && c.level != 1);
    let mut out = String::new();
    let mut shown = 0;
    for first in tree.iter().filter(|c| c.level == 1 || c.father == 0) {
        let kids: Vec<&Category> = children_of(first.id).filter(|c| matches(first) || matches(c)).collect();
        if !matches(first) && kids.is_empty() {
            continue;
        }
        out.push_str(&format!("{:<8} {}{}\n", first.id, first.name, sensitive(first)));
        for kid in kids {
            shown += 1;
            out.push_str(&format!(
                "  {:<8} {}/{}{}\n",
                format!("{}/{}", first.id, kid.id),
                first.name,
                kid.name,
                sensitive(kid)
            ));
        }
    }
    if shown == 0 && search.is_some() {
        out.push_str("no category matches\n");
    }
    out
}

fn sensitive(c: &Category) -> String {
    if c.sensitive_type != 1 {
        return String::new();
    }
    let certs = c.certificate_names();
    if certs.is_empty() {
        "  [sensitive / 敏感类目]".to_string()
    } else {
        format!("  [sensitive / 敏感类目; certificate, one of: {}]", certs.join(" | "))
    }
}
