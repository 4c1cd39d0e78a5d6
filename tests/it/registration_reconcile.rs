//! Registration answers that leave open whether the mini-program was created (DESIGN §4):
//! `fastregister` creates it and then answers 61058 or −1, or drops the connection. Before the
//! row asks the merchant for a new scan, wxprov looks through `api_get_authorizer_list` for a
//! mini-program first authorized since the send with the official account's principal (read
//! with `api_get_authorizer_info`): one is the registration — stored and configured in the
//! same run —, an account whose read answers 41033 is skipped, one of another principal is
//! passed over, two block the row with both appids for a person to choose. And 61055 (the
//! month's registrations spent) drops the stored ticket and leaves the row waiting until the
//! first of next month.

use serde_json::{json, Value};

use crate::harness::{example_fixture, utc8, Serve, Sim, Workspace};
use crate::run::{job, results, state_changing, CONFIGURED, FRESH};

const OA: &str = "wx28f759479ea1e090";
const PRINCIPAL: &str = "杭州示例科技有限公司";
const SIGNATURE: &str = "一家示例门店的功能介绍。";
const FASTREGISTER: &str = "/cgi-bin/account/fastregister";
const AUTHORIZER_INFO: &str = "/cgi-bin/component/api_get_authorizer_info";
/// An account of the official account's principal that the platform did not create: every
/// read of it answers 41033.
const NOT_OURS: &str = "wx7e570000000a1033";
/// Another mini-program of the official account's principal.
const SIBLING: &str = "wx7e570000000b0002";
const TOKEN: &str = "wxprov-callback-token";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

/// The example fixture with [`NOT_OURS`] and [`SIBLING`] added.
fn fixture() -> Value {
    let mut f = example_fixture();
    let minis = f["mini_programs"].as_array_mut().unwrap();
    minis.push(json!({"appid": NOT_OURS, "refresh_token": "refreshtoken@@@mp-not-ours", "principal_name": PRINCIPAL,
                      "not_created_by_platform": true}));
    minis.push(json!({"appid": SIBLING, "refresh_token": "refreshtoken@@@mp-sibling", "principal_name": PRINCIPAL}));
    f
}

