//! The `blocked` state (DESIGN §4, §6): a step waiting for something outside the sheet — here
//! a refresh token the ledger does not hold, or one WeChat no longer takes — is `blocked`,
//! says what to fix, keeps the row out of `failed.csv` (the sheet is not at fault), makes the
//! run exit 3, and `status` lists it with the fix. It is tried again as soon as its cause may
//! have changed — a token of the account imported, recovered or stored by `serve` — and
//! otherwise once a Beijing day: a second run the same day sends nothing for it.

use serde_json::json;

use crate::harness::{Serve, Sim, Workspace};
use crate::run::{job, read_csv, result_for, FRESH};

/// A mini-program of the example fixture whose signature is 旧的功能介绍。.
const SECOND: &str = "wxa1b2c3d4e5f60102";

/// The reason (the error, wechat-open's); what to do about it is the hint's.
const NO_TOKEN_MESSAGE: &str = "no refresh token for wxe5f52902cf4de896";
const NO_TOKEN_HINT: &str = "wxprov holds no refresh token for this account. Run `wxprov tokens recover` (it \
    lists every authorizer of the platform), import one with `wxprov tokens import FILE`, or have the merchant \
    authorize the platform (`wxprov serve` stores the token from WeChat's push); the next run continues the row \
    with no sheet change.";

#[test]
fn a_row_without_a_refresh_token_is_blocked_with_its_fix_and_exits_3() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},提供好用的在线工具。\n"));
    ws.test_on(&sim).args(["run", &job]).status(3).run();

    let row = result_for(&ws, FRESH);
    assert_eq!(row["signature"], "blocked");
    assert_eq!(row["step"], "signature");
    assert_eq!(row["errcode"], "");
    assert_eq!(row["message"], NO_TOKEN_MESSAGE);
    assert_eq!(row["hint"], NO_TOKEN_HINT);
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed, [["appid", "signature", "error"]], "not the sheet's fault: no failed.csv line");
    let steps = ws.query("SELECT identity, kind, state, hint FROM steps");
    assert_eq!(steps, [[FRESH, "signature", "blocked", NO_TOKEN_HINT]]);
    assert!(sim.calls_to("/cgi-bin/account/modifysignature").is_empty());

    let status = ws.test().args(["status"]).run().stdout;
    let section: Vec<&str> =
        status.lines().skip_while(|l| !l.starts_with("blocked (")).take_while(|l| !l.is_empty()).collect();
    assert_eq!(
        section,
        [
            "blocked (waiting for something outside the sheet; no sheet change needed):".to_string(),
            format!("  {FRESH}   signature      {NO_TOKEN_MESSAGE}"),
            format!("      to fix: {NO_TOKEN_HINT}"),
        ],
        "{status}"
    );
}

/// The steps' records that say whether and when each was tried: identity, kind, state,
/// attempts, tried_at.
fn tries(ws: &Workspace) -> Vec<Vec<String>> {
    ws.query("SELECT identity, kind, state, attempts, tried_at FROM steps ORDER BY identity, kind")
}

