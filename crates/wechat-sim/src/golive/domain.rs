//! Server and business (web-view) domains, by the platform's list ("method one":
//! `modify_domain`, `setwebviewdomain`) or directly ("method two": `..._directly`), what the
//! next release will apply, and the platform's own lists (golive.md §2).
//!
//! Rules:
//! - `modify_domain[_directly]`: `action` `get`, `set`, `add` or `delete` (else 47001). Six
//!   types (`requestdomain`, `wsrequestdomain`, `uploaddomain`, `downloaddomain`, `udpdomain`,
//!   `tcpdomain`), each with its scheme (`https://`, `wss://`, `https://`, `https://`,
//!   `udp://`, `tcp://`). `set` replaces all six: a type it leaves out is emptied (the strict
//!   reading of what golive.md leaves open). A domain with the wrong scheme, an IP address
//!   or `api.weixin.qq.com` is invalid; one whose host is in the fixture's
//!   `unfiled_domains` has no ICP filing. Either refuses the whole request, with the lists
//!   in the answer (`invalid_*`, `no_icp_domain`): method one 85301 (invalid), 85302 (no
//!   ICP), 85303 (both); method two 86100 (scheme), 86101 (`api.weixin.qq.com`), 45082 (no
//!   ICP). Method one also needs each host on the platform's server list when the fixture
//!   gives one (85018). Over 200 in a type 85016; an `add` that adds nothing 85017. Every
//!   answer, errors included, carries the six lists as they now are.
//! - `setwebviewdomain[_directly]`: `webviewdomain` of `https://` URLs without a port (86100
//!   [assumed]); method one without `action` adds every domain of the platform's business
//!   list; method one needs the host (or a parent) on that list when the fixture gives one
//!   (89021; an empty list 89020); no ICP filing 45082 [assumed]; a `set` that changes
//!   nothing 89019; over 100 89029.
//! - Changes (not `get`) count against `domain_changes_per_month` per mini-program (86102).
//! - `get_effective_domain` / `get_effective_webviewdomain`: `third_*` the method-one lists,
//!   `direct_*` the method-two ones, `effective_*` their union, which `release` makes live.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{app, month_of, strings};
use crate::api::{changed, err, ok, ApiError, Ctx, Reply};
use crate::state::State;

/// The six server-domain types and the scheme each takes.
pub(crate) const TYPES: [(&str, &str); 6] = [
    ("requestdomain", "https://"),
    ("wsrequestdomain", "wss://"),
    ("uploaddomain", "https://"),
    ("downloaddomain", "https://"),
    ("udpdomain", "udp://"),
    ("tcpdomain", "tcp://"),
];

/// Server domains by type.
pub(crate) type ServerDomains = BTreeMap<String, Vec<String>>;

/// One mini-program's domains.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AppDomains {
    /// Method one (the platform's list).
    pub third: ServerDomains,
    /// Method two (directly).
    pub direct: ServerDomains,
    pub webview_third: Vec<String>,
    pub webview_direct: Vec<String>,
    /// What the last release made live.
    pub live: ServerDomains,
    pub live_webview: Vec<String>,
    /// Changes in `changes_month` (Beijing), for the monthly limit.
    pub changes_month: String,
    pub changes: u32,
}

/// Which method a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Platform,
    Direct,
}

/// The host of `https://a.cn:8443/x`: `a.cn`.
fn host(domain: &str) -> &str {
    let rest = domain.split_once("://").map_or(domain, |(_, r)| r);
    let rest = rest.split('/').next().unwrap_or("");
    rest.rsplit_once(':').filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit())).map_or(rest, |(h, _)| h)
}

fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok() || host.trim_matches(['[', ']']).parse::<std::net::Ipv6Addr>().is_ok()
}

/// Is `host` `listed` or a sub-domain of it?
fn under(host: &str, listed: &str) -> bool {
    host == listed || host.ends_with(&format!(".{listed}"))
}

fn unfiled(st: &State, host: &str) -> bool {
    st.golive.config.unfiled_domains.iter().any(|d| self::host(d) == host)
}

fn lists_json(d: &ServerDomains) -> Map<String, Value> {
    TYPES.iter().map(|(t, _)| (t.to_string(), json!(d.get(*t).cloned().unwrap_or_default()))).collect()
}

