//! `wxprov serve`: the callback receiver, run as the real binary on loopback with a temp
//! ledger. Tickets from redirects and pushes land in the ledger, review events move steps on,
//! and every kind of bad request is refused with its status, recorded, and stores nothing —
//! while the process's stderr never shows the key or the token.

use wechat_open::crypto::MsgCrypt;
use wechat_open::event::{AuditResult, Event, PushBody, Pushed};
use wechat_open::secret::Secret;

use crate::harness::{Serve, Workspace};

const TOKEN: &str = "serveTestToken2026";
const KEY: &str = "Q2FsbGJhY2tSZWNlaXZlclRlc3RLZXkwMTIzNDU2Nzg";
const COMPONENT: &str = "wx0c0c0c0c0c0c0c0c";
const MINI: &str = "wx3a1b2c3d4e5f6071";
const MINI2: &str = "wx4b2c3d4e5f607182";

fn envs() -> Vec<(&'static str, &'static str)> {
    vec![("WXPROV_TOKEN", TOKEN), ("WXPROV_ENCODING_AES_KEY", KEY), ("WXPROV_COMPONENT_APPID", COMPONENT)]
}

fn crypt() -> MsgCrypt {
    MsgCrypt::new(TOKEN, KEY, COMPONENT).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An encrypted push as WeChat sends it: the query and the body.
struct Push {
    query: String,
    body: String,
}

fn seal(crypt: &MsgCrypt, pushed: &Pushed, timestamp: i64, nonce: &str) -> Push {
    let ts = timestamp.to_string();
    let (encrypt, sig) = crypt.encrypt(&pushed.to_xml(), &ts, nonce);
    let body = PushBody { to_user_name: None, app_id: Some(COMPONENT.into()), encrypt }.to_xml();
    Push { query: format!("?timestamp={ts}&nonce={nonce}&msg_signature={sig}&encrypt_type=aes"), body }
}

fn verify_ticket(ticket: &str) -> Pushed {
    Pushed {
        app_id: Some(COMPONENT.into()),
        to_user_name: None,
        create_time: Some(now()),
        event: Event::ComponentVerifyTicket { ticket: Secret::new(ticket) },
    }
}

fn nickname_audit(to: &str, ret: AuditResult, reason: &str) -> Pushed {
    Pushed {
        app_id: None,
        to_user_name: Some(to.into()),
        create_time: Some(now()),
        event: Event::NicknameAudit { ret, nickname: "测试名称".into(), reason: reason.into() },
    }
}

fn count(ws: &Workspace, sql: &str) -> usize {
    ws.query(sql)[0][0].parse().unwrap()
}

fn assert_clean(stderr: &str) {
    assert!(!stderr.contains(KEY), "stderr shows the EncodingAESKey:\n{stderr}");
    assert!(!stderr.contains(TOKEN), "stderr shows the token:\n{stderr}");
}

const OA: &str = "wx28f759479ea1e090";

/// The `redirect_uri` of each link `wxprov links` writes for a registration row of `OA` and a
/// rebind row of `MINI`, on the workspace's ledger: `(kind, redirect_uri)`.
fn redirects_from_links(ws: &Workspace, serve: &Serve) -> Vec<(String, String)> {
    ws.write("merchants.csv", format!("appid,official_appid,rebind_taskid\n,{OA},\n{MINI},,scan\n"));
    ws.test()
        .env("WXPROV_COMPONENT_APPID", COMPONENT)
        .args(["links", "merchants.csv", "--redirect-base", &serve.url])
        .stdout_has("2 links written")
        .run();
    crate::run::read_csv(&ws.path().join("links.csv"))[1..]
        .iter()
        .map(|row| {
            let link = url::Url::parse(&row[3]).unwrap();
            let redirect = link.query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
            (row[1].clone(), redirect.strip_prefix(&serve.url).unwrap().to_string())
        })
        .collect()
}

/// The page a merchant's phone shows.
pub fn page(title: &str, text: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\
         <body style=\"font-family: sans-serif; text-align: center; padding: 3em 1em\">\
         <h1>{title}</h1><p>{text}</p></body></html>\n"
    )
}