#[test]
fn a_blocked_row_is_not_tried_again_the_same_day_until_its_token_is_imported_or_recovered() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{FRESH},导入令牌之后的简介。\n{SECOND},找回令牌之后的简介。\n"));
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert_eq!(result_for(&ws, FRESH)["signature"], "blocked");
    assert_eq!(result_for(&ws, SECOND)["signature"], "blocked");
    let blocked = tries(&ws);
    assert_eq!(blocked.len(), 2);
    assert_eq!(blocked[0][0], SECOND);
    assert!(blocked.iter().all(|r| r[2] == "blocked" && r[3] == "1" && r[4] != "NULL"), "{blocked:?}");

    // The same day, nothing changed: the run sends nothing at all and leaves the records be.
    let calls = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert_eq!(sim.calls().len(), calls, "no call: {:#?}", &sim.calls()[calls..]);
    assert_eq!(tries(&ws), blocked);
    for appid in [FRESH, SECOND] {
        let row = result_for(&ws, appid);
        assert_eq!(row["signature"], "blocked");
        assert_eq!(row["message"], NO_TOKEN_MESSAGE.replace(FRESH, appid));
        assert_eq!(row["hint"], NO_TOKEN_HINT);
    }

    // One account's token imported: the next run finishes its row — same sheet, no
    // --retry-failed — and still sends nothing for the other.
    ws.write("tokens.csv", format!("{FRESH},refreshtoken@@@mp-fresh-0001\n"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    let calls = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert_eq!(result_for(&ws, FRESH)["signature"], "done");
    assert_eq!(result_for(&ws, SECOND)["signature"], "blocked");
    let sent = &sim.calls()[calls..];
    let for_second: Vec<_> =
        sent.iter().filter(|c| c["appid"] == SECOND || c["body"]["authorizer_appid"] == SECOND).collect();
    assert!(for_second.is_empty(), "{for_second:#?}");
    assert_eq!(tries(&ws)[0], blocked[0], "the other row's record is as it was");
    let state = sim.get("/__sim/state");
    assert_eq!(state["mini_programs"][FRESH]["signature"], "导入令牌之后的简介。");

    // `tokens recover` stores the other's: the next run finishes it too, and the run is clean.
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, SECOND)["signature"], "done");
    assert_eq!(result_for(&ws, FRESH)["signature"], "done");
    assert_eq!(sim.get("/__sim/state")["mini_programs"][SECOND]["signature"], "找回令牌之后的简介。");
    let sets = sim.calls_to("/cgi-bin/account/modifysignature");
    let set_for: Vec<&str> = sets.iter().filter_map(|c| c["appid"].as_str()).collect();
    assert_eq!(set_for, [FRESH, SECOND], "each signature set once");
}

/// A row whose refresh token WeChat no longer takes (61023): blocked by the token call.
fn revoked(sim: &Sim, ws: &Workspace) -> String {
    let job = job(ws, &format!("appid,signature\n{FRESH},重新授权之后的新简介。\n"));
    ws.write("tokens.csv", format!("{FRESH},refreshtoken@@@mp-fresh-0001\n"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    assert_eq!(sim.post("/__sim/revoke", json!({"appid": FRESH})), json!({"revoked": 1}));
    ws.test_on(sim).args(["run", &job]).status(3).run();
    let row = result_for(ws, FRESH);
    assert_eq!((row["signature"].as_str(), row["errcode"].as_str()), ("blocked", "61023"));
    job
}

/// The token calls for `appid` among `calls`, by errcode.
fn token_calls(calls: &[serde_json::Value], appid: &str) -> Vec<i64> {
    calls
        .iter()
        .filter(|c| c["path"] == "/cgi-bin/component/api_authorizer_token" && c["body"]["authorizer_appid"] == appid)
        .map(|c| c["errcode"].as_i64().unwrap_or(-999))
        .collect()
}

#[test]
fn a_step_blocked_by_its_token_call_costs_no_call_the_same_day_and_one_the_next_beijing_day() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = revoked(&sim, &ws);
    assert_eq!(token_calls(&sim.calls(), FRESH), [61023]);

    // The same day: no token call, no modifysignature — nothing at all.
    let calls = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert_eq!(sim.calls().len(), calls, "{:#?}", &sim.calls()[calls..]);
    assert_eq!(result_for(&ws, FRESH)["errcode"], "61023");
    // `plan` foresees the same, from the ledger alone.
    let planned = ws.test_on(&sim).args(["plan", &job, "--format", "json"]).status(3).run();
    let message = ws.query("SELECT message FROM steps").remove(0).remove(0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&planned.stdout).unwrap(),
        json!([{"line": 2, "identity": FRESH, "step": "signature", "action": "block",
                "detail": format!("blocked in an earlier run today: {message} (tried again once a token of the \
                                   account is stored, else on the next Beijing day)")}])
    );
    assert_eq!(sim.calls().len(), calls, "{:#?}", &sim.calls()[calls..]);

    // Tried a day earlier (moved back in the ledger: a day before is always another Beijing
    // day): the next run tries it again, once.
    ws.query("UPDATE steps SET tried_at = tried_at - 86400000");
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    let sent = &sim.calls()[calls..];
    assert_eq!(token_calls(sent, FRESH), [61023], "{sent:#?}");
    assert!(sim.calls_to("/cgi-bin/account/modifysignature").is_empty());
    assert_eq!(result_for(&ws, FRESH)["signature"], "blocked");
    assert_eq!(ws.query("SELECT attempts FROM steps"), [["2"]]);

    // And is left alone again for the rest of that day.
    let calls = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert_eq!(sim.calls().len(), calls, "{:#?}", &sim.calls()[calls..]);
}

