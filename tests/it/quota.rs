//! `quota/get` as the live platform answers it: `wxprov quota` prints the daily quota and the
//! rate limits WeChat states (`rate_limit`, `component_rate_limit`), asking each path with the
//! token of the account that calls it; a run asks once per API path and Beijing day and paces
//! the path by the stated limit; a failing `quota/get` only means no stated limit.

use serde_json::{json, Value};

use crate::harness::{example_fixture, utc8, Sim, Workspace};
use crate::run::{job, result_for, CONFIGURED, FRESH};

const OA: &str = "wx28f759479ea1e090";
const OTHER_OA: &str = "wx3a1b2c3d4e5f6071";
const LEGACY: &str = "wx1a2b3c4d5e6f7080";
const QUOTA_GET: &str = "/cgi-bin/openapi/quota/get";
const SIGNATURE: &str = "/cgi-bin/account/modifysignature";

/// The `quota/get` calls the simulator received, as `(cgi_path, appid)`.
fn quota_asks(calls: &[Value]) -> Vec<(String, String)> {
    calls
        .iter()
        .filter(|c| c["path"] == QUOTA_GET)
        .map(|c| {
            let path = c["body"]["cgi_path"].as_str().unwrap_or_default().to_string();
            (path, c["appid"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// The message of each log line at `level`, without the timestamp before it.
fn logged(stderr: &str, level: &str) -> Vec<String> {
    let marker = format!(" {level} ");
    stderr.lines().filter_map(|l| l.split_once(&marker).map(|(_, m)| m.to_string())).collect()
}

#[test]
fn quota_prints_the_quota_and_stated_limits_asking_fastregister_with_the_official_account() {
    let sim = Sim::start();
    let ws = Workspace::new();
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    // A row that names the mini-program's official account: the ledger knows it from then on.
    let job = job(&ws, &format!("appid,official_appid,signature\n{FRESH},{OA},一段新的功能介绍文字。\n"));
    ws.test_on(&sim).args(["run", &job]).run();

    sim.http_delete("/__sim/calls");
    let ran = ws.test_on(&sim).args(["quota", FRESH]).run();
    let fresh = FRESH;
    assert_eq!(
        ran.stdout,
        format!(
            "\
api                                           asked with         daily_limit     used   remain  rate_limit component_rate_limit
/cgi-bin/account/fastregister                 {OA}        1000        0     1000           -                    -
/cgi-bin/wxverify/checkwxverifynickname       {fresh}        1000        0     1000    1200/60s                    -
/wxa/setnickname                              {fresh}        1000        0     1000           -                    -
/cgi-bin/account/modifyheadimage              {fresh}        1000        0     1000           -                    -
/cgi-bin/account/modifysignature              {fresh}         500       13      487    6000/60s             3000/60s
/cgi-bin/wxopen/addcategory                   {fresh}        1000        0     1000           -                    -
/cgi-bin/wxopen/deletecategory                {fresh}        1000        0     1000           -                    -
/cgi-bin/account/componentrebindadmin         {fresh}        1000        0     1000           -                    -
/cgi-bin/media/upload                         {fresh}        1000        0     1000           -                    -
"
        )
    );
    let mut asks = quota_asks(&sim.calls());
    asks.sort();
    let mut expected: Vec<(String, String)> = ran
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .map(|p| {
            let appid = if p == "/cgi-bin/account/fastregister" { OA } else { FRESH };
            (p, appid.to_string())
        })
        .collect();
    expected.sort();
    assert_eq!(asks, expected, "fastregister with the official account's token, the rest with the mini-program's");

    // --official-appid names another official account; an official account given as APPID
    // asks with its own token.
    sim.http_delete("/__sim/calls");
    let ran =
        ws.test_on(&sim).args(["quota", FRESH, "/cgi-bin/account/fastregister", "--official-appid", OTHER_OA]).run();
    assert_eq!(ran.stdout.lines().nth(1).unwrap_or_default(), format!("/cgi-bin/account/fastregister                 {OTHER_OA}        1000        0     1000           -                    -"));
    ws.test_on(&sim).args(["quota", OTHER_OA, "/cgi-bin/account/fastregister"]).run();
    assert_eq!(
        quota_asks(&sim.calls()),
        [
            ("/cgi-bin/account/fastregister".to_string(), OTHER_OA.to_string()),
            ("/cgi-bin/account/fastregister".to_string(), OTHER_OA.to_string())
        ]
    );
}

#[test]
fn a_run_asks_each_path_once_a_day_and_paces_it_by_the_stated_limit() {
    let mut fixture = example_fixture();
    fixture["quotas"][SIGNATURE] = json!({
        "daily_limit": 500,
        "rate_limit": {"call_count": 5, "refresh_second": 1},
        "component_rate_limit": {"call_count": 4, "refresh_second": 1},
    });
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let sheet = |text: &str| format!("appid,signature\n{FRESH},{text}一\n{CONFIGURED},{text}二\n{LEGACY},{text}三\n");
    let job = job(&ws, &sheet("新的功能介绍文字第一版"));
    let ran = ws.test_on(&sim).args(["run", &job]).run();
    for appid in [FRESH, CONFIGURED, LEGACY] {
        assert_eq!(result_for(&ws, appid)["signature"], "done");
    }

    // The limit the run paces modifysignature by: the lower of the two WeChat states.
    let paced =
        "WeChat limits /cgi-bin/account/modifysignature to 5 calls per 1 s (on an account's behalf 4 calls per 1 s): \
         at most one call every 250 ms";
    assert_eq!(logged(&ran.stderr, "INFO").iter().filter(|m| *m == paced).count(), 1, "{}", ran.stderr);

    // Asked once per path for the three rows, with the first row's token, before the first
    // call to the path.
    let calls = sim.calls();
    let asks = quota_asks(&calls);
    let signature_asks: Vec<_> = asks.iter().filter(|(p, _)| p == SIGNATURE).collect();
    assert_eq!(signature_asks.len(), 1, "{asks:?}");
    let seq_of = |pred: &dyn Fn(&Value) -> bool| calls.iter().find(|c| pred(c)).map(|c| c["seq"].as_u64().unwrap());
    let asked_at = seq_of(&|c| c["path"] == QUOTA_GET && c["body"]["cgi_path"] == SIGNATURE).unwrap();
    let first_call = seq_of(&|c| c["path"] == SIGNATURE).unwrap();
    assert!(asked_at < first_call, "quota/get came first");
    assert_eq!(asks.iter().filter(|(p, _)| p == "/cgi-bin/account/getaccountbasicinfo").count(), 1, "{asks:?}");
    assert_eq!(sim.calls_to(SIGNATURE).len(), 3);
    assert_eq!(
        ws.query(&format!("SELECT value FROM cache WHERE key = 'quota/get {SIGNATURE}'")),
        [[
            r#"{"rate_limit":{"call_count":5,"refresh_second":1},"component_rate_limit":{"call_count":4,"refresh_second":1}}"#
        ]]
    );

    let fetched_at = ws.query(&format!("SELECT fetched_at FROM cache WHERE key = 'quota/get {SIGNATURE}'"));

    // A second run the same Beijing day paces by the cached answer and asks nothing.
    ws.write("manifest.csv", sheet("新的功能介绍文字第二版"));
    let before = sim.calls().len();
    let ran = ws.test_on(&sim).args(["run", &job]).run();
    let later: Vec<Value> = sim.calls().into_iter().skip(before).collect();
    assert_eq!(later.iter().filter(|c| c["path"] == SIGNATURE).count(), 3);
    // "The same day" as the ledger recorded it: the answer's fetched_at and the second run's
    // end (a second run past Beijing midnight asks again, rightly).
    let ended = ws.query("SELECT finished_at FROM runs WHERE command = 'run' ORDER BY started_at DESC LIMIT 1");
    if utc8::date(utc8::secs(&fetched_at[0][0])) == utc8::date(utc8::secs(&ended[0][0])) {
        assert_eq!(quota_asks(&later), [], "read once per API path per Beijing day");
        assert_eq!(logged(&ran.stderr, "INFO").iter().filter(|m| *m == paced).count(), 1, "{}", ran.stderr);
    }
}

#[test]
fn a_failing_quota_get_only_means_no_stated_limit() {
    let sim = Sim::start();
    let ws = Workspace::new();
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    sim.post("/__sim/faults", json!({"path": QUOTA_GET, "kind": "errcode", "errcode": 76022, "times": 1}));
    sim.post("/__sim/faults", json!({"path": QUOTA_GET, "kind": "errcode", "errcode": 48001, "times": 1}));
    let job = job(&ws, &format!("appid,signature\n{FRESH},另一段新的功能介绍。\n{CONFIGURED},还有一段功能介绍。\n"));
    ws.test_on(&sim).args(["run", &job, "--concurrency", "1"]).run();
    for appid in [FRESH, CONFIGURED] {
        assert_eq!(result_for(&ws, appid)["signature"], "done");
    }
    let answered: Vec<i64> =
        sim.calls_to(QUOTA_GET).iter().map(|c| c["errcode"].as_i64().unwrap_or_default()).collect();
    assert_eq!(answered, [76022, 48001], "each path asked once; both failed; no row failed");
    // 76022 is WeChat's word for the path: cached as "no stated limit"; 48001 is not cached.
    let cached = ws.query("SELECT key, value FROM cache WHERE key LIKE 'quota/get %' ORDER BY key");
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(cached[0][1], r#"{"rate_limit":null,"component_rate_limit":null}"#);
}
