//! The `audit` and `release` steps (DESIGN §9, #14 items 3 and 4) against `wxprov sim`: the
//! platform's one monthly pool (3 places for 5 rows: 3 submitted in sheet order, 2 deferred,
//! exit 4 and the count in the summary; then the pool raised and the next run submits them),
//! 85009 followed for this row's own version and blocked for someone else's, audits settled
//! by a push through `serve` and by polling, a rejection (failed with the reason and the
//! screenshots, then a new `user_version` submitted again), `release = auto` blocked without
//! the ICP filing, and kill -9 around `submit_audit` and `release`: never two of either for
//! one change.
//!
//! Each test commits the row's code on the simulator itself and ends its privacy scan, and the
//! run that carries out the `code` and `privacy` steps is held before the audit (the guide's
//! reading refused with 61007, those two steps then marked done in the ledger), so that each
//! test's audit starts in a run of its own, as it did before those steps were built.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::crash::run_command;
use crate::harness::{example_fixture, utc8, Serve, Sim, Workspace};
use crate::run::{read_csv, results};

const TOKEN: &str = "golivePushToken2026";
const AES_KEY: &str = "R29MaXZlQXVkaXRQdXNoS2V5MDEyMzQ1Njc4OWFiY2Q";
/// The template the rows commit: one page, no privacy keys.
const TEMPLATE: i64 = 129;
const HEADER: &str = "line,appid,official_appid,register,nickname,avatar,signature,categories,rebind_admin,domains,code,privacy,audit,release,step,errcode,message,hint";

/// `n` mini-programs that can be submitted (name, avatar, signature and an approved category,
/// as the example's configured one), a pool of `quota` places, audits ended only by the
/// control API.
fn fixture(n: usize, quota: u32) -> (Value, Vec<String>) {
    let mut f = example_fixture();
    let base = f["mini_programs"][1].clone();
    let appids: Vec<String> = (0..n).map(|i| format!("wxa0d17000000000{i:02x}")).collect();
    for (i, appid) in appids.iter().enumerate() {
        let mut m = base.clone();
        m["appid"] = json!(appid);
        m["refresh_token"] = json!(format!("refreshtoken@@@mp-golive-{i:04}"));
        f["mini_programs"].as_array_mut().unwrap().push(m);
    }
    f["golive"]["audit_quota"] = json!({"limit": quota, "rest": quota, "speedup_limit": 5, "speedup_rest": 5});
    f["golive"]["code_audit"] = json!({"result": "manual"});
    // The scan of a commit ends at once: no test here waits for it.
    f["golive"]["privacy_scan"] = json!({"secs": 0, "calls": 0});
    (f, appids)
}

