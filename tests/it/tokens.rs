//! `wxprov tokens import` and `tokens list`: refresh tokens in, never out.

use crate::harness::Workspace;

#[test]
fn imports_and_lists_without_showing_the_secret() {
    let ws = Workspace::new();
    ws.write(
        "tokens.csv",
        "appid,refresh_token\nwx1111111111111111,refreshtoken@@@AAA\nwx2222222222222222,refreshtoken@@@BBB\n",
    );
    ws.test().args(["tokens", "import", "tokens.csv"]).stdout_has("imported 2 refresh tokens").run();
    let listed = ws.test().args(["tokens", "list"]).stdout_has("wx1111111111111111").stdout_has("2 tokens").run();
    assert!(!listed.all().contains("refreshtoken@@@"), "tokens list printed a secret");
    let stored = ws.query("SELECT appid, refresh_token, source FROM tokens ORDER BY appid");
    assert_eq!(stored[0], ["wx1111111111111111", "refreshtoken@@@AAA", "import"]);
    assert_eq!(stored.len(), 2);
}

#[test]
fn a_bad_line_imports_nothing_and_names_the_line() {
    let ws = Workspace::new();
    ws.write("tokens.csv", "wx1111111111111111,r1\nnot-an-appid,r2\n");
    let ran = ws
        .test()
        .args(["tokens", "import", "tokens.csv"])
        .status(2)
        .stderr_has("line 2, column appid")
        .stderr_has("nothing was imported")
        .run();
    assert!(!ran.all().contains("r2\""));
    assert!(ws.query("SELECT appid FROM tokens").is_empty());
}

#[test]
fn the_ledger_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::new();
    ws.write("tokens.csv", "wx1111111111111111,r1\n");
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    let mode = std::fs::metadata(ws.ledger()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
