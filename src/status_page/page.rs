//! The page itself, in Chinese and English side by side (ops staff read the one, the
//! platform's developers often the other), written with maud: every value spliced in is
//! HTML-escaped, so a name, a signature, WeChat's message or a hint cannot add markup.
//!
//! The numbers a test or a script may want carry data attributes: each count of the steps
//! table `data-kind` and `data-state`, the row count `id="rows"`, each bar of the chart
//! `data-run` and `data-value`, each count of calls `data-api` and `data-day`, each daily
//! limit `data-limit` (its API).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::chart::{self, Bar};
use super::REFRESH_SECS;
use crate::ledger::{Fleet, FleetStep, RunRecord, RunStatus, StepState, CALL_DAYS, LISTED};
use crate::lifecycle::StepKind;
use wechat_open::beijing;

/// A verify ticket lives 12 hours (WeChat pushes one every 10 minutes).
const TICKET_LIFE_SECS: i64 = 12 * 3600;

/// The whole page for `fleet`, read at `now` from `ledger`.
pub fn render(fleet: &Fleet, now: DateTime<Utc>, ledger: &Path) -> String {
    let now_secs = now.timestamp();
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(REFRESH_SECS);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title(fleet)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "wxprov 状态 " span.en { "status" } }
                    p.meta {
                        "台账 ledger " code { (ledger.display()) } " · "
                        "更新于 as of " time datetime=(beijing::rfc3339(now)) { (beijing::show(Some(now_secs))) }
                        " · 每 " (REFRESH_SECS) " 秒刷新 refreshes every " (REFRESH_SECS) " s"
                    }
                }
                (summary(fleet, now_secs))
                (steps_table(fleet))
                (runs(fleet))
                (in_review(fleet, now_secs))
                (deferred(fleet, now_secs))
                (needing_a_person(fleet, "blocked", "受阻（等待表格之外的事，修好后无需改表）", "blocked (waiting for something outside the sheet; no sheet change needed)"))
                (needing_a_person(fleet, "failed", "需要人工（须改表）", "needing a person (the sheet must change)"))
                (calls(fleet))
            }
        }
    };
    markup.into_string()
}

/// The page's title, which a browser's tab shows: the steps that need a person, so a tab
/// left open says when that changes.
fn title(fleet: &Fleet) -> String {
    let in_state = |state: StepState| {
        fleet.step_counts.iter().filter(|((_, s), _)| s == state.as_str()).map(|(_, n)| n).sum::<i64>()
    };
    format!(
        "wxprov 状态 status · 失败 {} failed · 受阻 {} blocked",
        in_state(StepState::Failed),
        in_state(StepState::Blocked)
    )
}

fn summary(fleet: &Fleet, now: i64) -> Markup {
    let ticket = match fleet.verify_ticket_at {
        Some(at) => {
            let age = now - at;
            let stale = age > TICKET_LIFE_SECS;
            html! {
                span class=(if stale { "bad" } else { "ok" }) id="ticket-age" data-age-secs=(age) {
                    (duration(age)) " 前 ago"
                }
                " (" (beijing::show(Some(at))) ")"
                @if stale { " — 已过期 expired: serve 未收到新的票据 serve has received none for 12 h" }
            }
        }
        None => html! { span.bad id="ticket-age" { "无 none" } " — serve 尚未收到 serve has not received one" },
    };
    html! {
        section {
            p {
                "行 rows: " strong id="rows" { (fleet.rows) } " · "
                "最新验证票据 last verify ticket: " (ticket)
            }
        }
    }
}

/// Step kinds in run order, then any other kind the ledger holds.
fn kinds(fleet: &Fleet) -> Vec<String> {
    let mut kinds: Vec<String> = StepKind::ALL.iter().map(|k| k.as_str().to_string()).collect();
    for (kind, _) in fleet.step_counts.keys() {
        if !kinds.contains(kind) {
            kinds.push(kind.clone());
        }
    }
    kinds.retain(|k| fleet.step_counts.keys().any(|(kind, _)| kind == k));
    kinds
}