/// A workspace whose ledger holds every authorizer's refresh token (imported from the
/// fixture) but those of `unknown` (accounts the ledger has never heard of), with a
/// registration row that carries a fresh scan's ticket, and `max_attempts` sends per step.
fn workspace(sim: &Sim, unknown: &[&str], max_attempts: u32) -> Workspace {
    let ws = Workspace::new();
    let accounts = ["official_accounts", "mini_programs"].iter().flat_map(|k| sim.fixture[*k].as_array().unwrap());
    let tokens: String = accounts
        .filter(|a| !unknown.contains(&a["appid"].as_str().unwrap()))
        .map(|a| format!("{},{}\n", a["appid"].as_str().unwrap(), a["refresh_token"].as_str().unwrap()))
        .collect();
    ws.write("tokens.csv", format!("appid,refresh_token\n{tokens}"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    let ticket = sim.post("/__sim/scan", json!({"official_appid": OA}))["ticket"].as_str().unwrap().to_string();
    job(&ws, &format!("official_appid,ticket,signature\n{OA},{ticket},{SIGNATURE}\n"));
    let job_file = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write("job.toml", job_file.replace("max_attempts = 5", &format!("max_attempts = {max_attempts}")));
    ws
}

/// The mini-programs the simulator created for [`OA`] (the fixture's own left out).
fn created(sim: &Sim) -> Vec<String> {
    let state = sim.get("/__sim/state");
    state["mini_programs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(appid, m)| m["official_appid"] == OA && ![FRESH, CONFIGURED].contains(&appid.as_str()))
        .map(|(appid, _)| appid.clone())
        .collect()
}

/// results.csv's line for the row.
fn result_line(ws: &Workspace) -> Vec<String> {
    let rows = results(ws);
    assert_eq!(rows.len(), 2, "{rows:?}");
    rows[1].clone()
}

/// The results.csv line of a registration row whose registration and signature are done.
fn done_line(appid: &str) -> Vec<String> {
    let mut line = vec!["2".to_string(), appid.to_string(), OA.to_string(), "done".into(), "".into(), "".into()];
    line.push("done".into());
    line.extend(std::iter::repeat_n(String::new(), 11));
    line
}

/// `fastregister` takes effect and then meets `fault`; the run finds the mini-program, stores
/// it with its refresh token and configures it, and never sends `fastregister` again.
fn created_then(fault: Value) {
    let sim = Sim::with_fixture(fixture(), &[]);
    let ws = workspace(&sim, &[], 5);
    sim.post("/__sim/faults", fault.clone());

    ws.test_on(&sim).args(["run", "job.toml"]).run();

    let sent = sim.calls_to(FASTREGISTER);
    assert_eq!(sent.len(), 1, "sent once: {sent:#?}");
    assert_eq!((&sent[0]["fault"], sent[0]["effect"].as_bool()), (&fault["kind"], Some(true)), "{sent:#?}");
    let minis = created(&sim);
    assert_eq!(minis.len(), 1, "one mini-program: {minis:?}");
    let appid = &minis[0];
    let state = sim.get("/__sim/state");
    assert_eq!(state["official_accounts"][OA]["registrations_this_month"], 1);
    assert_eq!(state["mini_programs"][appid]["signature"], SIGNATURE, "configured in the same run");
    assert_eq!(result_line(&ws), done_line(appid), "no rescan asked");
    let read: Vec<Value> =
        sim.calls_to(AUTHORIZER_INFO).iter().map(|c| c["body"]["authorizer_appid"].clone()).collect();
    assert!(read.contains(&json!(OA)) && read.contains(&json!(appid)), "both principals read: {read:?}");
    assert_eq!(
        ws.query(&format!("SELECT source FROM tokens WHERE appid = '{appid}' AND refresh_token IS NOT NULL")),
        [["register"]]
    );
    assert_eq!(
        ws.query("SELECT appid, exchanged_at IS NOT NULL FROM registrations"),
        [[appid.clone(), "1".to_string()]]
    );
    // The next run has nothing to do.
    let before = sim.calls().len();
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    assert!(state_changing(&sim.calls()[before..]).is_empty(), "{:#?}", &sim.calls()[before..]);
}

#[test]
fn a_fastregister_that_created_the_mini_program_but_answered_61058_is_found_and_configured() {
    created_then(json!({"path": FASTREGISTER, "kind": "effect_then_errcode", "errcode": 61058}));
}

#[test]
fn a_fastregister_that_created_the_mini_program_but_answered_minus_1_is_found_and_configured() {
    created_then(json!({"path": FASTREGISTER, "kind": "effect_then_errcode", "errcode": -1}));
}

#[test]
fn a_fastregister_that_created_the_mini_program_but_dropped_the_connection_is_found_and_configured() {
    created_then(json!({"path": FASTREGISTER, "kind": "effect_then_drop"}));
}

/// A first run whose `fastregister` took effect but lost its answer, with one send per step:
/// the step is deferred with the registration recorded as sent, and nothing configured yet.
fn lost_answer_run(sim: &Sim, ws: &Workspace) {
    sim.post("/__sim/faults", json!({"path": FASTREGISTER, "kind": "effect_then_drop"}));
    ws.test_on(sim).args(["run", "job.toml"]).status(4).run();
    assert_eq!(result_line(ws)[3..7], ["deferred", "", "", "waiting"]);
    assert_eq!(ws.query("SELECT appid IS NULL FROM registrations"), [["1"]], "recorded as sent");
}

#[test]
fn a_reconcile_skips_an_account_whose_read_answers_41033_and_finds_the_registration() {
    let sim = Sim::with_fixture(fixture(), &[]);
    let ws = workspace(&sim, &[NOT_OURS], 1);
    lost_answer_run(&sim, &ws);
    // The unrelated account authorizes the platform after the send.
    sim.post("/__sim/authorize", json!({"appid": NOT_OURS}));

    ws.test_on(&sim).args(["run", "job.toml"]).run();

    let minis = created(&sim);
    assert_eq!(minis.len(), 1, "{minis:?}");
    assert_eq!(result_line(&ws), done_line(&minis[0]));
    let not_ours: Vec<Value> =
        sim.calls_to(AUTHORIZER_INFO).into_iter().filter(|c| c["body"]["authorizer_appid"] == NOT_OURS).collect();
    assert_eq!(not_ours.len(), 1, "read once: {not_ours:#?}");
    assert_eq!(not_ours[0]["errcode"], 41033);
    let state = sim.get("/__sim/state");
    assert_eq!(state["mini_programs"][&minis[0]]["signature"], SIGNATURE);
    assert_eq!(state["mini_programs"][NOT_OURS]["signature"], "", "the unrelated account is left alone");
    assert_eq!(sim.calls_to(FASTREGISTER).len(), 1);
}

#[test]
fn two_candidates_block_the_row_with_both_appids_and_nothing_is_sent_again() {
    let sim = Sim::with_fixture(fixture(), &[]);
    let ws = workspace(&sim, &[SIBLING], 1);
    lost_answer_run(&sim, &ws);
    // Another mini-program of the same principal is authorized after the send.
    sim.post("/__sim/authorize", json!({"appid": SIBLING}));

    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();

    let minis = created(&sim);
    assert_eq!(minis.len(), 1, "{minis:?}");
    let mut both = [minis[0].as_str(), SIBLING];
    both.sort_unstable();
    let list = both.join(", ");
    let line = result_line(&ws);
    assert_eq!(
        line,
        [
            "2",
            "",
            OA,
            "blocked",
            "",
            "",
            "waiting",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "register",
            "",
            &format!(
                "the registration after fastregister's answer was lost may be any of {list}: a person must choose"
            ),
            &format!(
                "2 mini-programs with {OA}'s principal were authorized to the platform since fastregister was sent: \
                 {list}. Find out which one this row registered (mp.weixin.qq.com, or ask the merchant), put its \
                 appid in the row's appid column and run again (`wxprov tokens recover` fetches its refresh token). \
                 wxprov sends no new registration for this row meanwhile."
            ),
        ]
    );
    assert_eq!(sim.get("/__sim/state")["mini_programs"][SIBLING]["signature"], "", "neither is configured");
    // A run later: still blocked, still no second registration.
    ws.test_on(&sim).args(["run", "job.toml"]).status(3).run();
    assert_eq!(result_line(&ws)[3], "blocked");
    assert_eq!(sim.calls_to(FASTREGISTER).len(), 1);
    assert_eq!(created(&sim).len(), 1);
}

#[test]
fn a_61055_drops_the_stored_ticket_and_waits_until_the_first_of_next_month() {
    let sim = Sim::start();
    let ws = Workspace::new();
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    job(&ws, &format!("official_appid,signature\n{OA},{SIGNATURE}\n"));
    // The merchant scans; serve stores the ticket.
    let serve = Serve::start(
        &ws,
        &[
            ("WXPROV_TOKEN", TOKEN),
            ("WXPROV_ENCODING_AES_KEY", AES_KEY),
            ("WXPROV_COMPONENT_APPID", &sim.component_appid),
        ],
    );
    ws.test()
        .env("WXPROV_COMPONENT_APPID", &sim.component_appid)
        .args(["links", "job.toml", "--redirect-base", &serve.url])
        .run();
    let links = crate::run::read_csv(&ws.path().join("links.csv"));
    let link = url::Url::parse(&links[1][3]).unwrap();
    let redirect = link.query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
    let scan = sim.post("/__sim/scan", json!({"official_appid": OA, "redirect_uri": redirect}));
    assert_eq!(scan["redirect_status"], 200, "{scan}");
    drop(serve);
    let ticket = scan["ticket"].as_str().unwrap().to_string();
    // WeChat counts five registrations this month that the ledger does not know of.
    sim.post("/__sim/quota", json!({"appid": OA, "registrations_this_month": 5}));

    ws.test_on(&sim).args(["run", "job.toml"]).run();
    // The first of the month after the one the step was taken in, as the ledger recorded it.
    let step = ws.query("SELECT tried_at, updated_at FROM steps WHERE kind = 'register'");
    let [before, after] = utc8::during(utc8::next_month, &step[0][0], &step[0][1]).map(utc8::shown);

    let sent = sim.calls_to(FASTREGISTER);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["errcode"], 61055);
    let line = result_line(&ws);
    let expected = |until: &str| -> Vec<String> {
        let mut l: Vec<String> = ["2", "", OA, "waiting", "", "", "waiting"].map(String::from).to_vec();
        l.extend(std::iter::repeat_n(String::new(), 7));
        l.push("register".into());
        l.push("61055".into());
        l.push(format!(
            "/cgi-bin/account/fastregister: errcode 61055 (超出公众号每月可快速创建限额): monthly fast registration \
             limit of the official account reached; waiting until {until} (the stored ticket was dropped)"
        ));
        l.push(
            "This official account has already created 5 mini-programs this month. wxprov drops the row's stored \
             ticket (it will be stale) and keeps the row waiting until the first of next month (Beijing time); then \
             have the merchant scan the `wxprov links` link again (`wxprov serve` stores the new ticket; replace a \
             ticket pasted in the ticket column). Or put another official account in official_appid."
                .into(),
        );
        l
    };
    assert!(line == expected(&before) || line == expected(&after), "{line:#?}");
    assert_eq!(
        ws.query("SELECT value, used_at IS NOT NULL FROM tickets WHERE kind = 'fastregister'"),
        [[ticket, "1".to_string()]],
        "the ticket is dropped"
    );
    assert!(ws.query("SELECT * FROM registrations").is_empty());

    // Until then no run sends it again (and the row needs nobody: exit 0); plan says so.
    ws.test_on(&sim).args(["run", "job.toml"]).run();
    assert_eq!(sim.calls_to(FASTREGISTER).len(), 1);
    assert_eq!(result_line(&ws), line);
    let plan = ws.test_on(&sim).args(["plan", "job.toml"]).run();
    let planned = format!("{:>5}  {:<20} {:<13} {:<7} {}", 2, OA, "register", "wait", line[16]);
    assert!(plan.stdout.lines().any(|l| l == planned), "{planned}\n{}", plan.stdout);
}

#[test]
fn tokens_recover_reads_past_an_account_whose_read_answers_41033() {
    let sim = Sim::with_fixture(fixture(), &[]);
    let ws = Workspace::new();
    let n =
        ["official_accounts", "mini_programs"].iter().map(|k| sim.fixture[*k].as_array().unwrap().len()).sum::<usize>();
    let ran = ws.test_on(&sim).args(["tokens", "recover"]).run();
    assert_eq!(
        ran.stdout.lines().collect::<Vec<_>>(),
        [format!("{n} authorizers listed by WeChat; stored {n} refresh tokens; read the permission sets of {}", n - 1)]
    );
    assert!(ran.stderr.contains(&format!("the permission sets of {NOT_OURS} could not be read")), "{}", ran.stderr);
    let read = |appid: &str| ws.query(&format!("SELECT count(*) FROM permissions WHERE appid = '{appid}'"));
    assert_eq!((read(NOT_OURS), read(SIBLING)), (vec![vec!["0".to_string()]], vec![vec!["1".to_string()]]));
    assert_eq!(ws.query(&format!("SELECT count(*) FROM tokens WHERE appid = '{NOT_OURS}'")), [["1"]]);
}

/// On a busy platform other merchants authorize it every day: a mini-program of another
/// principal authorized after the send is no candidate — the registration is found, and the
/// stranger is neither configured nor a reason to block the row.
#[test]
fn a_reconcile_passes_over_a_mini_program_of_another_principal_authorized_since_the_send() {
    const STRANGER: &str = "wx7e570000000c0003";
    let mut f = fixture();
    f["mini_programs"].as_array_mut().unwrap().push(json!({"appid": STRANGER,
        "refresh_token": "refreshtoken@@@mp-stranger", "principal_name": "深圳另一家商户有限公司"}));
    let sim = Sim::with_fixture(f, &[]);
    let ws = workspace(&sim, &[STRANGER], 1);
    lost_answer_run(&sim, &ws);
    // Another merchant's mini-program authorizes the platform after the send.
    sim.post("/__sim/authorize", json!({"appid": STRANGER}));

    ws.test_on(&sim).args(["run", "job.toml"]).run();

    let minis = created(&sim);
    assert_eq!(minis.len(), 1, "{minis:?}");
    assert_eq!(result_line(&ws), done_line(&minis[0]));
    let state = sim.get("/__sim/state");
    assert_eq!(state["mini_programs"][&minis[0]]["signature"], SIGNATURE);
    assert_eq!(state["mini_programs"][STRANGER]["signature"], "", "the stranger is left alone");
    // It was looked at — authorized since the send, it is listed — and passed over for its
    // principal.
    let read: Vec<Value> =
        sim.calls_to(AUTHORIZER_INFO).into_iter().filter(|c| c["body"]["authorizer_appid"] == STRANGER).collect();
    assert_eq!(read.iter().map(|c| c["errcode"].clone()).collect::<Vec<_>>(), [json!(0)], "{read:#?}");
    let changes = state_changing(&sim.calls());
    assert!(changes.iter().all(|c| !c.ends_with(STRANGER)), "nothing sent on its behalf: {changes:#?}");
    assert_eq!(sim.calls_to(FASTREGISTER).len(), 1);
}
