//! One appid rule (`src/wechat/appid.rs`), whichever way an appid comes in: a sheet cell,
//! `wxprov quota`'s argument and the account of `serve`'s registration redirect each take
//! `wx` and 16 hex digits in either case, go on with it in lower case, and refuse anything
//! else, saying so the way that entry point speaks.

use crate::harness::{Serve, Sim, Workspace};
use crate::run::{job, FRESH};
use crate::serve::{callbacks, page};

/// [`FRESH`] as a sheet or a shell may hold it, in upper case: the same account.
const GOOD: &str = "WXE5F52902CF4DE896";
/// The documents' own example appid, a digit short.
const BAD: &str = "wx28f759479ea1e09";

#[test]
fn a_sheet_cell_takes_the_good_appid_in_lower_case_and_refuses_the_bad_one() {
    assert_eq!(GOOD.to_ascii_lowercase(), FRESH);
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,signature\n{GOOD},一段新的简介文字内容\n{BAD},一段新的简介文字内容\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["plan", &job, "--format", "csv"]).status(3).run();
    assert_eq!(
        ran.stdout,
        format!(
            "line,row,step,action,detail\n\
             2,{FRESH},signature,set,set the signature (0 of 5 changes used this month)\n\
             3,,row,fail,\"line 3, column appid: \"\"{BAD}\"\" is not an appid (wx followed by 16 hex digits) / \
             “{BAD}”不是有效的 appid（wx 加 16 位十六进制数字）\"\n"
        )
    );
}

#[test]
fn quota_takes_the_good_appid_in_lower_case_and_refuses_the_bad_one() {
    let sim = Sim::start();
    let ws = Workspace::new();
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let path = "/cgi-bin/account/modifysignature";
    let ran = ws.test_on(&sim).args(["quota", GOOD, path]).run();
    assert_eq!(
        ran.stdout,
        format!(
            "api                                           asked with         daily_limit     used   remain  rate_limit component_rate_limit\n\
             {path}              {FRESH}         500       12      488    6000/60s             3000/60s\n"
        )
    );
    let asked: Vec<_> = sim.calls_to("/cgi-bin/openapi/quota/get").iter().map(|c| c["appid"].clone()).collect();
    assert_eq!(asked, [FRESH], "asked with the lower-case appid");

    let calls_before = sim.calls().len();
    for (appid, official) in [(BAD, None), (GOOD, Some(BAD))] {
        let mut test = ws.test_on(&sim).args(["quota", appid, path]);
        if let Some(official) = official {
            test = test.args(["--official-appid", official]);
        }
        let ran = test.status(2).run();
        assert_eq!(
            (ran.stdout.as_str(), ran.stderr.as_str()),
            ("", &*format!("error: \"{BAD}\" is not an appid (wx followed by 16 hex digits)\n"))
        );
    }
    assert_eq!(sim.calls().len(), calls_before, "no call for a bad appid");
}

#[test]
fn serves_redirect_takes_the_good_appid_in_lower_case_and_refuses_the_bad_one() {
    let ws = Workspace::new();
    let envs = [
        ("WXPROV_TOKEN", "appidRuleToken2026"),
        ("WXPROV_ENCODING_AES_KEY", "Q2FsbGJhY2tSZWNlaXZlclRlc3RLZXkwMTIzNDU2Nzg"),
        ("WXPROV_COMPONENT_APPID", "wx0c0c0c0c0c0c0c0c"),
    ];
    let serve = Serve::start(&ws, &envs);
    // The registration link for the account, as `wxprov links` makes it (with its state).
    ws.write("merchants.csv", format!("appid,official_appid\n,{GOOD}\n"));
    ws.test()
        .env("WXPROV_COMPONENT_APPID", "wx0c0c0c0c0c0c0c0c")
        .args(["links", "merchants.csv", "--redirect-base", &serve.url])
        .stdout_has("1 links written")
        .run();
    let links = crate::run::read_csv(&ws.path().join("links.csv"));
    let link = url::Url::parse(&links[1][3]).unwrap();
    let redirect = link.query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
    let redirect = url::Url::parse(&redirect).unwrap();
    let param = |name: &str| redirect.query_pairs().find(|(k, _)| k == name).unwrap().1.into_owned();
    assert_eq!(param("official_appid"), FRESH);
    let state = param("state");

    // The account as typed, in upper case: the same account, stored in lower case.
    let (status, body) =
        serve.get(&format!("/callback/fastregister?official_appid={GOOD}&state={state}&ticket=tk-good"));
    assert_eq!((status, body), (200, page("授权成功", "授权成功，请关闭此页面。服务商将继续为您注册小程序。")));
    // A digit short: refused, recorded without an account, nothing stored.
    let (status, body) = serve.get(&format!("/callback/fastregister?official_appid={BAD}&state={state}&ticket=tk-bad"));
    let incomplete = "授权信息不完整或格式有误。请重新扫码授权；如仍有问题，请联系服务商。";
    assert_eq!((status, body), (400, page("链接无效", incomplete)));
    serve.stop();

    assert_eq!(ws.query("SELECT kind, account, value FROM tickets"), [["fastregister", FRESH, "tk-good"]]);
    assert_eq!(
        callbacks(&ws),
        [
            ["fastregister", FRESH, "stored", ""],
            ["fastregister", "", "refused", "query parameter official_appid is not wx followed by 16 hex digits"],
        ]
    );
}
