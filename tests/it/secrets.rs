//! Secrets stay secret: after a session of commands against the simulator, none of the
//! access or refresh tokens it issued appears in any output, error, or ledger table but the
//! token store.

use serde_json::json;

use crate::harness::{assert_no_secret, Sim, Workspace};

/// Every ledger table but `tokens`, as text.
pub fn ledger_dump(ws: &Workspace) -> String {
    let tables = ws.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'tokens'");
    let mut out = String::new();
    for table in tables {
        for row in ws.query(&format!("SELECT * FROM {}", table[0])) {
            out.push_str(&row.join("|"));
            out.push('\n');
        }
    }
    out
}

#[test]
fn no_issued_token_leaks_into_output_errors_or_the_ledger() {
    let sim = Sim::start();
    let ws = Workspace::new();
    ws.write(
        "tokens.csv",
        "appid,refresh_token\nwxe5f52902cf4de896,refreshtoken@@@mp-fresh-0001\nwx28f759479ea1e090,refreshtoken@@@oa-hangzhou-0001\n",
    );
    let mut output = String::new();
    let mut run = |t: crate::harness::Test| output.push_str(&t.arg("-vv").run().all());
    run(ws.test_on(&sim).args(["tokens", "import", "tokens.csv"]));
    run(ws.test_on(&sim).args(["quota", "wxe5f52902cf4de896"]));
    run(ws.test_on(&sim).args(["categories", "--appid", "wxe5f52902cf4de896", "--search", "教育"]));
    // A forced expiry, a refresh, and an error path.
    sim.post("/__sim/expire", json!({"appid": "wxe5f52902cf4de896"}));
    run(ws.test_on(&sim).args(["quota", "wxe5f52902cf4de896", "/cgi-bin/account/modifysignature"]));
    sim.post("/__sim/revoke", json!({"appid": "wx28f759479ea1e090"}));
    run(ws.test_on(&sim).args(["quota", "wx28f759479ea1e090"]).status(1));
    run(ws.test_on(&sim).args(["tokens", "recover", "--all"]));
    run(ws.test_on(&sim).args(["tokens", "list"]));

    let secrets = sim.secrets();
    assert!(secrets.len() >= 4, "the simulator issued tokens: {secrets:?}");
    assert_no_secret("command output and logs", &output, &secrets);
    assert_no_secret("the ledger outside the token store", &ledger_dump(&ws), &secrets);
    // The token store does hold them: that is where they belong.
    let stored = ws.query("SELECT refresh_token FROM tokens WHERE appid = 'wxe5f52902cf4de896'");
    assert!(secrets.contains(&stored[0][0]));
}