const NOT_OURS: &str =
    "这个链接不是服务商发出的，或已被改动，授权信息未保存。请使用服务商发给您的授权链接重新扫码；如仍有问题，请联系服务商。";

#[test]
fn redirects_store_the_ticket_and_the_taskid() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &envs());
    let redirects = redirects_from_links(&ws, &serve);
    let [(kind1, fastregister), (kind2, rebind)] = &redirects[..] else { panic!("{redirects:?}") };
    assert_eq!((kind1.as_str(), kind2.as_str()), ("fastregister", "rebind"));
    let (status, body) = serve.get(&format!("{fastregister}&ticket=tk_Scan-0001"));
    assert_eq!((status, body), (200, page("授权成功", "授权成功，请关闭此页面。服务商将继续为您注册小程序。")));
    let (status, body) = serve.get(&format!("{rebind}&taskid=b25519093b1e97239eff9d2bfc07e08e"));
    assert_eq!((status, body), (200, page("授权成功", "授权成功，请关闭此页面。服务商将继续为您完成管理员换绑。")));

    // Bad input: a page in Chinese, a recorded refusal, nothing stored.
    let incomplete = "授权信息不完整或格式有误。请重新扫码授权；如仍有问题，请联系服务商。";
    for bad in [
        fastregister.to_string(),
        "/callback/fastregister?official_appid=gh_123&ticket=abc".to_string(),
        format!("{fastregister}&ticket=a%20b"),
        format!("{fastregister}&ticket=a&ticket=b"),
        format!("{rebind}&taskid="),
        "/callback/rebind".to_string(),
    ] {
        let (status, body) = serve.get(&bad);
        assert_eq!((status, body), (400, page("链接无效", incomplete)), "{bad}");
    }
    let stderr = serve.stop();
    assert_clean(&stderr);

    let tickets = ws.query("SELECT kind, account, value FROM tickets ORDER BY kind");
    assert_eq!(
        tickets,
        vec![vec!["fastregister", OA, "tk_Scan-0001"], vec!["rebind", MINI, "b25519093b1e97239eff9d2bfc07e08e"],]
    );
    assert_eq!(count(&ws, "SELECT count(*) FROM callback_events WHERE outcome = 'refused'"), 6);
    assert_eq!(count(&ws, "SELECT count(*) FROM callback_events WHERE outcome = 'stored'"), 2);
    let details = ws.query("SELECT coalesce(detail, '') FROM callback_events").concat().join("\n");
    assert!(!details.contains("tk_Scan") && !details.contains("b25519093b1e"), "{details}");
}

#[test]
fn a_redirect_without_a_state_that_verifies_is_refused_and_stores_nothing() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &envs());
    let redirects = redirects_from_links(&ws, &serve);
    let (fastregister, rebind) = (&redirects[0].1, &redirects[1].1);
    let state_of = |redirect: &str| redirect.split("state=").nth(1).unwrap().to_string();
    // A genuine ticket first: what an attacker would try to overwrite.
    assert_eq!(serve.get(&format!("{fastregister}&ticket=genuine-ticket")).0, 200);

    let forged = [
        // No state at all (an old link, or someone calling the route).
        format!("/callback/fastregister?official_appid={OA}&ticket=forged-1"),
        // A made-up state.
        format!("/callback/fastregister?official_appid={OA}&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&ticket=forged-2"),
        // The rebind link's genuine state, for another account.
        format!("/callback/fastregister?official_appid={OA}&state={}&ticket=forged-3", state_of(rebind)),
        // The registration link's state, altered by one character.
        format!("{}&ticket=forged-4", fastregister.replacen("state=", "state=x", 1)),
        // A rebind with the registration link's state.
        format!("/callback/rebind?appid={MINI}&state={}&taskid=forged-5", state_of(fastregister)),
    ];
    for bad in &forged {
        let (status, body) = serve.get(bad);
        assert_eq!((status, body), (403, page("链接无效", NOT_OURS)), "{bad}");
    }
    assert_clean(&serve.stop());

    assert_eq!(ws.query("SELECT kind, account, value FROM tickets"), [row(&["fastregister", OA, "genuine-ticket"])]);
    let missing = "query parameter state is missing (a link not made by `wxprov links`, or an old one: make new links)";
    let bad = "state does not verify for this account (not a link made by `wxprov links` on this ledger)";
    assert_eq!(
        callbacks(&ws),
        [
            row(&["fastregister", OA, "stored", ""]),
            row(&["fastregister", OA, "refused", missing]),
            row(&["fastregister", OA, "refused", bad]),
            row(&["fastregister", OA, "refused", bad]),
            row(&["fastregister", OA, "refused", bad]),
            row(&["rebind", MINI, "refused", bad]),
        ]
    );
}