/// A job whose rows go live on template 129, releasing as `release` says, one row at a time.
fn workspace(rows: &[(&str, &str)], release: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("ext.json", r#"{"extAppid":"${appid}"}"#);
    ws.write(
        "job.toml",
        format!(
            "manifest = \"manifest.csv\"\nreport_dir = \"reports\"\nconcurrency = 1\n\
             [limits]\ncalls_per_second = 2000\nper_appid_per_second = 1000\n\
             [golive]\ntemplate_id = {TEMPLATE}\nuser_desc = \"门店版\"\next_json = \"ext.json\"\nrelease = \"{release}\"\n"
        ),
    );
    sheet(&ws, rows);
    ws
}

/// The sheet: each row's appid and `user_version`.
fn sheet(ws: &Workspace, rows: &[(&str, &str)]) {
    let mut csv = "appid,模板ID,版本号\n".to_string();
    for (appid, version) in rows {
        csv.push_str(&format!("{appid},{TEMPLATE},{version}\n"));
    }
    ws.write("manifest.csv", csv);
}

/// An authorizer token for `appid`, as any client gets one from the simulator.
fn token(sim: &Sim, appid: &str) -> String {
    let component = sim.post(
        "/cgi-bin/component/api_component_token",
        json!({"component_appid": sim.component_appid, "component_appsecret": sim.component_secret,
               "component_verify_ticket": sim.verify_ticket}),
    );
    let component = component["component_access_token"].as_str().unwrap().to_string();
    let refresh = sim.fixture["mini_programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["appid"] == appid)
        .map(|m| m["refresh_token"].clone())
        .unwrap();
    let answer = sim.post(
        &format!("/cgi-bin/component/api_authorizer_token?component_access_token={component}"),
        json!({"component_appid": sim.component_appid, "authorizer_appid": appid, "authorizer_refresh_token": refresh}),
    );
    answer["authorizer_access_token"].as_str().unwrap().to_string()
}

/// What the `code` step does: commits `version` of the template for `appid`, and the privacy
/// scan ends.
fn commit(sim: &Sim, appid: &str, version: &str) {
    let token = token(sim, appid);
    let ext = json!({"extAppid": appid}).to_string();
    let answer = sim.post(
        &format!("/wxa/commit?access_token={token}"),
        json!({"template_id": TEMPLATE, "ext_json": ext, "user_version": version, "user_desc": "门店版"}),
    );
    assert_eq!(answer["errcode"], 0, "{answer}");
    sim.post("/__sim/privacy_scan", json!({"appid": appid}));
}

/// Submits `appid`'s trial version for audit outside wxprov (the console, another tool).
fn submit_elsewhere(sim: &Sim, appid: &str) -> i64 {
    let token = token(sim, appid);
    let answer = sim.post(&format!("/wxa/submit_audit?access_token={token}"), json!({}));
    assert_eq!(answer["errcode"], 0, "{answer}");
    answer["auditid"].as_i64().unwrap()
}

/// The first run records the go-live steps; the `code` and `privacy` steps this build does not
/// carry out are then marked done, as the code the tests committed makes them.
fn first_run(ws: &Workspace, sim: &Sim) {
    ws.test_on(sim).args(["tokens", "recover"]).run();
    run_before_the_audit(ws, sim);
}

/// A run that commits and stops before the audit: the guide cannot be read (61007 blocks the
/// `privacy` step, so the audit waits), and `code` and `privacy` are then marked done.
fn run_before_the_audit(ws: &Workspace, sim: &Sim) {
    sim.post(
        "/__sim/faults",
        json!({"path": "/cgi-bin/component/getprivacysetting", "kind": "errcode", "errcode": 61007, "times": 1000}),
    );
    ws.test_on(sim).args(["run", "job.toml"]).status(3).run();
    sim.http_delete("/__sim/faults");
    code_done(ws);
}

fn code_done(ws: &Workspace) {
    ws.query("UPDATE steps SET state = 'done', message = 'committed by the test' WHERE kind IN ('code', 'privacy')");
}

/// The appids of the calls to `path` since the log was cleared.
fn appids_of(sim: &Sim, path: &str) -> Vec<String> {
    sim.calls_to(path).iter().map(|c| c["appid"].as_str().unwrap_or_default().to_string()).collect()
}

/// results.csv's rows but the header, each joined with `,`.
fn rows(ws: &Workspace) -> Vec<String> {
    let all = results(ws);
    assert_eq!(all[0].join(","), HEADER);
    all[1..].iter().map(|r| r.join(",")).collect()
}

fn summary(ws: &Workspace) -> Value {
    serde_json::from_slice(&std::fs::read(ws.path().join("reports/latest/summary.json")).unwrap()).unwrap()
}

/// An hour has passed since the audits were last asked about.
fn an_hour_later(ws: &Workspace) {
    ws.query("UPDATE steps SET not_before = not_before - 3600 WHERE kind = 'audit' AND state = 'in_review'");
}

fn audit_id(ws: &Workspace, appid: &str) -> String {
    let found = ws.query(&format!(
        "SELECT audit_id FROM steps WHERE kind = 'audit' AND identity IN (SELECT identity FROM rows WHERE appid = '{appid}')"
    ));
    found[0][0].clone()
}

#[test]
fn a_pool_of_three_for_five_rows_submits_three_in_sheet_order_and_the_next_run_the_rest() {
    let (fixture, appids) = fixture(5, 3);
    let sim = Sim::with_fixture(fixture, &[]);
    let rows_in: Vec<(&str, &str)> = appids.iter().map(|a| (a.as_str(), "1.0.0")).collect();
    let ws = workspace(&rows_in, "manual");
    for appid in &appids {
        commit(&sim, appid, "1.0.0");
    }
    first_run(&ws, &sim);
    sim.http_delete("/__sim/calls");

    let ran = ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(sim.calls_to("/wxa/queryquota").len(), 1, "one queryquota for the whole run");
    assert_eq!(appids_of(&sim, "/wxa/submit_audit"), appids[..3], "submitted in sheet order");
    let ids: Vec<String> = appids[..3].iter().map(|a| audit_id(&ws, a)).collect();
    let mut expected: Vec<String> = appids[..3]
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (a, id))| {
            format!(
                "{},{a},,,,,,,,,done,done,in_review,pending,audit,,submitted; in WeChat's audit (audit {id}),",
                i + 2
            )
        })
        .collect();
    let next_month = utc8::next_month(chrono::Utc::now()).timestamp().to_string();
    for (i, a) in appids[3..].iter().enumerate() {
        expected.push(format!(
            "{},{a},,,,,,,,,done,done,deferred,pending,audit,85085,the platform's audit quota is spent (0 of 3 left this month); \
             submitted by the first run whose queryquota shows some left / 本月提审额度已用完,",
            i + 5
        ));
    }
    assert_eq!(rows(&ws), expected, "{}", ran.stderr);
    assert_eq!(summary(&ws)["audit_quota"], json!({"rest_at_start": 3, "limit": 3, "submitted": 3, "deferred": 2}));
    assert!(
        ran.stdout.contains("audit quota: 3 submitted, 2 deferred (queryquota showed 3 of 3 left this month)\n"),
        "{}",
        ran.stdout
    );
    let deferred = ws.query("SELECT not_before FROM steps WHERE kind = 'audit' AND state = 'deferred'");
    assert_eq!(deferred, [[next_month.clone()], [next_month]], "at the latest the first of next month");

    // The pool raised (a temporary increase): the next run submits the two, and leaves the
    // three in review alone (asked about at most hourly).
    sim.post("/__sim/audit_quota", json!({"limit": 5, "rest": 2}));
    sim.http_delete("/__sim/calls");
    let ran = ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(sim.calls_to("/wxa/queryquota").len(), 1);
    assert_eq!(appids_of(&sim, "/wxa/submit_audit"), appids[3..]);
    assert!(sim.calls_to("/wxa/get_auditstatus").is_empty(), "the three were asked about less than an hour ago");
    let states: Vec<String> = results(&ws)[1..].iter().map(|r| r[12].clone()).collect();
    assert_eq!(states, ["in_review"; 5]);
    assert_eq!(summary(&ws)["audit_quota"], json!({"rest_at_start": 2, "limit": 5, "submitted": 2, "deferred": 0}));
    assert!(ran.stdout.contains("audit quota: 2 submitted, 0 deferred (queryquota showed 2 of 5 left this month)\n"));
    assert_eq!(sim.get("/__sim/state")["golive"]["pool"]["rest"], 0);
}