#[test]
fn a_blocked_row_finishes_the_run_after_serve_stores_a_new_authorization() {
    const TOKEN: &str = "wxprov-callback-token";
    const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = revoked(&sim, &ws);

    // The merchant authorizes again; serve exchanges the push's code and stores the token.
    let serve = Serve::start(
        &ws,
        &[
            ("WXPROV_TOKEN", TOKEN),
            ("WXPROV_ENCODING_AES_KEY", AES_KEY),
            ("WXPROV_COMPONENT_APPID", &sim.component_appid),
            ("WXPROV_COMPONENT_SECRET", &sim.component_secret),
            ("WXPROV_COMPONENT_VERIFY_TICKET", &sim.verify_ticket),
            ("WXPROV_API_BASE", &sim.url),
        ],
    );
    let pushed = sim.post(
        "/__sim/push",
        json!({"url": format!("{}/callback/component", serve.url), "token": TOKEN, "encoding_aes_key": AES_KEY,
               "event": "authorized", "appid": FRESH}),
    );
    assert_eq!(pushed, json!({"status": 200, "body": "success"}));
    serve.stop();
    assert_eq!(ws.query("SELECT kind, appid, outcome FROM callback_events"), [["authorized", FRESH, "stored"]]);

    // The same day, same sheet, no --retry-failed: the row is tried and finished.
    let calls = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, FRESH)["signature"], "done");
    assert_eq!(token_calls(&sim.calls()[calls..], FRESH), [0]);
    assert_eq!(sim.get("/__sim/state")["mini_programs"][FRESH]["signature"], "重新授权之后的新简介。");
}

#[test]
fn categories_by_name_on_a_ledger_without_tokens_are_blocked_not_the_cells_fault() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,categories\n{FRESH},工具/计算器;287/612\n"));
    let ran = ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert!(
        ran.stderr.contains(
            "could not read the category tree (no authorizer refresh token is stored to read the category tree \
             with: import one with `wxprov tokens import`); category names cannot be resolved: the categories step \
             of rows that give names waits for the tree"
        ),
        "{}",
        ran.stderr
    );
    let row = result_for(&ws, FRESH);
    let shown: Vec<&str> =
        ["categories", "step", "errcode", "message", "hint"].iter().map(|c| row[*c].as_str()).collect();
    assert_eq!(shown, ["blocked", "categories", "", NO_TOKEN_MESSAGE, NO_TOKEN_HINT]);
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed, [["appid", "categories", "error"]], "not the sheet's fault: no failed.csv line");
    assert!(sim.calls().iter().all(|c| c["path"] != "/cgi-bin/wxopen/getallcategories"), "{:#?}", sim.calls());

    // The token imported, the same sheet: the names resolve and the categories are added.
    ws.write("tokens.csv", format!("{FRESH},refreshtoken@@@mp-fresh-0001\n"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    ws.test_on(&sim).args(["run", &job]).run();
    assert_eq!(result_for(&ws, FRESH)["categories"], "done");
    let adds = sim.calls_to("/cgi-bin/wxopen/addcategory");
    assert_eq!(adds.len(), 1, "{adds:#?}");
    assert_eq!(
        adds[0]["body"],
        json!({"categories": [
            {"first": 287, "second": 288, "certicates": []},
            {"first": 287, "second": 612, "certicates": []},
        ]})
    );
}

#[test]
fn categories_by_name_resolve_from_the_cached_tree_on_a_ledger_without_tokens() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,categories\n{FRESH},工具/计算器\n"));
    // The tree cached by an earlier command, then every authorizer token gone.
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["categories", "--search", "计算器"]).run();
    ws.query("DELETE FROM tokens WHERE kind = 'authorizer'");
    let asked = sim.calls_to("/cgi-bin/wxopen/getallcategories").len();

    // The names resolve from the cache; the step is blocked by the account's missing token.
    ws.test_on(&sim).args(["run", &job]).status(3).run();
    let row = result_for(&ws, FRESH);
    let shown: Vec<&str> = ["categories", "message", "hint"].iter().map(|c| row[*c].as_str()).collect();
    assert_eq!(shown, ["blocked", NO_TOKEN_MESSAGE, NO_TOKEN_HINT]);
    assert_eq!(sim.calls_to("/cgi-bin/wxopen/getallcategories").len(), asked);
}
