//! The `blocked` state when WeChat's answer to the work itself says so (DESIGN §4, #10 item
//! 4): a permission set the account did not grant (48001, 61007), an authorization it revoked
//! (61003), an API banned or an account frozen (48004, 50002). The row is blocked with the
//! catalogue's fix, kept out of failed.csv (the sheet is not at fault), the run exits 3, other
//! accounts go on — and a second run the same Beijing day sends nothing for it, so a night of
//! blocked rows costs no calls; the next Beijing day it is tried once more and finishes.

use serde_json::json;

use crate::harness::{Sim, Workspace};
use crate::run::{job, read_csv, result_for, FRESH};

/// A mini-program of the example fixture whose signature is 旧的功能介绍。.
const SECOND: &str = "wxa1b2c3d4e5f60102";
const MODIFYSIGNATURE: &str = "/cgi-bin/account/modifysignature";

/// The codes, with the Chinese text results.csv quotes and the hint it gives (the hint of
/// 48001 says a new authorization through `serve` is the fix, #10 item 5).
const BLOCKING: [(i64, &str, &str); 5] = [
    (
        48001,
        "api 功能未授权",
        "The account has not given the platform this API's permission set (or cannot use it yet, e.g. not \
         verified). Have its admin authorize the platform again with every permission set ticked: `wxprov serve` \
         stores the new refresh token from WeChat's push, and the next run continues the row. No sheet change needed.",
    ),
    (
        61007,
        "该接口的权限集未授权给第三方平台",
        "The account authorized the platform without this API's permission set. Have its admin authorize again \
         with every permission set ticked (fastregister-intro lists the five): `wxprov serve` stores the new refresh \
         token from WeChat's push, and the next run continues the row. No sheet change needed.",
    ),
    (
        61003,
        "该帐号未授权给此第三方平台",
        "The account in the appid / official_appid column has not authorized this platform, or has revoked it. If \
         the column is right, have the account's admin authorize the platform: `wxprov serve` stores the refresh \
         token from WeChat's push (or run `wxprov tokens recover`), and the next run continues the row.",
    ),
    (
        48004,
        "api 接口被封禁",
        "WeChat has banned this API for the account after irregularities; the merchant must see to it on \
         mp.weixin.qq.com. A later run tries the step again; no sheet change needed.",
    ),
    (
        50002,
        "用户受限，可能是违规后接口被封禁",
        "The account is frozen, closed or restricted by WeChat; the merchant must restore it on mp.weixin.qq.com. A \
         later run tries the step again; no sheet change needed.",
    ),
];

/// The calls the simulator received for `appid` (as the caller or as the account a
/// component call is about) among `calls`.
fn calls_for<'a>(calls: &'a [serde_json::Value], appid: &str) -> Vec<&'a serde_json::Value> {
    calls.iter().filter(|c| c["appid"] == appid || c["body"]["authorizer_appid"] == appid).collect()
}

#[test]
fn an_answer_that_blocks_the_work_blocks_only_that_row_and_costs_no_call_again_the_same_day() {
    for (code, zh, hint) in BLOCKING {
        let sim = Sim::start();
        let ws = Workspace::new();
        let job =
            job(&ws, &format!("appid,signature\n{FRESH},被拦下之后的新简介{code}。\n{SECOND},另一个账号的新简介。\n"));
        ws.test_on(&sim).args(["tokens", "recover"]).run();
        sim.post(
            "/__sim/faults",
            json!({"path": MODIFYSIGNATURE, "kind": "errcode", "errcode": code, "appid": FRESH, "times": 1}),
        );
        ws.test_on(&sim).args(["run", &job]).status(3).run();

        let row = result_for(&ws, FRESH);
        let shown: Vec<&str> = ["signature", "step", "errcode", "hint"].iter().map(|c| row[*c].as_str()).collect();
        assert_eq!(shown, ["blocked", "signature", &code.to_string(), hint], "{code}");
        let message = row["message"].as_str();
        assert!(message.starts_with(&format!("{MODIFYSIGNATURE}: errcode {code} ({zh}): ")), "{code}: {message}");
        let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
        assert_eq!(failed, [["appid", "signature", "error"]], "{code}: not the sheet's fault");
        assert_eq!(result_for(&ws, SECOND)["signature"], "done", "{code}: the other account goes on");
        assert_eq!(
            ws.query(&format!("SELECT state, errcode, attempts FROM steps WHERE identity = '{FRESH}'")),
            [["blocked", &code.to_string(), "1"]],
            "{code}"
        );

        // The same Beijing day, nothing changed: nothing at all is sent for the row.
        let before = sim.calls().len();
        ws.test_on(&sim).args(["run", &job]).status(3).run();
        let later = sim.calls()[before..].to_vec();
        assert!(calls_for(&later, FRESH).is_empty(), "{code}: {later:#?}");
        assert_eq!(result_for(&ws, FRESH)["errcode"], code.to_string(), "{code}");

        // Tried a day earlier (moved back in the ledger: a day before is always another
        // Beijing day): the next run tries it once more, and — the cause gone — finishes it
        // with no sheet change and no --retry-failed.
        ws.query("UPDATE steps SET tried_at = tried_at - 86400000");
        ws.test_on(&sim).args(["run", &job]).run();
        assert_eq!(result_for(&ws, FRESH)["signature"], "done", "{code}");
        let sent: Vec<(String, i64)> = sim
            .calls_to(MODIFYSIGNATURE)
            .iter()
            .filter(|c| c["appid"] == FRESH)
            .map(|c| (c["body"]["signature"].as_str().unwrap_or_default().to_string(), c["errcode"].as_i64().unwrap()))
            .collect();
        let text = format!("被拦下之后的新简介{code}。");
        assert_eq!(sent, [(text.clone(), code), (text.clone(), 0)], "{code}: sent twice in three runs");
        assert_eq!(sim.get("/__sim/state")["mini_programs"][FRESH]["signature"], text.as_str(), "{code}");
    }
}