#[test]
fn an_audit_already_running_is_followed_when_it_is_this_rows_version_and_blocks_otherwise() {
    let (fixture, appids) = fixture(2, 10);
    let sim = Sim::with_fixture(fixture, &[]);
    let (own, other) = (&appids[0], &appids[1]);
    let ws = workspace(&[(own, "1.0.0"), (other, "1.0.0")], "manual");
    // The first row's version is already in review (submitted in the console); on the second,
    // someone else's version 9.9.9 is, and the row's own code was committed after it.
    commit(&sim, own, "1.0.0");
    let running = submit_elsewhere(&sim, own);
    commit(&sim, other, "9.9.9");
    let theirs = submit_elsewhere(&sim, other);
    commit(&sim, other, "1.0.0");
    first_run(&ws, &sim);
    sim.http_delete("/__sim/calls");

    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert_eq!(appids_of(&sim, "/wxa/submit_audit"), [own.clone(), other.clone()]);
    assert!(sim.calls_to("/wxa/submit_audit").iter().all(|c| c["errcode"] == 85009));
    assert_eq!(appids_of(&sim, "/wxa/get_latest_auditstatus"), [own.clone(), other.clone()]);
    assert_eq!(
        rows(&ws),
        [
            format!("2,{own},,,,,,,,,done,done,in_review,pending,audit,,following this version's audit already running (audit {running}),"),
            format!(
                "3,{other},,,,,,,,,done,done,blocked,pending,audit,85009,an audit of version \"9.9.9\" (audit {theirs}) is running, \
                 not of this row's version \"1.0.0\": one audit at a time per mini-program / 已有其他版本正在审核,\
                 Someone else's audit is running on this mini-program. Wait for it to end, or withdraw it (undocodeaudit or the \
                 console); the step is tried again on the next Beijing day."
            ),
        ]
    );
    assert_eq!(audit_id(&ws, own), running.to_string(), "the running audit is the one followed");
    // Neither refusal took from the pool.
    assert_eq!(summary(&ws)["audit_quota"], json!({"rest_at_start": 8, "limit": 10, "submitted": 0, "deferred": 0}));
}

