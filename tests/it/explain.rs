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

/// Every errcode `golive.md` names (its copy in wechat-open's fixtures, which a unit test
/// there keeps equal to `../shared/api-docs/golive.md`): each 5- or 7-digit number standing
/// alone, and −1.
fn golive_codes() -> Vec<i64> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/wechat-open/fixtures/api-docs/golive.md");
    let doc = std::fs::read_to_string(path).expect("golive.md's copy");
    let mut codes: Vec<i64> = doc
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| matches!(w.len(), 5 | 7) && w.bytes().all(|b| b.is_ascii_digit()))
        .map(|w| w.parse().expect("digits"))
        .collect();
    assert!(doc.contains("−1,"), "golive.md's §6 names −1");
    codes.push(-1);
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// `explain` knows every go-live code: its Chinese text, a class, a hint — never "unknown".
#[test]
fn explains_every_golive_code() {
    let codes = golive_codes();
    assert!(codes.len() >= 85, "only {} codes found in golive.md", codes.len());
    for code in codes {
        let ran = Test::new().args(["explain", &code.to_string()]).run();
        assert!(!ran.stdout.contains("unknown to wxprov's catalogue"), "{code}:\n{}", ran.stdout);
        for label in ["chinese  ", "english  ", "class    ", "hint     "] {
            assert!(ran.stdout.lines().any(|l| l.starts_with(label)), "{code} has no {label:?} line:\n{}", ran.stdout);
        }
    }
}

/// The go-live classes, whole: an audit already running (followed when it is the row's),
/// a release already made (done), a domain missing from the platform's list (blocked), and
/// the audit quota, which a later run's queryquota can end early.
#[test]
fn explains_the_golive_classes_whole() {
    let ran = Test::new().args(["explain", "85009"]).run();
    assert_eq!(
        ran.stdout,
        "errcode  85009\n\
         chinese  已经有正在审核的版本\n\
         english  a version is already in audit (one at a time per mini-program)\n\
         class    review (an audit is already running: wxprov follows it when get_latest_auditstatus\n\
         \x20        shows this row's user_version (never submitting again while it runs); someone else's\n\
         \x20        audit blocks the step)\n\
         hint     An audit is already running. If it is this row's user_version wxprov follows it (push\n\
         \x20        or get_auditstatus); if it is another version, the step is blocked: wait for that\n\
         \x20        audit, or withdraw it (undocodeaudit), then run again.\n"
    );
    let ran = Test::new().args(["explain", "85052"]).run();
    assert_eq!(
        ran.stdout,
        "errcode  85052\n\
         chinese  版本已发布\n\
         english  the approved version is already released\n\
         class    done (already so: once live state confirms it, wxprov counts the step as done)\n\
         hint     The approved version is already released: wxprov confirms it with getversioninfo and\n\
         \x20        counts the release step as done. Nothing to fix.\n"
    );
    let ran = Test::new().args(["explain", "85018"]).run();
    assert_eq!(
        ran.stdout,
        "errcode  85018\n\
         chinese  域名没有在第三方平台设置\n\
         english  the domain is not on the third-party platform's own server-domain list\n\
         class    blocked (outside the sheet: the step is blocked until what the hint names is fixed (a\n\
         \x20        token imported or recovered, a new authorization); a later run tries it again, no sheet\n\
         \x20        change needed)\n\
         hint     A domain in server_domains is not on the platform's own server-domain list. Add it on\n\
         \x20        open.weixin.qq.com (第三方平台 → 开发资料 → 服务器域名, or modify_wxa_server_domain),\n\
         \x20        then run again; no sheet change needed.\n"
    );
    // The retry time depends on the clock: every line but that one, whole, and that one's form.
    let ran = Test::new().args(["explain", "85085"]).run();
    let (before, after) = ran.stdout.split_once("         if hit now: ").expect("a retry time");
    let (at, rest) = after.split_once('\n').expect("a line");
    assert_eq!(
        before,
        "errcode  85085\n\
         chinese  小程序提审数量已达本月上限\n\
         english  the platform's monthly audit quota is used up\n\
         class    defer (not now, a quota spent or a scan still running: wxprov defers the step until the\n\
         \x20        retry time below, then a run continues it)\n\
         retry    from the first run whose queryquota shows rest > 0; at the latest the first of next\n\
         \x20        month, Beijing time (00:00 UTC+8)\n"
    );
    assert!(at.ends_with("-01 00:00 Beijing time") && at.len() == "2027-01-01 00:00 Beijing time".len(), "{at}");
    assert_eq!(
        rest,
        "hint     The platform's audit quota for this month is used up (one pool for every mini-program\n\
         \x20        of the platform). wxprov defers the row and submits it as soon as a later run's\n\
         \x20        queryquota shows rest > 0 (a temporary increase from 小程序服务商助手 → 审核管理), at\n\
         \x20        the latest on the first of next month, Beijing time.\n"
    );
}

/// 61039 waits a minute in the same run, never committing again.
#[test]
fn explains_the_privacy_scan_wait() {
    Test::new()
        .args(["explain", "61039"])
        .stdout_has("隐私接口检查任务未完成，请稍等一分钟再重试")
        .stdout_has("retry    from a minute later, in the same run (never committing again)\n")
        .stdout_has("without\n         committing again")
        .run();
}