#[test]
fn an_encrypted_verify_ticket_is_stored() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &envs());
    let push = seal(&crypt(), &verify_ticket("ticket@@@VerifyABC"), now(), "1234567");
    let (status, body) = serve.post(&format!("/callback/component{}", push.query), push.body);
    assert_eq!((status, body.as_str()), (200, "success"));
    let stderr = serve.stop();
    assert_clean(&stderr);
    assert!(!stderr.contains("ticket@@@VerifyABC"), "stderr shows the verify ticket:\n{stderr}");

    let tickets = ws.query("SELECT kind, account, value FROM tickets");
    assert_eq!(tickets, vec![vec!["component_verify_ticket", COMPONENT, "ticket@@@VerifyABC"]]);
    let events = ws.query("SELECT kind, appid, outcome, coalesce(detail, '') FROM callback_events");
    assert_eq!(events, vec![vec!["component_verify_ticket", COMPONENT, "stored", ""]]);
}

#[test]
fn nickname_and_category_reviews_move_steps_in_review() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &envs());
    {
        let conn = rusqlite::Connection::open(ws.ledger()).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO rows (identity, appid, line, updated_at) VALUES ('{MINI}', '{MINI}', 2, 1);
             INSERT INTO rows (identity, appid, line, updated_at) VALUES ('{MINI2}', '{MINI2}', 3, 1);
             INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('{MINI}', 'nickname', 'in_review', 'h', 1);
             INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('{MINI2}', 'nickname', 'in_review', 'h', 1);
             INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('{MINI2}', 'avatar', 'done', 'h', 1);
             INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('{MINI}', 'categories', 'in_review', 'h', 1);"
        ))
        .unwrap();
    }
    let t = now();
    // Approved, the appid given by ToUserName.
    let push = seal(&crypt(), &nickname_audit(MINI, AuditResult::Approved, ""), t, "n1");
    assert_eq!(serve.post(&format!("/callback/events{}", push.query), push.body), (200, "success".into()));
    // Rejected, the appid given by the message URL's path ($APPID$), ToUserName an original id.
    let push = seal(&crypt(), &nickname_audit("gh_0123456789ab", AuditResult::Rejected, "名称涉嫌侵权"), t, "n2");
    assert_eq!(serve.post(&format!("/callback/events/{MINI2}{}", push.query), push.body), (200, "success".into()));
    // No appid anywhere: taken, recorded, applied to nothing.
    let push = seal(&crypt(), &nickname_audit("gh_0123456789ab", AuditResult::Approved, ""), t, "n3");
    assert_eq!(serve.post(&format!("/callback/events{}", push.query), push.body), (200, "success".into()));
    // A category review, rejected.
    let category = Pushed {
        app_id: None,
        to_user_name: Some("gh_0123456789ab".into()),
        create_time: Some(t),
        event: Event::CategoryAudit {
            ret: AuditResult::Rejected,
            first: Some("8".into()),
            second: Some("39".into()),
            reason: "缺少资质".into(),
        },
    };
    let push = seal(&crypt(), &category, t, "n4");
    assert_eq!(serve.post(&format!("/callback/events/{MINI}{}", push.query), push.body), (200, "success".into()));
    assert_clean(&serve.stop());

    let steps = ws.query("SELECT identity, kind, state, coalesce(message, '') FROM steps ORDER BY identity, kind");
    assert_eq!(
        steps,
        vec![
            vec![MINI, "categories", "failed", "缺少资质"],
            vec![MINI, "nickname", "done", ""],
            vec![MINI2, "avatar", "done", ""],
            vec![MINI2, "nickname", "failed", "名称涉嫌侵权"],
        ]
    );
    let audits =
        ws.query("SELECT appid, kind, ret, nickname, reason, applied_at IS NOT NULL FROM audit_events ORDER BY id");
    assert_eq!(
        audits,
        vec![
            vec![MINI, "nickname", "3", "测试名称", "", "1"],
            vec![MINI2, "nickname", "2", "测试名称", "名称涉嫌侵权", "1"],
            vec![MINI, "categories", "2", "NULL", "缺少资质", "1"],
        ]
    );
    let events = ws.query("SELECT kind, outcome FROM callback_events ORDER BY id");
    assert_eq!(
        events,
        vec![
            vec!["wxa_nickname_audit", "stored"],
            vec!["wxa_nickname_audit", "stored"],
            vec!["wxa_nickname_audit", "ignored"],
            vec!["wxa_category_audit", "stored"],
        ]
    );
}

