//! Registration end to end on the simulator: `links` → the merchant's scan (played by the
//! simulator) → `serve` stores the ticket → `run` registers, exchanges the code, stores the
//! refresh token and configures the new mini-program → the audit event arrives at `serve`
//! → a last run does nothing. And when `fastregister`'s answer is lost after it took effect,
//! the mini-program is found through `api_get_authorizer_list`, not registered twice.

use serde_json::{json, Value};

use crate::harness::{Serve, Sim, Workspace};
use crate::run::{job, read_csv, result_for, results, state_changing};

const OA: &str = "wx28f759479ea1e090";
const TOKEN: &str = "wxprov-callback-token";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

const MANIFEST: &str = "official_appid,nickname,signature,avatar,categories\n\
    wx28f759479ea1e090,杭州示例门店,一家示例门店的功能介绍。,images/tiny.png,工具/计算器\n";

/// A run with the platform's appid and secret but no verify ticket in the environment: the
/// one `serve` stored must be used.
fn run_job(ws: &Workspace, sim: &Sim) -> crate::harness::Test {
    ws.test()
        .env("WXPROV_API_BASE", &sim.url)
        .env("WXPROV_COMPONENT_APPID", &sim.component_appid)
        .env("WXPROV_COMPONENT_SECRET", &sim.component_secret)
        .args(["run", "job.toml"])
}

fn new_minis(sim: &Sim) -> Vec<String> {
    let state = sim.get("/__sim/state");
    state["mini_programs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, m)| {
            m["official_appid"] == OA
                && !["wxe5f52902cf4de896", "wxdc685123d9554530"].contains(&m["appid"].as_str().unwrap_or_default())
        })
        .map(|(appid, _)| appid.clone())
        .collect()
}

#[test]
fn links_scan_serve_run_registers_and_configures_the_new_mini_program() {
    let sim = Sim::start();
    let ws = Workspace::new();
    job(&ws, MANIFEST);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    rusqlite::Connection::open(ws.ledger()).unwrap().execute("DELETE FROM tokens WHERE appid != ?1", [OA]).unwrap();
    let serve = Serve::start(
        &ws,
        &[
            ("WXPROV_TOKEN", TOKEN),
            ("WXPROV_ENCODING_AES_KEY", AES_KEY),
            ("WXPROV_COMPONENT_APPID", &sim.component_appid),
        ],
    );

    // Before the scan the row waits, and cron is told nothing needs a person.
    run_job(&ws, &sim).env("WXPROV_COMPONENT_VERIFY_TICKET", &sim.verify_ticket).run();
    assert_eq!(result_for(&ws, "")["register"], "waiting");

    // WeChat pushes the verify ticket; the ops team sends the link; the admin scans.
    let pushed = sim.post(
        "/__sim/push",
        json!({"url": format!("{}/callback/component", serve.url), "token": TOKEN, "encoding_aes_key": AES_KEY,
               "event": "component_verify_ticket"}),
    );
    assert_eq!(pushed["body"], "success", "{pushed}");
    ws.test()
        .env("WXPROV_COMPONENT_APPID", &sim.component_appid)
        .args(["links", "job.toml", "--redirect-base", &serve.url])
        .run();
    let links = read_csv(&ws.path().join("links.csv"));
    let link = url::Url::parse(&links[1][3]).unwrap();
    let redirect = link.query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
    let scan = sim.post("/__sim/scan", json!({"official_appid": OA, "redirect_uri": redirect}));
    assert_eq!(scan["redirect_status"], 200, "{scan}");
    let stored = ws.query("SELECT kind, account, value FROM tickets WHERE kind = 'fastregister'");
    assert_eq!(stored, [["fastregister".to_string(), OA.to_string(), scan["ticket"].as_str().unwrap().to_string()]]);

    // The run registers, exchanges the code, keeps the refresh token, configures the account.
    run_job(&ws, &sim).run();
    let created = new_minis(&sim);
    assert_eq!(created.len(), 1, "one mini-program registered");
    let appid = &created[0];
    let row = result_for(&ws, appid);
    assert_eq!(row["register"], "done");
    assert_eq!(
        (row["signature"].as_str(), row["avatar"].as_str(), row["categories"].as_str()),
        ("done", "done", "done")
    );
    assert_eq!(row["nickname"], "in_review");
    let token = ws.query(&format!("SELECT source FROM tokens WHERE appid = '{appid}' AND refresh_token IS NOT NULL"));
    assert_eq!(token, [["register"]]);
    let granted = ws.query(&format!("SELECT func_ids, source FROM permissions WHERE appid = '{appid}'"));
    assert_eq!(granted, [["17,18,19,25,30,31,36,37,40,41", "register"]], "api_query_auth's func_info is kept");
    let reg = ws.query("SELECT appid, authorization_code IS NULL, exchanged_at IS NOT NULL FROM registrations");
    assert_eq!(reg, [[appid.clone(), "1".into(), "1".into()]], "the code is forgotten once exchanged");
    assert_eq!(sim.calls_to("/cgi-bin/account/fastregister").len(), 1);
    assert_eq!(sim.calls_to("/cgi-bin/account/fastregister")[0]["appid"], OA, "with the official account's token");

    // WeChat approves the name and pushes the event to serve, which settles the step.
    sim.post("/__sim/audit", json!({"appid": appid, "result": 3}));
    let pushed = sim.post(
        "/__sim/push",
        json!({"url": format!("{}/callback/events/{appid}", serve.url), "token": TOKEN, "encoding_aes_key": AES_KEY,
               "event": "wxa_nickname_audit", "appid": appid, "ret": 3, "nickname": "杭州示例门店"}),
    );
    assert_eq!(pushed["body"], "success", "{pushed}");
    assert_eq!(ws.query("SELECT state FROM steps WHERE kind = 'nickname'"), [["done"]]);

    // A last run does nothing at all.
    let before = sim.calls().len();
    run_job(&ws, &sim).run();
    assert_eq!(sim.calls().len(), before, "{:#?}", &sim.calls()[before..]);
    assert_eq!(results(&ws)[1][1], *appid, "results.csv shows the new appid");
    drop(serve);
}

