//! Categories: the tree, the ones an account has, and adding, removing and fixing them.
//!
//! The rules come from section 6 of the settings document and NOTES.md: additions spend a
//! monthly quota (53300) within a total limit (53301); certificate objects must be spelled
//! `certicates` with lower-case `key`/`value` (40007 otherwise); a sensitive category needs a
//! certificate named by its `qualify` list whose value is this account's media id and goes
//! into audit (status 1); only rejected ones (2) may be modified, and ones in audit may not be
//! deleted.

use serde_json::{json, Value};

use super::account::mini_program;
use super::api::{as_i64, changed, err, ok, ApiError, Ctx, Reply};
use super::state::{SetCategory, State};

/// Certificates as sent: `[{"key": name, "value": media_id}]`, lower case or 40007.
fn parse_certs(v: Option<&Value>) -> Result<Vec<(String, String)>, ApiError> {
    let bad = || err(40007, "invalid media_id: certificates need lower-case \"key\" and \"value\"");
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|c| {
                let key = c.get("key").and_then(Value::as_str).ok_or_else(bad)?;
                let value = c.get("value").and_then(Value::as_str).ok_or_else(bad)?;
                Ok((key.to_string(), value.to_string()))
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

fn invalid(msg: &str) -> ApiError {
    err(53303, format!("invalid args: {msg}"))
}

/// Is `first/second` a pair of the tree? Returns whether it is sensitive and the certificate
/// names it accepts.
fn lookup(st: &State, first: i64, second: i64) -> Result<(bool, Vec<String>), ApiError> {
    let f = st.category(first).filter(|c| c.level == 1);
    let s = st.category(second).filter(|c| c.level == 2 && c.father == first);
    let (Some(f), Some(s)) = (f, s) else {
        return Err(invalid(&format!("no category {first}/{second}")));
    };
    let sensitive = s.sensitive_type == 1 || f.sensitive_type == 1;
    let mut names: Vec<String> = s.certificate_names().into_iter().map(String::from).collect();
    if names.is_empty() {
        names = f.certificate_names().into_iter().map(String::from).collect();
    }
    Ok((sensitive, names))
}

/// A sensitive category needs one accepted certificate backed by this account's media.
fn check_certs(
    st: &State,
    appid: &str,
    now: u64,
    names: &[String],
    certs: &[(String, String)],
) -> Result<(), ApiError> {
    let good = certs.iter().any(|(k, v)| names.iter().any(|n| n == k) && st.media_of(appid, v, now).is_some());
    if good {
        Ok(())
    } else {
        Err(invalid(&format!("certificate required, one of: {}", names.join(" / "))))
    }
}

/// `getallcategories`: the tree in `categories_list` as the live platform answers, or in the
/// document's `category_list` when the fixture says so.
pub(super) fn all(st: &mut State, _ctx: &Ctx) -> Reply {
    let mut body = serde_json::Map::new();
    body.insert(st.rules.category_tree_field.key().into(), json!({ "categories": st.categories }));
    ok(Value::Object(body))
}

/// `getcategory`.
pub(super) fn get(st: &mut State, ctx: &Ctx) -> Reply {
    let mp = mini_program(st, ctx)?.clone();
    let name = |id: i64| st.category(id).map(|c| c.name.clone()).unwrap_or_default();
    let categories: Vec<_> = mp
        .categories
        .iter()
        .map(|c| {
            json!({
                "first": c.first,
                "first_name": name(c.first),
                "second": c.second,
                "second_name": name(c.second),
                "audit_status": c.audit_status,
                "audit_reason": c.audit_reason,
            })
        })
        .collect();
    ok(json!({
        "categories": categories,
        "limit": mp.category_quota,
        "quota": mp.category_quota.saturating_sub(mp.category_quota_used),
        "category_limit": mp.category_limit,
    }))
}

/// `addcategory`.
pub(super) fn add(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?.to_string();
    let mp = mini_program(st, ctx)?.clone();
    let Some(Value::Array(items)) = ctx.body.get("categories") else {
        return Err(invalid("categories must be an array"));
    };
    if items.is_empty() {
        return Err(invalid("categories is empty"));
    }
    let mut parsed = Vec::new();
    for item in items {
        let first = item.get("first").and_then(as_i64);
        let second = item.get("second").and_then(as_i64);
        let certs = parse_certs(item.get("certicates"))?;
        let (Some(first), Some(second)) = (first, second) else {
            return Err(invalid("first and second are required"));
        };
        parsed.push((first, second, certs));
    }
    if mp.category_quota_used >= mp.category_quota {
        return Err(err(53300, "category modify quota of this month used up"));
    }
    if mp.categories.len() + parsed.len() > mp.category_limit as usize {
        return Err(err(53301, "category limit exceeded"));
    }
    let mut adding: Vec<SetCategory> = Vec::new();
    for (first, second, certs) in parsed {
        let (sensitive, names) = lookup(st, first, second)?;
        let dup = mp.categories.iter().chain(adding.iter()).any(|c| c.first == first && c.second == second);
        if dup {
            return Err(err(53304, "duplicates an existing category"));
        }
        if sensitive {
            check_certs(st, &appid, ctx.now, &names, &certs)?;
        }
        adding.push(SetCategory {
            first,
            second,
            audit_status: if sensitive { 1 } else { 3 },
            audit_reason: String::new(),
            certificates: certs,
        });
    }
    let mp = mini_program(st, ctx)?;
    mp.categories.extend(adding);
    mp.category_quota_used += 1;
    changed(json!({}))
}

fn pair(ctx: &Ctx) -> Result<(i64, i64), ApiError> {
    match (ctx.i64("first"), ctx.i64("second")) {
        (Some(f), Some(s)) => Ok((f, s)),
        _ => Err(invalid("first and second are required")),
    }
}

/// `deletecategory`.
pub(super) fn delete(st: &mut State, ctx: &Ctx) -> Reply {
    let (first, second) = pair(ctx)?;
    let mp = mini_program(st, ctx)?;
    let Some(i) = mp.categories.iter().position(|c| c.first == first && c.second == second) else {
        return Err(invalid(&format!("category {first}/{second} is not set")));
    };
    if mp.categories[i].audit_status == 1 {
        return Err(err(53308, "a category in audit cannot be deleted"));
    }
    mp.categories.remove(i);
    changed(json!({}))
}

/// `modifycategory`: resubmits the certificates of a rejected category.
pub(super) fn modify(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?.to_string();
    let (first, second) = pair(ctx)?;
    let mp = mini_program(st, ctx)?.clone();
    let Some(cur) = mp.categories.iter().find(|c| c.first == first && c.second == second) else {
        return Err(invalid(&format!("category {first}/{second} is not set")));
    };
    if cur.audit_status != 2 {
        return Err(err(53307, "only categories that failed audit may be modified"));
    }
    let certs = parse_certs(ctx.body.get("certicates"))?;
    let (sensitive, names) = lookup(st, first, second)?;
    if sensitive {
        check_certs(st, &appid, ctx.now, &names, &certs)?;
    }
    let mp = mini_program(st, ctx)?;
    if let Some(c) = mp.categories.iter_mut().find(|c| c.first == first && c.second == second) {
        c.audit_status = 1;
        c.audit_reason.clear();
        c.certificates = certs;
    }
    changed(json!({}))
}

/// For the control API: ends the audit of one category (2 rejected, 3 approved).
pub(super) fn finish_audit(st: &mut State, appid: &str, first: i64, second: i64, result: i64, reason: &str) -> bool {
    let Some(mp) = st.mini_programs.get_mut(appid) else {
        return false;
    };
    let Some(c) = mp.categories.iter_mut().find(|c| c.first == first && c.second == second) else {
        return false;
    };
    c.audit_status = result;
    c.audit_reason = if result == 2 { reason.to_string() } else { String::new() };
    true
}