#[test]
fn bad_pushes_are_refused_recorded_and_store_nothing() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &envs());
    let t = now();
    let good = seal(&crypt(), &verify_ticket("ticket@@@Good"), t, "good");
    let refused = |ws: &Workspace| count(ws, "SELECT count(*) FROM callback_events WHERE outcome = 'refused'");

    let mut cases: Vec<(&str, String, Vec<u8>, u16)> = Vec::new();
    // Tampered signature.
    let tampered = good.query.replace("msg_signature=", "msg_signature=0");
    cases.push(("tampered signature", tampered, good.body.clone().into_bytes(), 403));
    // Sealed for another appid with the right token and key.
    let other = MsgCrypt::new(TOKEN, KEY, "wx9999999999999999").unwrap();
    let wrong = seal(&other, &verify_ticket("ticket@@@Wrong"), t, "wrong");
    cases.push(("wrong appid", wrong.query, wrong.body.into_bytes(), 403));
    // Stale timestamp (two hours old), correctly signed.
    let stale = seal(&crypt(), &verify_ticket("ticket@@@Stale"), t - 2 * 3600, "stale");
    cases.push(("stale timestamp", stale.query, stale.body.into_bytes(), 403));
    // Body over 64 KB.
    let huge = format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(70 * 1024));
    cases.push(("oversized body", good.query.clone(), huge.into_bytes(), 413));
    // Garbage bodies.
    cases.push(("garbage body", good.query.clone(), b"\x00\xffnot xml at all".to_vec(), 400));
    cases.push(("no Encrypt", good.query.clone(), b"<xml><ToUserName>x</ToUserName></xml>".to_vec(), 400));
    let signed_garbage = {
        let encrypt = "!!!not base64!!!";
        let sig = wechat_open::crypto::signature(TOKEN, &t.to_string(), "b64", encrypt);
        (format!("?timestamp={t}&nonce=b64&msg_signature={sig}"), format!("<xml><Encrypt>{encrypt}</Encrypt></xml>"))
    };
    cases.push(("signed, not Base64", signed_garbage.0, signed_garbage.1.into_bytes(), 400));
    // Missing query parameters.
    cases.push(("no query", String::new(), good.body.clone().into_bytes(), 400));
    let no_nonce = good.query.replace("nonce=good&", "");
    cases.push(("no nonce", no_nonce, good.body.clone().into_bytes(), 400));

    let mut expected_refusals = 0;
    for (what, query, body, status) in cases {
        let (got, text) = serve.post(&format!("/callback/component{query}"), body);
        assert_eq!(got, status, "{what}: {text}");
        expected_refusals += 1;
        assert_eq!(refused(&ws), expected_refusals, "{what} was not recorded");
    }
    assert_eq!(count(&ws, "SELECT count(*) FROM tickets"), 0, "a refused push stored a ticket");

    // The genuine push is taken once; its replay is refused.
    assert_eq!(serve.post(&format!("/callback/component{}", good.query), good.body.clone()), (200, "success".into()));
    let (status, text) = serve.post(&format!("/callback/component{}", good.query), good.body.clone());
    assert_eq!(status, 403, "replay: {text}");
    let stderr = serve.stop();
    assert_clean(&stderr);
    assert!(stderr.contains("peer=127.0.0.1:"), "refusals name the peer:\n{stderr}");

    assert_eq!(count(&ws, "SELECT count(*) FROM tickets"), 1);
    let details = ws.query("SELECT detail FROM callback_events WHERE outcome = 'refused' ORDER BY id").concat();
    for expected in [
        "msg_signature does not match",
        "message is addressed to another appid",
        "timestamp is more than 3600 s from now (--max-skew)",
        "body is over 64 KB",
        "body: is not a well-formed <xml> document",
        "body: has no <Encrypt> element",
        "Encrypt is not valid Base64",
        "query parameter timestamp is missing",
        "query parameter nonce is missing",
        "timestamp and nonce were seen before (replay)",
    ] {
        assert!(details.iter().any(|d| d == expected), "no refusal {expected:?} in {details:#?}");
    }
    assert!(!details.concat().contains("ticket@@@"), "{details:?}");
}

