//! A name review with no audit id to ask about (DESIGN §4; 91019 is "the mini-program is
//! under review", NOTES.md): `setnickname` answered 91019 — the audit an earlier call opened
//! and lost the answer to, or one wxprov did not start — so the step is in review without an
//! id. Each run settles it from the account's name: the name as asked is done, otherwise it
//! stays in review, and after 14 days it fails with a hint for a person to look.

use serde_json::json;

use crate::harness::{Sim, Workspace};
use crate::run::{job, read_csv, result_for, FRESH};

const NAME: &str = "杭州示例工具";
const SETNICKNAME: &str = "/wxa/setnickname";
const HINT: &str = "WeChat said the mini-program was under review (91019) and wxprov has no audit id to ask about. \
    Look in the mini-program's console for what is under review (a name, code or category audit); once it has \
    ended, run again with --retry-failed.";

/// The nickname's state, errcode and message in results.csv.
fn nickname(ws: &Workspace) -> [String; 3] {
    let row = result_for(ws, FRESH);
    [row["nickname"].clone(), row["errcode"].clone(), row["message"].clone()]
}

fn shown(state: &str, errcode: &str, message: &str) -> [String; 3] {
    [state.into(), errcode.into(), message.into()]
}

#[test]
fn a_review_whose_audit_id_was_lost_is_settled_from_the_accounts_name() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,nickname\n{FRESH},{NAME}\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    // The audit opens, its answer (with the audit id) is lost; sent again, WeChat says 91019.
    sim.post("/__sim/faults", json!({"path": SETNICKNAME, "kind": "effect_then_drop"}));
    ws.test_on(&sim).args(["run", &job]).run();
    let sent: Vec<_> = sim.calls_to(SETNICKNAME).iter().map(|c| (c["effect"].clone(), c["errcode"].clone())).collect();
    assert_eq!(sent, [(json!(true), json!(null)), (json!(false), json!(91019))]);
    assert_eq!(
        nickname(&ws),
        shown(
            "in_review",
            "91019",
            "the mini-program is under review by the audit an earlier call opened, whose answer was lost (91019): \
             waiting for the name to change"
        )
    );
    assert_eq!(ws.query("SELECT audit_id, started_at IS NOT NULL FROM steps"), [["NULL", "1"]]);

    // Still under review: the account's name is read, nothing is sent, the step stays.
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(
        nickname(&ws),
        shown(
            "in_review",
            "91019",
            "still under review (0 of 14 days; no audit id to ask about): the account has no name yet"
        )
    );
    assert!(sim.calls_to("/wxa/api_wxa_querynickname").is_empty(), "no id to ask about");
    assert_eq!(sim.calls_to(SETNICKNAME).len(), 2);

    // WeChat approves the audit: the next run finds the name and the step is done.
    sim.post("/__sim/audit", json!({"appid": FRESH, "result": 3}));
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(nickname(&ws), shown("done", "", ""));
    assert_eq!(sim.get("/__sim/state")["mini_programs"][FRESH]["nickname"], NAME);
    assert_eq!(sim.calls_to(SETNICKNAME).len(), 2, "the name was never asked for again");
}

#[test]
fn a_review_without_an_audit_id_fails_with_a_hint_after_fourteen_days() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,nickname\n{FRESH},{NAME}\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    // Under review by something wxprov did not start (the console, a code audit).
    sim.post("/__sim/faults", json!({"path": SETNICKNAME, "kind": "errcode", "errcode": 91019, "appid": FRESH}));
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(
        nickname(&ws),
        shown(
            "in_review",
            "91019",
            "the mini-program is under review by an audit wxprov did not start (91019): waiting for the name to change"
        )
    );

    // Thirteen days in review (the start moved back in the ledger): still waiting.
    ws.query("UPDATE steps SET started_at = started_at - 13 * 86400");
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(
        nickname(&ws),
        shown(
            "in_review",
            "91019",
            "still under review (13 of 14 days; no audit id to ask about): the account has no name yet"
        )
    );

    // Fourteen: a person must look.
    ws.query("UPDATE steps SET started_at = started_at - 86400");
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    let message =
        format!("in review for 14 days with no audit id to ask about, and the account has no name yet, not {NAME:?}");
    assert_eq!(nickname(&ws), shown("failed", "91019", &message));
    assert_eq!(result_for(&ws, FRESH)["hint"], HINT);
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(
        failed,
        [
            vec!["appid".to_string(), "nickname".into(), "error".into()],
            vec![FRESH.into(), NAME.into(), format!("[nickname] errcode 91019: {message} — {HINT}")],
        ]
    );
    assert_eq!(sim.calls_to(SETNICKNAME).len(), 1, "the name was asked for once");
}