#[test]
fn audits_settle_by_a_push_through_serve_or_by_polling_and_auto_release_needs_the_icp_filing() {
    let (mut fixture, appids) = fixture(3, 10);
    let (pushed, polled, unfiled) = (&appids[0], &appids[1], &appids[2]);
    fixture["golive"]["icp"][unfiled] = json!(1024);
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = workspace(&[(pushed, "1.0.0"), (polled, "1.0.0"), (unfiled, "1.0.0")], "auto");
    for appid in &appids {
        commit(&sim, appid, "1.0.0");
    }
    let serve = Serve::start(
        &ws,
        &[
            ("WXPROV_TOKEN", TOKEN),
            ("WXPROV_ENCODING_AES_KEY", AES_KEY),
            ("WXPROV_COMPONENT_APPID", &sim.component_appid),
        ],
    );
    sim.post(
        "/__sim/callback",
        json!({"url": format!("{}/callback/events/$APPID$", serve.url), "token": TOKEN, "encoding_aes_key": AES_KEY}),
    );
    first_run(&ws, &sim);
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    let states: Vec<String> = results(&ws)[1..].iter().map(|r| r[12].clone()).collect();
    assert_eq!(states, ["in_review"; 3]);

    // WeChat approves the first and pushes it to serve; the other two end without a push.
    let decided = sim.post("/__sim/code_audit", json!({"appid": pushed, "result": "approve"}));
    assert_eq!(decided["push"]["answer"], "success", "{decided}");
    for appid in [polled, unfiled] {
        sim.post("/__sim/code_audit", json!({"appid": appid, "result": "approve", "push": false}));
    }
    let step = |appid: &str| {
        ws.query(&format!(
            "SELECT state FROM steps WHERE kind = 'audit' AND identity IN (SELECT identity FROM rows WHERE appid = '{appid}')"
        ))[0][0]
            .clone()
    };
    assert_eq!((step(pushed), step(polled)), ("done".into(), "in_review".into()), "the push settled its row at once");
    let recorded = ws.query("SELECT kind, appid, outcome, detail FROM callback_events WHERE kind LIKE 'weapp_audit%'");
    assert_eq!(recorded, [["weapp_audit_success", pushed.as_str(), "stored", "ret 0; 1 step(s) moved on"]]);

    an_hour_later(&ws);
    sim.http_delete("/__sim/calls");
    let ran = ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert_eq!(
        appids_of(&sim, "/wxa/get_auditstatus"),
        [polled.clone(), unfiled.clone()],
        "the pushed one is not polled"
    );
    assert_eq!(appids_of(&sim, "/wxa/icp/get_icp_entrance_info"), appids);
    assert_eq!(appids_of(&sim, "/wxa/release"), [pushed.clone(), polled.clone()]);
    assert!(sim.calls_to("/wxa/release").iter().all(|c| c["body"] == json!({})), "the body is exactly {{}}");
    let id = audit_id(&ws, unfiled);
    assert_eq!(
        rows(&ws),
        [
            format!("2,{pushed},,,,,,,,,done,done,done,done,,,,"),
            format!("3,{polled},,,,,,,,,done,done,done,done,,,,"),
            format!(
                "4,{unfiled},,,,,,,,,done,done,done,blocked,release,,the ICP filing is not finished (status 1024: 未备案 (not filed)); \
                 an unfiled mini-program cannot be released / 未完成备案,Finish the mini-program's ICP filing (备案) in its console; \
                 the release follows once get_icp_entrance_info shows status 6 (checked again on the next Beijing day)."
            ),
        ],
        "{}",
        ran.stderr
    );
    assert_ne!(id, "NULL");
    let state = sim.get("/__sim/state");
    for appid in [pushed, polled] {
        let releases = &state["mini_programs"][appid]["golive"]["releases"];
        assert_eq!(releases.as_array().map(Vec::len), Some(1), "{appid}: {releases}");
        assert_eq!(releases[0]["user_version"], "1.0.0");
    }

    // Nothing more to do: no audit is asked about, nothing is released again.
    sim.http_delete("/__sim/calls");
    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert!(sim.calls_to("/wxa/release").is_empty() && sim.calls_to("/wxa/get_auditstatus").is_empty());
    drop(serve);
}