fn steps_table(fleet: &Fleet) -> Markup {
    let kinds = kinds(fleet);
    html! {
        section {
            h2 { "各步骤状态 " span.en { "steps per state" } }
            @if kinds.is_empty() {
                p { "台账中还没有步骤 no steps in the ledger yet" }
            } @else {
                table.counts {
                    thead {
                        tr {
                            th { "步骤 step" }
                            @for state in StepState::ALL {
                                th class=(state.as_str()) { (state_zh(state.as_str())) br; span.en { (state.as_str()) } }
                            }
                        }
                    }
                    tbody {
                        @for kind in &kinds {
                            tr {
                                th { (kind_zh(kind)) " " span.en { (kind) } }
                                @for state in StepState::ALL {
                                    @let n = fleet.step_counts.get(&(kind.clone(), state.as_str().to_string())).copied().unwrap_or(0);
                                    td class=(if n > 0 { state.as_str() } else { "zero" }) data-kind=(kind) data-state=(state.as_str()) { (n) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn runs(fleet: &Fleet) -> Markup {
    let oldest_first: Vec<&RunRecord> = fleet.runs.iter().rev().collect();
    let count = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    let bars: Vec<Bar> = oldest_first
        .iter()
        .map(|run| Bar {
            id: run.id.clone(),
            label: run_label(run),
            title: format!(
                "{} — finished {} of {} rows ({} finished in all), {} calls, {}{}",
                run.id,
                count(run.rows_finished_now),
                count(run.rows),
                count(run.rows_finished),
                count(run.calls),
                run.status.as_str(),
                run.exit_code.map(|c| format!(", exit {c}")).unwrap_or_default()
            ),
            value: run.rows_finished_now.unwrap_or(0),
            whole: run.rows.unwrap_or(0),
        })
        .collect();
    html! {
        section {
            h2 { "每次运行完成的行 " span.en { "rows finished per run" } " (" (fleet.runs.len()) ")" }
            @if bars.is_empty() {
                p { "还没有运行 no run yet" }
            } @else {
                figure {
                    (PreEscaped(chart::bars(&bars, "rows each run finished, in front of the rows it saw; oldest first")))
                    figcaption.note {
                        span.key-bar { "■" } " 本次运行完成的行 rows the run finished · "
                        span.key-whole { "■" } " 本次运行处理的行 rows it saw"
                    }
                }
                table {
                    thead {
                        tr {
                            th { "运行 run" } th { "状态 status" } th { "开始 started" } th { "行 rows" }
                            th { "本次完成 finished by it" } th { "结束时已完成 finished at its end" }
                            th { "调用 calls" } th { "退出码 exit" }
                        }
                    }
                    tbody {
                        @for run in &fleet.runs {
                            tr {
                                td { code { (run.id) } }
                                td { (run.status.as_str()) @if let Some(reason) = &run.reason { " — " (reason) } }
                                td { (beijing::show(Some(run.started_at))) }
                                td.num { (count(run.rows)) }
                                td.num { (count(run.rows_finished_now)) }
                                td.num { (count(run.rows_finished)) }
                                td.num { (count(run.calls)) }
                                td.num { (count(run.exit_code)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A run's bar label: its start on Beijing's clock, `11-21 03:15`, or `running`.
fn run_label(run: &RunRecord) -> String {
    let start =
        DateTime::from_timestamp(run.started_at, 0).map(|t| beijing::local(t).format("%m-%d %H:%M").to_string());
    match run.status {
        RunStatus::Running => "running".into(),
        _ => start.unwrap_or_default(),
    }
}

fn listed<'a>(fleet: &'a Fleet, state: &str) -> &'a [FleetStep] {
    fleet.steps.get(state).map(Vec::as_slice).unwrap_or_default()
}

/// How many steps are in `state` in all (the lists stop at [`LISTED`]).
fn total(fleet: &Fleet, state: &str) -> i64 {
    fleet.step_counts.iter().filter(|((_, s), _)| s == state).map(|(_, n)| n).sum()
}

fn more(fleet: &Fleet, state: &str) -> Markup {
    let total = total(fleet, state);
    html! {
        @if total > LISTED as i64 {
            p.more { "只列出最久的 " (LISTED) " 个，共 " (total) " 个 · the " (LISTED) " longest waiting of " (total) " (wxprov status --limit N lists more)" }
        }
    }
}

fn who(step: &FleetStep) -> Markup {
    html! {
        @match &step.appid {
            Some(appid) => code { (appid) },
            None => code { (step.identity) },
        }
    }
}

fn in_review(fleet: &Fleet, now: i64) -> Markup {
    let steps = listed(fleet, "in_review");
    html! {
        section {
            h2 { "微信审核中 " span.en { "in WeChat's audit" } " (" (total(fleet, "in_review")) ")" }
            @if steps.is_empty() { p { "无 none" } } @else {
                table {
                    thead { tr { th { "账号 account" } th { "步骤 step" } th { "审核单 audit id" } th { "已审核 in review for" } th { "提交于 since" } th { "说明 message" } } }
                    tbody {
                        @for step in steps {
                            tr {
                                td { (who(step)) }
                                td { (kind_zh(&step.kind)) " " span.en { (step.kind) } }
                                td { (step.audit_id.map(|id| id.to_string()).unwrap_or_else(|| "-".into())) }
                                td.num data-secs=(now - step.since) { (duration(now - step.since)) }
                                td { (beijing::show(Some(step.since))) }
                                td { (step.message.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                (more(fleet, "in_review"))
            }
        }
    }
}

fn deferred(fleet: &Fleet, now: i64) -> Markup {
    let steps = listed(fleet, "deferred");
    html! {
        section {
            h2 { "已推迟 " span.en { "deferred" } " (" (total(fleet, "deferred")) ")" }
            @if steps.is_empty() { p { "无 none" } } @else {
                table {
                    thead { tr { th { "账号 account" } th { "步骤 step" } th { "何时再试 goes again at" } th { "还要 in" } th { "原因 why" } } }
                    tbody {
                        @for step in steps {
                            tr {
                                td { (who(step)) }
                                td { (kind_zh(&step.kind)) " " span.en { (step.kind) } }
                                td { (beijing::show(step.not_before)) }
                                td.num {
                                    @match step.not_before {
                                        Some(at) if at > now => (duration(at - now)),
                                        Some(_) => "下次运行 next run",
                                        None => "-",
                                    }
                                }
                                td { (errcode(step)) (step.message.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                (more(fleet, "deferred"))
            }
        }
    }
}

fn needing_a_person(fleet: &Fleet, state: &str, title_zh: &str, title_en: &str) -> Markup {
    let steps = listed(fleet, state);
    html! {
        section {
            h2 { (title_zh) " " span.en { (title_en) } " (" (total(fleet, state)) ")" }
            @if steps.is_empty() { p { "无 none" } } @else {
                table {
                    thead { tr { th { "账号 account" } th { "步骤 step" } th { "问题 what" } th { "怎么办 what to do" } } }
                    tbody {
                        @for step in steps {
                            tr class=(state) {
                                td { (who(step)) }
                                td { (kind_zh(&step.kind)) " " span.en { (step.kind) } }
                                td { (errcode(step)) (step.message.as_deref().unwrap_or("")) }
                                td { (step.hint.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                (more(fleet, state))
            }
        }
    }
}

fn errcode(step: &FleetStep) -> Markup {
    html! { @if let Some(code) = step.errcode { code { (code) } " " } }
}

fn calls(fleet: &Fleet) -> Markup {
    let mut days: Vec<&String> = fleet.calls.keys().map(|(day, _)| day).collect();
    days.sort();
    days.dedup();
    let mut apis: BTreeMap<&String, ()> = BTreeMap::new();
    for (_, api) in fleet.calls.keys() {
        apis.insert(api, ());
    }
    html! {
        section {
            h2 { "每个接口每天的调用 " span.en { "calls per API per day" } " (北京时间 Beijing time)" }
            p.note {
                "到达微信的调用（有 errcode 的）。微信的每日额度按账号计；45009 表示某个账号当天的额度已用完。"
                br;
                span.en { "Calls that reached WeChat (with an errcode). WeChat's daily quotas count per account; 45009 means an account spent its quota for the day. The limit is what quota/get last stated for one account." }
            }
            @if apis.is_empty() { p { "最近 " (CALL_DAYS) " 天没有调用 no calls in the last " (CALL_DAYS) " days" } } @else {
                table.calls {
                    thead {
                        tr {
                            th { "接口 API" }
                            th { "每账号每日额度 daily limit per account" }
                            @for day in &days { th { (day) } }
                        }
                    }
                    tbody {
                        @for api in apis.keys() {
                            tr {
                                td { code { (api) } }
                                td.num data-limit=(api) { (fleet.daily_limits.get(*api).map(|n| n.to_string()).unwrap_or_else(|| "-".into())) }
                                @for day in &days {
                                    @let cell = fleet.calls.get(&((*day).clone(), (*api).clone()));
                                    td.num data-api=(api) data-day=(day) {
                                        @match cell {
                                            Some(c) => {
                                                (c.calls)
                                                @if c.quota_reached > 0 { br; span.bad { "45009 ×" (c.quota_reached) } }
                                            },
                                            None => "",
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `3d 4h`, `2h 5m`, `40s`: how long, to the two largest units.
fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

fn state_zh(state: &str) -> &str {
    match state {
        "pending" => "待处理",
        "done" => "完成",
        "skipped" => "无需更改",
        "in_review" => "审核中",
        "waiting" => "等待扫码",
        "deferred" => "已推迟",
        "blocked" => "受阻",
        "failed" => "失败",
        other => other,
    }
}

fn kind_zh(kind: &str) -> &str {
    match kind {
        "register" => "注册",
        "nickname" => "名称",
        "avatar" => "头像",
        "signature" => "简介",
        "categories" => "类目",
        "rebind_admin" => "换绑管理员",
        "domains" => "域名",
        "code" => "代码",
        "privacy" => "隐私指引",
        "audit" => "审核",
        "release" => "发布",
        _ => "",
    }
}

const STYLE: &str = r#"
body { font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 1.5em; color: #1f2328; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
.en { color: #57606a; font-weight: normal; }
.meta, .note, .more { color: #57606a; font-size: .9em; }
table { border-collapse: collapse; font-size: .9em; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
td.num, table.counts td { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #8c959f; }
td.done, td.skipped, .ok { color: #1a7f37; }
td.failed, td.blocked, .bad { color: #cf222e; font-weight: 600; }
td.deferred, td.in_review, td.waiting { color: #9a6700; }
svg.chart .bar, .key-bar { fill: #0969da; color: #0969da; }
svg.chart .whole, .key-whole { fill: #b6d4f5; color: #b6d4f5; }
svg.chart .axis { stroke: #57606a; }
svg.chart text { font-size: 11px; fill: #57606a; }
figure { margin: 0 0 .8em; }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::FleetStep;

    #[test]
    fn what_comes_from_sheets_and_wechat_is_escaped() {
        let mut fleet = Fleet::default();
        fleet.step_counts.insert(("signature".into(), "failed".into()), 1);
        fleet.steps.insert(
            "failed".into(),
            vec![FleetStep {
                identity: "<img src=x onerror=alert(1)>".into(),
                appid: None,
                kind: "signature".into(),
                state: "failed".into(),
                errcode: Some(53201),
                message: Some("<script>alert(1)</script>".into()),
                hint: Some("\"quoted\" & <b>bold</b>".into()),
                not_before: None,
                audit_id: None,
                since: 0,
            }],
        );
        let page = render(&fleet, Utc::now(), Path::new("a<b>.db"));
        assert!(!page.contains("<script>") && page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<img src=x") && !page.contains("<b>bold"));
        assert!(page.contains("a&lt;b&gt;.db"));
        assert!(page.contains(r#"data-kind="signature" data-state="failed">1<"#), "{page}");
        assert!(page.contains(&format!(r#"<meta http-equiv="refresh" content="{REFRESH_SECS}">"#)));
        assert!(!page.contains("<script"), "no script at all");
    }

    #[test]
    fn durations_to_two_units() {
        assert_eq!(duration(40), "40s");
        assert_eq!(duration(125), "2m 5s");
        assert_eq!(duration(2 * 3600 + 300), "2h 5m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
        assert_eq!(duration(-5), "0s");
    }
}
