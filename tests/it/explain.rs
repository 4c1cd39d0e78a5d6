//! `wxprov explain`: the catalogue, from the command line.

use crate::harness::Test;

#[test]
fn explains_a_known_code() {
    Test::new()
        .args(["explain", "61055"])
        .stdout_has("超出公众号每月可快速创建限额")
        .stdout_has("defer")
        .stdout_has("first of next month")
        .stdout_has("hint")
        .run();
}

#[test]
fn explains_a_defer_code_with_its_retry_time() {
    Test::new().args(["explain", "53200"]).stdout_has("defer").stdout_has("first of next month").run();
}

#[test]
fn explains_minus_one_as_retry() {
    Test::new().args(["explain", "-1"]).stdout_has("系统繁忙").stdout_has("retry").run();
}

#[test]
fn an_unknown_code_is_said_to_be_unknown_with_its_class() {
    Test::new().args(["explain", "12345"]).stdout_has("unknown").stdout_has("human").run();
}

#[test]
fn a_word_is_a_usage_error() {
    Test::new().args(["explain", "abc"]).status(2).stderr_has("not an errcode").run();
}

/// The codes #10 added, their whole explanation: a code seen on the live platform (41033),
/// one outside the sheet (50002), and one keyed by whose credentials the call carried (40013).
#[test]
fn explains_the_added_codes_whole() {
    let ran = Test::new().args(["explain", "41033"]).run();
    assert_eq!(
        ran.stdout,
        "errcode  41033\n\
         chinese  非法的注册类型（帐号不是通过第三方平台接口创建的）\n\
         english  invalid register type: the account was not created through the platform's APIs\n\
         class    human (needs a person: the row goes to failed.csv until its input changes)\n\
         hint     This mini-program was not fast-registered through this platform, so WeChat does not let\n\
         \x20        the platform read or set its name this way. Check the appid column; if it is right,\n\
         \x20        clear the nickname cell and set the name on mp.weixin.qq.com.\n"
    );
    let ran = Test::new().args(["explain", "50002"]).run();
    assert_eq!(
        ran.stdout,
        "errcode  50002\n\
         chinese  用户受限，可能是违规后接口被封禁\n\
         english  user limited: the account is frozen or closed\n\
         class    blocked (outside the sheet: the step is blocked until what the hint names is fixed (a\n\
         \x20        token imported or recovered, a new authorization); a later run tries it again, no sheet\n\
         \x20        change needed)\n\
         hint     The account is frozen, closed or restricted by WeChat; the merchant must restore it on\n\
         \x20        mp.weixin.qq.com. A later run tries the step again; no sheet change needed.\n"
    );
    let ran = Test::new().args(["explain", "40013"]).run();
    assert_eq!(
        ran.stdout,
        "errcode  40013\n\
         chinese  不合法的 AppID\n\
         english  invalid AppID\n\
         class    human (needs a person: the row goes to failed.csv until its input changes)\n\
         hint     Check the appid / official_appid column: `wx` followed by 16 hex digits, no spaces or\n\
         \x20        stray characters, and an account that exists.\n\
         on       a call with the component's own credentials (api_component_token, or a\n\
         \x20        component_access_token call):\n\
         english  invalid AppID: WeChat does not know the component appid\n\
         class    stop (the platform's own credentials or setup: wxprov stops the run at once (exit 1)\n\
         \x20        and changes no row; fix what the hint says and run again)\n\
         hint     WXPROV_COMPONENT_APPID is not the third-party platform's appid: copy it from\n\
         \x20        open.weixin.qq.com (管理中心 → 第三方平台), then run again. No row needs changing.\n"
    );
}

/// Every code #10 added or reclassified, through `explain`: the class DESIGN §5 and the
/// issue give it (written out here, not read from the catalogue), the retry time of a defer,
/// and the catalogue's text and hint as printed (continuation lines joined).
#[test]
fn explains_every_code_issue_10_added_with_its_class() {
    const CODES: [(i64, &str); 26] = [
        (41033, "human"),
        (53205, "human"),
        (40004, "human"),
        (40006, "human"),
        (41005, "human"),
        (47003, "human"),
        (76021, "human"),
        (76022, "human"),
        (91019, "human"),
        (53203, "defer"),
        (61055, "defer"),
        (45009, "defer"),
        (50002, "blocked"),
        (48004, "blocked"),
        (48001, "blocked"),
        (61003, "blocked"),
        (61007, "blocked"),
        (61023, "blocked"),
        (40125, "stop"),
        (41004, "stop"),
        (45035, "stop"),
        (61004, "stop"),
        (61005, "stop"),
        (61006, "stop"),
        (61028, "stop"),
        (61029, "stop"),
    ];
    for (code, class) in CODES {
        let entry = wxprov::wechat::errcode::lookup(code).unwrap_or_else(|| panic!("{code} is not catalogued"));
        let out = Test::new().args(["explain", &code.to_string()]).run().stdout;
        // Fields as `explain` prints them: a label in the first 9 columns, continuation
        // lines indented; each field's text joined back into one line.
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in out.lines() {
            let (label, text) = (line[..9].trim(), line[9..].trim());
            match fields.last_mut() {
                Some(last) if label.is_empty() => last.1 = format!("{} {text}", last.1),
                _ => fields.push((label.to_string(), text.to_string())),
            }
        }
        let field = |name: &str| fields.iter().find(|(l, _)| l == name).map(|(_, t)| t.as_str()).unwrap_or_default();
        assert_eq!(field("errcode"), code.to_string(), "{out}");
        assert_eq!(field("chinese"), entry.zh, "{out}");
        assert_eq!(field("english"), entry.en, "{out}");
        assert!(field("class").starts_with(&format!("{class} (")), "{code} is {class}:\n{out}");
        assert_eq!(field("hint"), entry.hint, "{out}");
        assert_eq!(field("retry").is_empty(), class != "defer", "a defer says when it goes again:\n{out}");
    }
}