#[test]
fn without_secrets_redirects_work_and_pushes_are_503() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &[("WXPROV_TOKEN", TOKEN)]);
    let redirects = redirects_from_links(&ws, &serve);
    let (status, _) = serve.get(&format!("{}&ticket=t1", redirects[0].1));
    assert_eq!(status, 200);
    let push = seal(&crypt(), &verify_ticket("ticket@@@X"), now(), "n");
    let (status, text) = serve.post(&format!("/callback/component{}", push.query), push.body);
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("WXPROV_ENCODING_AES_KEY") && text.contains("WXPROV_COMPONENT_APPID"), "{text}");
    let stderr = serve.stop();
    assert_clean(&stderr);
    assert!(stderr.contains("WXPROV_ENCODING_AES_KEY, WXPROV_COMPONENT_APPID not set"), "{stderr}");
    assert_eq!(count(&ws, "SELECT count(*) FROM tickets WHERE kind = 'component_verify_ticket'"), 0);
}

#[test]
fn a_malformed_key_stops_the_start_without_showing_it() {
    let ws = Workspace::new();
    let bad_key = "NotAValidEncodingAesKey!!";
    let ran = ws
        .test()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("WXPROV_TOKEN", TOKEN)
        .env("WXPROV_ENCODING_AES_KEY", bad_key)
        .env("WXPROV_COMPONENT_APPID", COMPONENT)
        .status(1)
        .stderr_has("WXPROV_ENCODING_AES_KEY is invalid")
        .run();
    assert!(!ran.all().contains(bad_key) && !ran.all().contains(TOKEN), "{}", ran.all());
}

/// The `(kind, appid, outcome, detail)` of every callback recorded, in order.
pub fn callbacks(ws: &Workspace) -> Vec<Vec<String>> {
    ws.query("SELECT kind, coalesce(appid, ''), outcome, coalesce(detail, '') FROM callback_events ORDER BY id")
}

fn row(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

/// The log lines that mention `text`, stripped of their timestamp prefix.
fn lines_with<'a>(stderr: &'a str, text: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(text)).map(|l| l.split_once(" WARN ").map_or(l, |(_, rest)| rest)).collect()
}

#[test]
fn a_push_an_hour_off_is_taken_with_a_clock_warning_and_two_hours_off_is_refused() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &envs());
    let t = now();
    // 20 minutes old: taken, with a warning about the clock.
    let old = seal(&crypt(), &verify_ticket("ticket@@@TwentyMinutes"), t - 20 * 60, "twenty");
    assert_eq!(serve.post(&format!("/callback/component{}", old.query), old.body), (200, "success".into()));
    // 2 minutes ahead: taken without a warning.
    let ahead = seal(&crypt(), &verify_ticket("ticket@@@TwoMinutes"), t + 120, "two");
    assert_eq!(serve.post(&format!("/callback/component{}", ahead.query), ahead.body), (200, "success".into()));
    // 2 hours old: refused.
    let stale = seal(&crypt(), &verify_ticket("ticket@@@TwoHours"), t - 2 * 3600, "stale");
    let (status, text) = serve.post(&format!("/callback/component{}", stale.query), stale.body);
    assert_eq!((status, text.as_str()), (403, "refused: timestamp is more than 3600 s from now (--max-skew)\n"));
    let stderr = serve.stop();
    assert_clean(&stderr);

    let warnings = lines_with(&stderr, "from this host's clock");
    assert_eq!(warnings.len(), 1, "{stderr}");
    let skew: i64 = warnings[0].split("skew_secs=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((20 * 60..20 * 60 + 60).contains(&skew), "{}", warnings[0]);
    assert_eq!(
        warnings[0],
        format!(
            "a push's timestamp is {skew} s from this host's clock; check the clock (NTP) path=\"/callback/component\" skew_secs={skew}"
        )
    );
    let stored = ws.query("SELECT value FROM tickets ORDER BY received_at, value");
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|v| v[0] != "ticket@@@TwoHours"), "{stored:?}");
    assert_eq!(
        callbacks(&ws),
        [
            row(&["component_verify_ticket", COMPONENT, "stored", ""]),
            row(&["component_verify_ticket", COMPONENT, "stored", ""]),
            row(&["push", "", "refused", "timestamp is more than 3600 s from now (--max-skew)"]),
        ]
    );
}