#[test]
fn a_lost_fastregister_answer_is_reconciled_through_the_authorizer_list() {
    let sim = Sim::start();
    let ws = Workspace::new();
    job(&ws, "official_appid,signature\nwx28f759479ea1e090,一家示例门店的功能介绍。\n");
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let scan = sim.post("/__sim/scan", json!({"official_appid": OA}));
    let ticket = scan["ticket"].as_str().unwrap();
    ws.write("job-ticket.csv", format!("official_appid,ticket,signature\n{OA},{ticket},一家示例门店的功能介绍。\n"));
    ws.write(
        "job.toml",
        std::fs::read_to_string(ws.path().join("job.toml")).unwrap().replace("manifest.csv", "job-ticket.csv"),
    );
    sim.post("/__sim/faults", json!({"path": "/cgi-bin/account/fastregister", "kind": "effect_then_drop"}));

    ws.test_on(&sim).args(["run", "job.toml"]).run();
    let calls = sim.calls_to("/cgi-bin/account/fastregister");
    assert_eq!(calls.len(), 1, "never sent twice: {calls:#?}");
    assert_eq!(calls[0]["fault"], "effect_then_drop");
    let created = new_minis(&sim);
    assert_eq!(created.len(), 1);
    let row = result_for(&ws, &created[0]);
    assert_eq!((row["register"].as_str(), row["signature"].as_str()), ("done", "done"), "{row:?}");
    assert!(!sim.calls_to("/cgi-bin/component/api_get_authorizer_list").is_empty());
    let state: Value = sim.get("/__sim/state");
    assert_eq!(state["official_accounts"][OA]["registrations_this_month"], 1);
    // And nothing more happens on the next run.
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    assert!(state_changing(&sim.calls()[before..]).is_empty());
}
