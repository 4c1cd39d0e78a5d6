//! The `blocked` state (DESIGN §4, §6): a step waiting for something outside the sheet — here
//! a refresh token the ledger does not hold — is `blocked`, says what to fix, keeps the row
//! out of `failed.csv` (the sheet is not at fault), makes the run exit 3, and `status` lists
//! it with the fix.

use crate::harness::{Sim, Workspace};
use crate::run::{job, read_csv, result_for, FRESH};

const NO_TOKEN_MESSAGE: &str = "no refresh token for wxe5f52902cf4de896: import it with `wxprov tokens import FILE` \
    or run `wxprov tokens recover`";
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
