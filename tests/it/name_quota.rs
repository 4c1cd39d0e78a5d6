//! The yearly name-change quota (#10 item 8): WeChat gives a mini-program two name changes a
//! calendar year, reset on 1 January (the current setnickname page; `getaccountbasicinfo`
//! counts them "本年"). A spent quota defers the nickname step to 1 January, Beijing time,
//! without calling setnickname; the simulator counts approved changes and refuses a third.

use crate::harness::{example_fixture, utc8, Sim, Test, Workspace};
use crate::run::{job, result_for, FRESH};

#[test]
fn a_spent_yearly_name_quota_defers_the_nickname_to_the_next_first_of_january() {
    // One of this year's two changes already used.
    let mut fixture = example_fixture();
    let fresh = fixture["mini_programs"].as_array_mut().unwrap().iter_mut().find(|m| m["appid"] == FRESH).unwrap();
    fresh["nickname_used"] = serde_json::json!(1);
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,nickname\n{FRESH},杭州示例工具\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();

    // The second change goes through WeChat's audit and is approved.
    for _ in 0..3 {
        ws.test_on(&sim).args(["run", &job]).run();
        if result_for(&ws, FRESH)["nickname"] == "done" {
            break;
        }
    }
    assert_eq!(result_for(&ws, FRESH)["nickname"], "done");
    let state = sim.get("/__sim/state");
    assert_eq!(state["mini_programs"][FRESH]["nickname_used"], 2);

    // A new name now: the quota is spent, so the step waits for 1 January without a call
    // that would spend or be refused.
    ws.write("manifest.csv", format!("appid,nickname\n{FRESH},杭州示例工具箱\n"));
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).status(4).run();
    let later: Vec<String> =
        sim.calls().into_iter().skip(before).map(|c| c["path"].as_str().unwrap_or_default().to_string()).collect();
    assert!(
        !later.iter().any(|p| p == "/wxa/setnickname" || p == "/cgi-bin/wxverify/checkwxverifynickname"),
        "{later:?}"
    );
    let row = result_for(&ws, FRESH);
    assert_eq!(row["nickname"], "deferred");
    assert_eq!(row["errcode"], "");
    assert_eq!(
        row["message"],
        "this year's name changes are spent (2/2); they reset on 1 January / 本年度名称修改次数已用完"
    );
    let steps = ws.query("SELECT state, not_before, tried_at, updated_at FROM steps WHERE kind = 'nickname'");
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0][0], "deferred");
    // 1 January after the Beijing year the step was taken in, as the ledger recorded it; the
    // two ends differ only if it was taken across midnight of 31 December. (In December the
    // first of next month is 1 January too: the message above is what tells the yearly rule
    // from the monthly one then; the date rules have unit tests at fixed times.)
    let new_year = utc8::during(utc8::next_year, &steps[0][2], &steps[0][3]);
    assert!(new_year.iter().any(|t| t.timestamp().to_string() == steps[0][1]), "{steps:?} {new_year:?}");

    // The same day, a later run leaves it deferred and calls nothing for it.
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", &job]).status(4).run();
    let again: Vec<_> = sim.calls().into_iter().skip(before).filter(|c| c["appid"] == FRESH).collect();
    assert!(again.is_empty(), "{again:#?}");
}

/// 91003 is what the simulator answers for a spent quota (no source at hand names the live
/// code); its explanation says so, whole.
#[test]
fn explain_91003_names_the_yearly_quota() {
    let ran = Test::new().args(["explain", "91003"]).run();
    assert_eq!(
        ran.stdout,
        "errcode  91003\n\
         chinese  改名状态不合法\n\
         english  the rename is not allowed in the account's current state\n\
         class    human (needs a person: the row goes to failed.csv until its input changes)\n\
         hint     Check `wxprov status` for a nickname audit still in review and wait for it. The\n\
         \x20        account's name changes for the year may also be spent (2 a calendar year, reset on 1\n\
         \x20        January; wxprov checks getaccountbasicinfo first and defers such rows itself). If\n\
         \x20        neither, look at the account on mp.weixin.qq.com, then run again with --retry-failed.\n"
    );
}