/// Counts one change against the monthly limit, or 86102.
fn count_change(st: &mut State, ctx: &Ctx) -> Result<(), ApiError> {
    let limit = st.golive.config.domain_changes_per_month;
    let month = month_of(ctx.now);
    let d = &mut app(st, ctx)?.golive.domains;
    if d.changes_month != month {
        d.changes_month = month;
        d.changes = 0;
    }
    if d.changes >= limit {
        return Err(err(86102, "domains can be changed only 50 times a month"));
    }
    d.changes += 1;
    Ok(())
}

/// `modify_domain` and `modify_domain_directly`.
pub(crate) fn modify(st: &mut State, ctx: &Ctx, method: Method) -> Reply {
    let action = ctx.str("action").unwrap_or("").to_string();
    if !["get", "set", "add", "delete"].contains(&action.as_str()) {
        return Err(err(47001, "data format error: action must be get, set, add or delete"));
    }
    let current = {
        let d = &app(st, ctx)?.golive.domains;
        if method == Method::Platform {
            d.third.clone()
        } else {
            d.direct.clone()
        }
    };
    let mut answer = lists_json(&current);
    for (t, _) in TYPES {
        answer.insert(format!("invalid_{t}"), json!([]));
    }
    answer.insert("no_icp_domain".into(), json!([]));
    if action == "get" {
        return ok(Value::Object(answer));
    }
    let with_lists = |e: ApiError, answer: &Map<String, Value>| e.with_fields(Value::Object(answer.clone()));
    let mut sent = ServerDomains::new();
    for (t, _) in TYPES {
        if let Some(list) = strings(ctx.body, t)? {
            sent.insert(t.to_string(), list);
        }
    }
    // Check every domain added.
    let (mut invalid_any, mut no_icp, mut weixin, mut off_list) = (false, Vec::new(), false, None);
    if action != "delete" {
        let platform = st.golive.config.platform_server_domains.clone();
        for (t, scheme) in TYPES {
            let mut invalid = Vec::new();
            for d in sent.get(t).into_iter().flatten() {
                let h = host(d);
                if !d.starts_with(scheme) || h.is_empty() || is_ip(h) || h == "api.weixin.qq.com" {
                    weixin |= h == "api.weixin.qq.com";
                    invalid.push(d.clone());
                } else if unfiled(st, h) {
                    no_icp.push(d.clone());
                } else if method == Method::Platform
                    && platform.as_ref().is_some_and(|p| !p.iter().any(|l| under(h, host(l))))
                {
                    off_list.get_or_insert_with(|| d.clone());
                }
            }
            invalid_any |= !invalid.is_empty();
            answer.insert(format!("invalid_{t}"), json!(invalid));
        }
        answer.insert("no_icp_domain".into(), json!(no_icp));
    }
    let refusal = match (method, invalid_any, !no_icp.is_empty()) {
        (Method::Platform, true, true) => Some(err(85303, "domains break the rules and lack an ICP filing: no change")),
        (Method::Platform, true, false) => Some(err(85301, "a domain breaks the domain rules: no change")),
        (Method::Platform, false, true) => Some(err(85302, "a domain has no ICP filing: no change")),
        (Method::Direct, true, _) if weixin => Some(err(86101, "api.weixin.qq.com cannot be configured")),
        (Method::Direct, true, _) => Some(err(86100, "the URL's scheme is wrong")),
        (Method::Direct, false, true) => Some(err(45082, "the domain needs an ICP filing")),
        _ => None,
    };
    if let Some(e) = refusal {
        return Err(with_lists(e, &answer));
    }
    if let Some(d) = off_list {
        return Err(with_lists(err(85018, format!("domain {d} is not set on the third-party platform")), &answer));
    }
    let mut next = current.clone();
    match action.as_str() {
        "set" => {
            next = TYPES.iter().map(|(t, _)| (t.to_string(), sent.get(*t).cloned().unwrap_or_default())).collect();
        }
        "add" => {
            let mut added = false;
            for (t, list) in &sent {
                let slot = next.entry(t.clone()).or_default();
                for d in list {
                    if !slot.contains(d) {
                        slot.push(d.clone());
                        added = true;
                    }
                }
            }
            if !added {
                return Err(with_lists(err(85017, "no domain added (empty, or already there)"), &answer));
            }
        }
        _ => {
            for (t, list) in &sent {
                if let Some(slot) = next.get_mut(t) {
                    slot.retain(|d| !list.contains(d));
                }
            }
        }
    }
    if next.values().any(|l| l.len() > 200) {
        return Err(with_lists(err(85016, "too many domains (200 a type)"), &answer));
    }
    count_change(st, ctx).map_err(|e| with_lists(e, &answer))?;
    let d = &mut app(st, ctx)?.golive.domains;
    let slot = if method == Method::Platform { &mut d.third } else { &mut d.direct };
    *slot = next;
    answer.extend(lists_json(slot));
    changed(Value::Object(answer))
}