#[test]
fn a_rejected_audit_fails_with_the_reason_and_screenshots_and_a_new_version_is_submitted_again() {
    let (fixture, appids) = fixture(1, 10);
    let appid = &appids[0];
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = workspace(&[(appid, "1.0.0")], "manual");
    commit(&sim, appid, "1.0.0");
    first_run(&ws, &sim);
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    let first = audit_id(&ws, appid);

    sim.post(
        "/__sim/code_audit",
        json!({"appid": appid, "result": "reject", "reason": "页面内容与所选类目不符", "screenshot": ["mid1", "mid2"],
               "push": false}),
    );
    an_hour_later(&ws);
    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert_eq!(
        rows(&ws),
        [format!(
            "2,{appid},,,,,,,,,done,done,failed,pending,audit,,WeChat rejected the code: 页面内容与所选类目不符; \
             screenshots (media ids): mid1|mid2,Fix what WeChat's reason says (the screenshots are temporary media ids: \
             fetch them with the material API), commit the fix under a new user_version, and run again; the audit is \
             submitted again for the new version."
        )]
    );
    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert!(failed[1].last().is_some_and(|e| e.contains("mid1|mid2")), "failed.csv says why: {failed:?}");

    // The same input is not submitted again.
    sim.http_delete("/__sim/calls");
    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert!(sim.calls_to("/wxa/submit_audit").is_empty() && sim.calls_to("/wxa/get_auditstatus").is_empty());

    // A fixed version: committed, then submitted again.
    sheet(&ws, &[(appid, "1.0.1")]);
    commit(&sim, appid, "1.0.1");
    run_before_the_audit(&ws, &sim);
    ws.test_on(&sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(appids_of(&sim, "/wxa/submit_audit"), std::slice::from_ref(appid));
    let second = audit_id(&ws, appid);
    assert_ne!(first, second);
    let audit = &sim.get("/__sim/state")["golive"]["audits"][&second];
    assert_eq!((audit["user_version"].as_str(), audit["status"].as_i64()), (Some("1.0.1"), Some(2)));
    assert_eq!(results(&ws)[1][12], "in_review");
}

/// Starts `wxprov run` and kills it (SIGKILL) once the simulator has received a call to `path`.
fn kill_after(ws: &Workspace, sim: &Sim, path: &str) {
    let mut child = run_command(ws, sim).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if !sim.calls_to(path).is_empty() || Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.wait().unwrap();
}

#[test]
fn kill_9_around_submit_audit_and_release_never_sends_either_twice_for_one_change() {
    let (fixture, appids) = fixture(1, 10);
    let appid = &appids[0];
    let sim = Sim::with_fixture(fixture, &["--latency-ms", "30"]);
    let ws = workspace(&[(appid, "1.0.0")], "auto");
    commit(&sim, appid, "1.0.0");
    first_run(&ws, &sim);
    sim.http_delete("/__sim/calls");

    // The submission takes effect, its answer is lost, and the run is killed.
    sim.post("/__sim/faults", json!({"path": "/wxa/submit_audit", "kind": "effect_then_drop"}));
    kill_after(&ws, &sim, "/wxa/submit_audit");
    ws.test_on(&sim).args(["run", "job.toml"]).status_any().run();
    let submits = sim.calls_to("/wxa/submit_audit");
    assert_eq!(submits.len(), 1, "{submits:#?}");
    assert_eq!(submits[0]["effect"], true);
    let audits = sim.get("/__sim/state")["golive"]["audits"].clone();
    let ids: Vec<&String> = audits.as_object().unwrap().keys().collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(audit_id(&ws, appid), *ids[0], "the lost submission was found again and is followed");
    assert_eq!(results(&ws)[1][12], "in_review");

    // Approved; the release takes effect, its answer is lost, and the run is killed.
    sim.post("/__sim/code_audit", json!({"appid": appid, "result": "approve", "push": false}));
    an_hour_later(&ws);
    sim.post("/__sim/faults", json!({"path": "/wxa/release", "kind": "effect_then_drop"}));
    kill_after(&ws, &sim, "/wxa/release");
    ws.test_on(&sim).args(["run", "job.toml"]).status(0).run();
    assert_eq!(sim.calls_to("/wxa/release").len(), 1, "{:#?}", sim.calls_to("/wxa/release"));
    assert_eq!(results(&ws)[1][12..14], ["done".to_string(), "done".to_string()]);
    let releases = &sim.get("/__sim/state")["mini_programs"][appid]["golive"]["releases"];
    assert_eq!(releases.as_array().map(Vec::len), Some(1));
}