#[test]
fn max_skew_narrows_the_window() {
    let ws = Workspace::new();
    let serve = Serve::start_with(&ws, &envs(), &["--max-skew", "600"]);
    let old = seal(&crypt(), &verify_ticket("ticket@@@TwentyMinutes"), now() - 20 * 60, "twenty");
    let (status, text) = serve.post(&format!("/callback/component{}", old.query), old.body);
    assert_eq!((status, text.as_str()), (403, "refused: timestamp is more than 600 s from now (--max-skew)\n"));
    assert_clean(&serve.stop());
    assert_eq!(count(&ws, "SELECT count(*) FROM tickets"), 0);
}

#[test]
fn a_replay_is_refused_after_serve_restarts() {
    let ws = Workspace::new();
    let push = seal(&crypt(), &verify_ticket("ticket@@@Original"), now() - 60, "once-only");
    let serve = Serve::start(&ws, &envs());
    assert_eq!(serve.post(&format!("/callback/component{}", push.query), push.body.clone()), (200, "success".into()));
    assert_clean(&serve.stop());

    // The same ledger, a new process: the pair is remembered.
    let serve = Serve::start(&ws, &envs());
    let (status, text) = serve.post(&format!("/callback/component{}", push.query), push.body.clone());
    assert_eq!((status, text.as_str()), (403, "refused: timestamp and nonce were seen before (replay)\n"));
    assert_clean(&serve.stop());

    assert_eq!(ws.query("SELECT kind, value FROM tickets"), [row(&["component_verify_ticket", "ticket@@@Original"])]);
    assert_eq!(
        callbacks(&ws),
        [
            row(&["component_verify_ticket", COMPONENT, "stored", ""]),
            row(&["push", "", "refused", "timestamp and nonce were seen before (replay)"]),
        ]
    );
    assert_eq!(count(&ws, "SELECT count(*) FROM push_nonces WHERE nonce = 'once-only'"), 1);
}

#[test]
fn a_users_text_message_is_answered_success_and_recorded_without_its_content() {
    let ws = Workspace::new();
    let serve = Serve::start(&ws, &envs());
    let t = now();
    let xml = format!(
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[o_user_openid]]></FromUserName>\
         <CreateTime>{t}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[请问怎么开通会员？]]></Content>\
         <MsgId>24000000000000001</MsgId></xml>"
    );
    let ts = t.to_string();
    let (encrypt, sig) = crypt().encrypt(&xml, &ts, "text1");
    let body = PushBody { to_user_name: Some("gh_0123456789ab".into()), app_id: None, encrypt }.to_xml();
    let query = format!("?timestamp={ts}&nonce=text1&msg_signature={sig}&encrypt_type=aes");
    let (status, answer) = serve.post(&format!("/callback/events/{MINI}{query}"), body);
    assert_eq!((status, answer.as_str()), (200, "success"));
    assert_clean(&serve.stop());
    assert_eq!(
        callbacks(&ws),
        [row(&["text", MINI, "ignored", "a user's message; wxprov does not reply to messages"])]
    );
    let everything = ws.query("SELECT * FROM callback_events").concat().join("|");
    assert!(!everything.contains("开通会员") && !everything.contains("o_user_openid"), "{everything}");
}