/// `setwebviewdomain` and `setwebviewdomain_directly`.
pub(crate) fn webview(st: &mut State, ctx: &Ctx, method: Method) -> Reply {
    let platform = st.golive.config.platform_webview_domains.clone();
    let action = match (ctx.str("action"), method) {
        (Some(a), _) if ["get", "set", "add", "delete"].contains(&a) => a.to_string(),
        (None, Method::Platform) => "add_platform".to_string(),
        _ => return Err(err(47001, "data format error: action must be get, set, add or delete")),
    };
    let current = {
        let d = &app(st, ctx)?.golive.domains;
        if method == Method::Platform {
            d.webview_third.clone()
        } else {
            d.webview_direct.clone()
        }
    };
    if action == "get" {
        return ok(json!({ "webviewdomain": current }));
    }
    let sent = if action == "add_platform" {
        let listed = platform
            .clone()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| err(89020, "no business domain is registered on the third-party platform"))?;
        listed.iter().map(|h| format!("https://{}", host(h))).collect()
    } else {
        strings(ctx.body, "webviewdomain")?.unwrap_or_default()
    };
    if action != "delete" {
        for d in &sent {
            let h = host(d);
            let bare = d.strip_prefix("https://").map(|r| r.split('/').next().unwrap_or(""));
            if bare.is_none_or(|b| b.contains(':') || b.is_empty()) || is_ip(h) {
                return Err(err(86100, format!("the URL's scheme is wrong (https:// without a port): {d}")));
            }
            if method == Method::Platform {
                match &platform {
                    Some(p) if p.is_empty() => {
                        return Err(err(89020, "no business domain is registered on the third-party platform"))
                    }
                    Some(p) if !p.iter().any(|l| under(h, host(l))) => {
                        return Err(err(89021, format!("{d} is not a business domain of the third-party platform")))
                    }
                    _ => {}
                }
            }
            if unfiled(st, h) {
                return Err(err(45082, format!("the domain needs an ICP filing: {d}")));
            }
        }
    }
    let mut next = current.clone();
    match action.as_str() {
        "set" => next = sent,
        "delete" => next.retain(|d| !sent.contains(d)),
        _ => {
            for d in sent {
                if !next.contains(&d) {
                    next.push(d);
                }
            }
        }
    }
    if next == current {
        return Err(err(89019, "business domains unchanged, no need to set them again"));
    }
    if next.len() > 100 {
        return Err(err(89029, "too many business domains"));
    }
    count_change(st, ctx)?;
    let d = &mut app(st, ctx)?.golive.domains;
    let slot = if method == Method::Platform { &mut d.webview_third } else { &mut d.webview_direct };
    *slot = next.clone();
    changed(json!({ "webviewdomain": next }))
}

fn confirm(seed: &str) -> (String, String) {
    let digest = hex::encode(Sha256::digest(seed.as_bytes()));
    (format!("{}.txt", &digest[..10]), digest[10..42].to_string())
}

/// `get_webviewdomain_confirmfile`: the file method two's business domains must serve.
pub(crate) fn confirm_file(st: &mut State, ctx: &Ctx) -> Reply {
    let (file_name, file_content) = confirm(&app(st, ctx)?.appid);
    ok(json!({ "file_name": file_name, "file_content": file_content }))
}

