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
    // Times shown to people are Beijing time and say so; never refreshed: `-`.
    let line = listed.stdout.lines().find(|l| l.starts_with("wx1111111111111111")).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words.len(), 10, "{line}");
    assert_eq!((words[1], words[2], words[3]), ("authorizer", "yes", "import"), "{line}");
    let digits = |w: &str, shape: &str| {
        w.len() == shape.len()
            && w.chars().zip(shape.chars()).all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s })
    };
    assert!(digits(words[4], "dddd-dd-dd") && digits(words[5], "dd:dd"), "{line}");
    assert_eq!(&words[6..], ["Beijing", "time", "-", "-"], "{line}");
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

#[test]
fn an_import_may_carry_each_accounts_permission_sets() {
    let ws = Workspace::new();
    ws.write("tokens.csv", "appid,refresh_token,func_info\nwx1111111111111111,r1,17;30 31\nwx2222222222222222,r2,\n");
    ws.test().args(["tokens", "import", "tokens.csv"]).stdout_has("imported 2 refresh tokens").run();
    assert_eq!(
        ws.query("SELECT appid, func_ids, source FROM permissions"),
        [["wx1111111111111111", "17,30,31", "import"]]
    );
    ws.write("bad.csv", "wx3333333333333333,r3,17;all\n");
    ws.test()
        .args(["tokens", "import", "bad.csv"])
        .status(2)
        .stderr_has("line 1, column func_info: \"17;all\" is not a list of permission set ids like 17;18;30;31")
        .run();
    assert_eq!(ws.query("SELECT count(*) FROM tokens WHERE appid = 'wx3333333333333333'"), [["0"]]);
}