/// `get_domain_confirmfile` (component): the platform's confirm file.
pub(crate) fn platform_confirm_file(st: &mut State, _ctx: &Ctx) -> Reply {
    let (file_name, file_content) = confirm(&st.component.appid);
    ok(json!({ "file_name": file_name, "file_content": file_content }))
}

fn union(a: &ServerDomains, b: &ServerDomains) -> ServerDomains {
    TYPES
        .iter()
        .map(|(t, _)| {
            let mut list = a.get(*t).cloned().unwrap_or_default();
            for d in b.get(*t).into_iter().flatten() {
                if !list.contains(d) {
                    list.push(d.clone());
                }
            }
            (t.to_string(), list)
        })
        .collect()
}

/// What the next release makes live: server domains.
pub(crate) fn effective_server(d: &AppDomains) -> ServerDomains {
    union(&d.third, &d.direct)
}

/// What the next release makes live: business domains.
pub(crate) fn effective_webview(d: &AppDomains) -> Vec<String> {
    let mut list = d.webview_third.clone();
    list.extend(d.webview_direct.iter().filter(|x| !d.webview_third.contains(x)).cloned());
    list
}

/// `get_effective_domain`.
pub(crate) fn effective(st: &mut State, ctx: &Ctx) -> Reply {
    let d = &app(st, ctx)?.golive.domains;
    ok(json!({
        "mp_domain": lists_json(&d.live),
        "third_domain": lists_json(&d.third),
        "direct_domain": lists_json(&d.direct),
        "effective_domain": lists_json(&effective_server(d)),
    }))
}

/// `get_effective_webviewdomain` (the handler behind `effective_webview`'s path).
pub(crate) fn effective_webview_answer(st: &mut State, ctx: &Ctx) -> Reply {
    let d = &app(st, ctx)?.golive.domains;
    ok(json!({
        "mp_webviewdomain": d.live_webview,
        "third_webviewdomain": d.webview_third,
        "direct_webviewdomain": d.webview_direct,
        "effective_webviewdomain": effective_webview(d),
    }))
}

/// Which of the platform's own lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlatformList {
    Server,
    Jump,
}

/// `modify_wxa_server_domain` / `modify_wxa_jump_domain` (component): the platform's lists of
/// bare hosts, `;`-separated. Adding to a list the fixture left unchecked starts checking it.
pub(crate) fn platform_list(st: &mut State, ctx: &Ctx, which: PlatformList) -> Reply {
    let (field, out) = match which {
        PlatformList::Server => ("wxa_server_domain", "wxa_server_domain"),
        PlatformList::Jump => ("wxa_jump_h5_domain", "wxa_jump_h5_domain"),
    };
    let action = ctx.str("action").unwrap_or("").to_string();
    if !["get", "set", "add", "delete"].contains(&action.as_str()) {
        return Err(err(47001, "data format error: action must be get, set, add or delete"));
    }
    let sent: Vec<String> =
        ctx.str(field).unwrap_or("").split(';').map(str::trim).filter(|h| !h.is_empty()).map(String::from).collect();
    let (valid, invalid): (Vec<String>, Vec<String>) =
        sent.into_iter().partition(|h| !h.contains("://") && !is_ip(h) && h.contains('.'));
    let config = &mut st.golive.config;
    let slot = match which {
        PlatformList::Server => &mut config.platform_server_domains,
        PlatformList::Jump => &mut config.platform_webview_domains,
    };
    let effect = action != "get";
    if !effect {
        let joined = slot.as_deref().unwrap_or_default().join(";");
        return ok(json!({
            format!("published_{out}"): joined,
            format!("testing_{out}"): joined,
            format!("invalid_{out}"): invalid.join(";"),
        }));
    }
    let list = slot.get_or_insert_with(Vec::new);
    match action.as_str() {
        "set" => *list = valid,
        "add" => list.extend(valid.into_iter().filter(|h| !list.contains(h)).collect::<Vec<_>>()),
        "delete" => list.retain(|h| !valid.contains(h)),
        _ => {}
    }
    let joined = list.join(";");
    changed(json!({
        format!("published_{out}"): joined,
        format!("testing_{out}"): joined,
        format!("invalid_{out}"): invalid.join(";"),
    }))
}
