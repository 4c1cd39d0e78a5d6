//! The go-live endpoints over real HTTP: templates, code, the privacy scan and guide, domains,
//! audits within the platform's pool, pushes, the release and ICP.

use serde_json::{json, Value};

use super::{read_state, with_state, Sim, COMPONENT, MP, MP_CONFIGURED, MP_SPENT};
use crate::{Fixture, SimOptions};
use wechat_open::crypto::MsgCrypt;
use wechat_open::event::{CodeAuditOutcome, Event, PushBody, Pushed};

const TEMPLATE: i64 = 128;

impl Sim {
    /// A GET with `access_token` and more query parameters.
    async fn get_with(&self, path: &str, at: &str, query: &str) -> reqwest::Response {
        let url = format!("{}?access_token={at}&{query}", self.url(path));
        self.http.get(url).send().await.unwrap()
    }

    async fn commit(&self, at: &str, appid: &str, template_id: Value, user_version: &str) -> Value {
        let ext = json!({"extAppid": appid, "ext": {"shopId": "S1024"}}).to_string();
        self.api(
            "/wxa/commit",
            at,
            json!({"template_id": template_id, "ext_json": ext, "user_version": user_version,
                   "user_desc": "wxprov batch"}),
        )
        .await
    }

    /// Commits template 128 and waits out the scan (one 61039 in the example fixture).
    async fn committed(&self, appid: &str, user_version: &str) -> String {
        let at = self.token(appid).await;
        let r = self.commit(&at, appid, json!(TEMPLATE), user_version).await;
        assert_eq!(r["errcode"], 0, "{r}");
        let r = self.api("/cgi-bin/component/getprivacysetting", &at, json!({"privacy_ver": 2})).await;
        assert_eq!(r["errcode"], 61039, "{r}");
        at
    }

    async fn set_privacy(&self, at: &str, keys: &[&str]) -> Value {
        let list: Vec<Value> = keys.iter().map(|k| json!({"privacy_key": k, "privacy_text": "完成会员注册"})).collect();
        self.api(
            "/cgi-bin/component/setprivacysetting",
            at,
            json!({"privacy_ver": 2, "owner_setting": {"contact_email": "p@example.cn", "notice_method": "弹窗"},
                   "setting_list": list}),
        )
        .await
    }
}

#[tokio::test]
async fn template_library_and_commit_make_the_trial_version() {
    let sim = Sim::start().await;
    let ct = sim.component_token().await;
    let list: Value = sim.get_with("/wxa/gettemplatelist", &ct, "").await.json().await.unwrap();
    assert_eq!(list["errcode"], 0, "{list}");
    let ids: Vec<&Value> = list["template_list"].as_array().unwrap().iter().map(|t| &t["template_id"]).collect();
    assert_eq!(ids, [&json!(128), &json!(129), &json!(130)]);
    assert_eq!(list["template_list"][0]["user_version"], "2.4.0");
    assert_eq!(list["template_list"][0]["source_miniprogram"], "模板开发小程序");
    let standard: Value = sim.get_with("/wxa/gettemplatelist", &ct, "template_type=1").await.json().await.unwrap();
    assert_eq!(standard["template_list"], json!([]));
    // GET only; and the component token, not an authorizer's.
    let post = sim.api("/wxa/gettemplatelist", &ct, json!({})).await;
    assert_eq!(post["errcode"], 43001);
    let at = sim.token(MP_CONFIGURED).await;
    assert_eq!(sim.get("/wxa/gettemplatelist", &at).await["errcode"], 40001);

    // A template added through the control API is listed and can be committed.
    let added = sim
        .control("/__sim/template", json!({"template_id": 200, "user_version": "9.0.0", "pages": ["pages/a/a"]}))
        .await;
    assert_eq!(added["templates"], 4, "{added}");
    let list: Value = sim.get_with("/wxa/gettemplatelist", &ct, "template_type=0").await.json().await.unwrap();
    assert_eq!(list["template_list"][3]["template_id"], 200);

    // Nothing committed yet.
    assert_eq!(sim.get("/wxa/get_page", &at).await["errcode"], 86001);
    let info = sim.api("/wxa/getversioninfo", &at, json!({})).await;
    assert_eq!(info, json!({"errcode": 0, "errmsg": "ok"}));

    // Refusals, none of which makes a trial version.
    let refusals = [
        (json!({"template_id": 999, "ext_json": "{}", "user_version": "1", "user_desc": "d"}), 85014),
        (
            json!({"template_id": 128, "ext_json": {"extAppid": MP_CONFIGURED}, "user_version": "1", "user_desc": "d"}),
            85013,
        ),
        (json!({"template_id": 128, "ext_json": "{\"ext\":", "user_version": "1", "user_desc": "d"}), 85048),
        (
            json!({"template_id": 128, "ext_json": "{\"extAppid\":\"wx0000000000000000\"}", "user_version": "1", "user_desc": "d"}),
            85013,
        ),
        (
            json!({"template_id": 128, "ext_json": "{\"pages\":[\"pages/nope/index\"]}", "user_version": "1", "user_desc": "d"}),
            85045,
        ),
        (
            json!({"template_id": 128, "ext_json": "{\"requiredPrivateInfos\":[\"getLocation\",\"getFuzzyLocation\"]}", "user_version": "1", "user_desc": "d"}),
            85311,
        ),
        (
            json!({"template_id": 128, "ext_json": "{\"requiredPrivateInfos\":[\"getLocations\"]}", "user_version": "1", "user_desc": "d"}),
            85310,
        ),
        (json!({"template_id": 128, "ext_json": "{}", "user_desc": "d"}), 47001),
    ];
    for (body, code) in refusals {
        let r = sim.api("/wxa/commit", &at, body.clone()).await;
        assert_eq!(r["errcode"], code, "{body}: {r}");
    }
    assert_eq!(sim.api("/wxa/getversioninfo", &at, json!({})).await.get("exp_info"), None);

    // template_id as a string works as a number does; ext_json's pages choose a subset.
    let ext = json!({"extAppid": MP_CONFIGURED, "pages": ["pages/home/index"]}).to_string();
    let r = sim
        .api(
            "/wxa/commit",
            &at,
            json!({"template_id": "128", "ext_json": ext, "user_version": "2.4.0", "user_desc": "门店版"}),
        )
        .await;
    assert_eq!(r, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(sim.get("/wxa/get_page", &at).await["page_list"], json!(["pages/home/index"]));
    let info = sim.api("/wxa/getversioninfo", &at, json!({})).await;
    assert_eq!(info["exp_info"]["exp_version"], "2.4.0");
    assert_eq!(info["exp_info"]["exp_desc"], "门店版");
    assert!(info["exp_info"]["exp_time"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(info.get("release_info"), None);
    // An empty body is refused as every POST's is.
    let empty = sim.http.post(sim.url(&format!("/wxa/getversioninfo?access_token={at}"))).send().await.unwrap();
    assert_eq!(empty.json::<Value>().await.unwrap()["errcode"], 44002);

    // The call log shows what was sent, ext_json as the string it was.
    let calls = sim.look("/__sim/calls").await;
    let commit = calls.as_array().unwrap().iter().rev().find(|c| c["path"] == "/wxa/commit").unwrap();
    assert_eq!(commit["body"]["ext_json"], ext.as_str());
    assert_eq!(
        (commit["appid"].as_str(), commit["errcode"].as_i64(), commit["effect"].as_bool()),
        (Some(MP_CONFIGURED), Some(0), Some(true))
    );

    // /wxa/get_category lists the approved categories only, with their names.
    let cats = sim.get("/wxa/get_category", &at).await;
    assert_eq!(cats["category_list"].as_array().unwrap().len(), 1, "{cats}");
    assert_eq!(
        (cats["category_list"][0]["first_id"].as_i64(), cats["category_list"][0]["second_id"].as_i64()),
        (Some(287), Some(288))
    );

    // The trial version's QR code is a picture; errors are JSON.
    let qr = sim.get_with("/wxa/get_qrcode", &at, "path=pages%2Fhome%2Findex%3Fx%3D1").await;
    assert_eq!(qr.headers()["content-type"], "image/jpeg");
    assert_eq!(&qr.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);
    let other = sim.token(MP).await;
    let qr = sim.get_with("/wxa/get_qrcode", &other, "").await;
    assert_eq!(qr.json::<Value>().await.unwrap()["errcode"], 86001);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_privacy_scan_answers_61039_after_each_commit_then_the_guide_is_read_and_written() {
    let sim = Sim::start().await;
    let at = sim.token(MP_CONFIGURED).await;
    // Before any commit: no code, nothing found.
    let r = sim.api("/cgi-bin/component/getprivacysetting", &at, json!({})).await;
    assert_eq!((r["code_exist"].as_i64(), &r["privacy_list"]), (Some(0), &json!([])), "{r}");
    assert_eq!(sim.set_privacy(&at, &["PhoneNumber"]).await["errcode"], 86001);

    let at = sim.committed(MP_CONFIGURED, "2.4.0").await;
    let r = sim.api("/cgi-bin/component/getprivacysetting", &at, json!({"privacy_ver": 3})).await;
    assert_eq!(r["errcode"], 86071);
    let r = sim.api("/cgi-bin/component/getprivacysetting", &at, json!({"privacy_ver": 2})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    assert_eq!(r["code_exist"], 1);
    assert_eq!(r["privacy_list"], json!(["PhoneNumber", "Location"]));
    assert_eq!(
        r["setting_list"],
        json!([{"privacy_key": "PhoneNumber", "privacy_text": "", "privacy_label": "手机号码"},
               {"privacy_key": "Location", "privacy_text": "", "privacy_label": "位置信息"}])
    );
    let desc = r["privacy_desc"]["privacy_desc_list"].as_array().unwrap();
    assert!(desc.contains(&json!({"privacy_key": "Location", "privacy_desc": "位置信息"})), "{r}");

    // setprivacysetting's rules.
    let owner = |o: Value| json!({"privacy_ver": 2, "owner_setting": o, "setting_list": [{"privacy_key": "PhoneNumber", "privacy_text": "联系"}]});
    let refusals = [
        (owner(json!({"notice_method": "弹窗"})), 86069),
        (owner(json!({"contact_qq": "10001"})), 86070),
        (owner(json!({"contact_qq": "10001", "notice_method": "弹窗", "store_expire_timestamp": "180"})), 86072),
        (owner(json!({"contact_qq": "10001", "notice_method": "弹窗", "ext_file_media_id": "nope"})), 86073),
        (json!({"privacy_ver": 2, "owner_setting": {"contact_qq": "1", "notice_method": "弹窗"}}), 47001),
        (
            json!({"privacy_ver": 2, "owner_setting": {"contact_qq": "1", "notice_method": "弹窗"}, "setting_list": [{"privacy_key": "Album"}]}),
            47001,
        ),
        (json!({"privacy_ver": 1, "owner_setting": {"contact_qq": "1", "notice_method": "弹窗"}}), 86074),
    ];
    for (body, code) in refusals {
        let r = sim.api("/cgi-bin/component/setprivacysetting", &at, body.clone()).await;
        assert_eq!(r["errcode"], code, "{body}: {r}");
    }
    let ok = owner(json!({"contact_qq": "10001", "notice_method": "弹窗", "store_expire_timestamp": "180天"}));
    assert_eq!(sim.api("/cgi-bin/component/setprivacysetting", &at, ok).await["errcode"], 0);
    let r = sim.api("/cgi-bin/component/getprivacysetting", &at, json!({})).await;
    assert_eq!(
        r["setting_list"][0],
        json!({"privacy_key": "PhoneNumber", "privacy_text": "联系", "privacy_label": "手机号码"})
    );
    assert_eq!(r["setting_list"][1]["privacy_text"], "", "Location is still not configured");
    assert_eq!(r["owner_setting"]["store_expire_timestamp"], "180天");
    // The live guide does not exist before a release.
    let live = sim.api("/cgi-bin/component/getprivacysetting", &at, json!({"privacy_ver": 1})).await;
    assert_eq!(live["setting_list"][0]["privacy_text"], "");

    // A new commit restarts the scan; a longer scan answers 61039 as often as configured;
    // the control API can end one at once.
    sim.control("/__sim/golive", json!({"privacy_scan": {"secs": 0, "calls": 2}})).await;
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.1").await["errcode"], 0);
    for path in ["/cgi-bin/component/setprivacysetting", "/wxa/security/get_code_privacy_info"] {
        let r = if path.contains("setprivacy") {
            sim.set_privacy(&at, &["PhoneNumber"]).await
        } else {
            sim.get(path, &at).await
        };
        assert_eq!(r["errcode"], 61039, "{path}: {r}");
    }
    assert_eq!(sim.get("/wxa/security/get_code_privacy_info", &at).await["errcode"], 0);
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.2").await["errcode"], 0);
    let r = sim.control("/__sim/privacy_scan", json!({"appid": MP_CONFIGURED})).await;
    assert_eq!(r["finished"], true, "{r}");
    let r = sim.get("/wxa/security/get_code_privacy_info", &at).await;
    assert_eq!(r, json!({"errcode": 0, "errmsg": "ok", "without_auth_list": [], "without_conf_list": []}));
    let calls = sim.look("/__sim/calls").await;
    let answered: Vec<i64> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["path"] == "/wxa/security/get_code_privacy_info")
        .map(|c| c["errcode"].as_i64().unwrap())
        .collect();
    assert_eq!(answered, [61039, 0, 0]);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn location_apis_need_declaring_and_opening() {
    let sim = Sim::start().await;
    let at = sim.token(MP_CONFIGURED).await;
    sim.control("/__sim/golive", json!({"privacy_scan": {"secs": 0, "calls": 0}})).await;
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(130), "3.0.0").await["errcode"], 0);
    let r = sim.get("/wxa/security/get_code_privacy_info", &at).await;
    assert_eq!(
        (&r["without_auth_list"], &r["without_conf_list"]),
        (&json!(["wx.getLocation"]), &json!(["wx.getLocation"]))
    );
    let ext = json!({"extAppid": MP_CONFIGURED, "requiredPrivateInfos": ["getLocation"]}).to_string();
    let body = json!({"template_id": 130, "ext_json": ext, "user_version": "3.0.1", "user_desc": "d"});
    assert_eq!(sim.api("/wxa/commit", &at, body).await["errcode"], 0);
    let r = sim.get("/wxa/security/get_code_privacy_info", &at).await;
    assert_eq!((&r["without_auth_list"], &r["without_conf_list"]), (&json!(["wx.getLocation"]), &json!([])));

    let apply = |name: &str, pics: Value| json!({"api_name": name, "content": "下单时定位门店", "pic_list": pics});
    let r = sim.api("/wxa/security/apply_privacy_interface", &at, apply("wx.getLocation", json!([]))).await;
    assert_eq!(r["errcode"], 61034);
    let r = sim
        .api("/wxa/security/apply_privacy_interface", &at, apply("wx.chooseLocation", json!(["https://a.cn/1.png"])))
        .await;
    assert_eq!(r["errcode"], 61035);
    let r = sim
        .api("/wxa/security/apply_privacy_interface", &at, apply("wx.getLocation", json!(["https://a.cn/1.png"])))
        .await;
    assert_eq!(r["errcode"], 0, "{r}");
    assert!(r["audit_id"].is_i64());
    let again = sim
        .api("/wxa/security/apply_privacy_interface", &at, apply("wx.getLocation", json!(["https://a.cn/1.png"])))
        .await;
    assert_eq!(again["errcode"], 61031);
    let list = sim.get("/wxa/security/get_privacy_interface", &at).await;
    assert_eq!(list["interface_list"][0]["status"], 3, "{list}");
    let list = sim.get("/wxa/security/get_privacy_interface", &at).await;
    assert_eq!(list["interface_list"][0]["status"], 5, "{list}");
    let r = sim.get("/wxa/security/get_code_privacy_info", &at).await;
    assert_eq!((&r["without_auth_list"], &r["without_conf_list"]), (&json!([]), &json!([])));
    sim.handle.shutdown().await;
}

fn six(request: &[&str]) -> Value {
    json!({"requestdomain": request, "wsrequestdomain": [], "uploaddomain": [], "downloaddomain": [],
           "udpdomain": [], "tcpdomain": []})
}

#[tokio::test]
async fn server_domains_by_the_platform_list_and_directly() {
    let sim = Sim::start().await;
    let at = sim.token(MP_CONFIGURED).await;
    let md = |body: Value| sim.api("/wxa/modify_domain", &at, body);
    let got = md(json!({"action": "get"})).await;
    let mut expected = six(&[]);
    for t in ["requestdomain", "wsrequestdomain", "uploaddomain", "downloaddomain", "udpdomain", "tcpdomain"] {
        expected[format!("invalid_{t}")] = json!([]);
    }
    expected["no_icp_domain"] = json!([]);
    expected["errcode"] = json!(0);
    expected["errmsg"] = json!("ok");
    assert_eq!(got, expected);
    assert_eq!(md(json!({"action": "replace"})).await["errcode"], 47001);

    // set replaces all six; a type left out is emptied.
    let r = md(
        json!({"action": "set", "requestdomain": ["https://api.example.cn"], "wsrequestdomain": ["wss://ws.example.cn"],
                      "uploaddomain": ["https://api.example.cn"], "downloaddomain": ["https://cdn.example.cn"]}),
    )
    .await;
    assert_eq!(r["errcode"], 0, "{r}");
    assert_eq!(r["wsrequestdomain"], json!(["wss://ws.example.cn"]));
    assert_eq!(r["udpdomain"], json!([]));
    let r = md(json!({"action": "set", "requestdomain": ["https://api.example.cn"]})).await;
    assert_eq!((&r["wsrequestdomain"], &r["downloaddomain"]), (&json!([]), &json!([])), "{r}");

    // A domain without ICP filing, one against the rules, both: nothing changes, and the
    // answer names them beside the lists as they are.
    let r = md(json!({"action": "add", "requestdomain": ["https://noicp.example.cn"]})).await;
    assert_eq!(r["errcode"], 85302, "{r}");
    assert_eq!(r["no_icp_domain"], json!(["https://noicp.example.cn"]));
    assert_eq!(r["requestdomain"], json!(["https://api.example.cn"]));
    let r = md(json!({"action": "add", "requestdomain": ["http://plain.example.cn"], "wsrequestdomain": ["https://ws.example.cn"]})).await;
    assert_eq!(r["errcode"], 85301, "{r}");
    assert_eq!(
        (&r["invalid_requestdomain"], &r["invalid_wsrequestdomain"]),
        (&json!(["http://plain.example.cn"]), &json!(["https://ws.example.cn"]))
    );
    let r = md(json!({"action": "add", "requestdomain": ["https://10.0.0.1", "https://noicp.example.cn:8443"]})).await;
    assert_eq!(r["errcode"], 85303, "{r}");
    assert_eq!(r["no_icp_domain"], json!(["https://noicp.example.cn:8443"]));
    let r = md(json!({"action": "add", "requestdomain": ["https://api.example.cn"]})).await;
    assert_eq!(r["errcode"], 85017);
    let r =
        md(json!({"action": "add", "requestdomain": ["https://b.example.cn"], "udpdomain": ["udp://u.example.cn"]}))
            .await;
    assert_eq!(
        (&r["requestdomain"], &r["udpdomain"]),
        (&json!(["https://api.example.cn", "https://b.example.cn"]), &json!(["udp://u.example.cn"]))
    );
    let r = md(json!({"action": "delete", "requestdomain": ["https://api.example.cn"]})).await;
    assert_eq!(r["requestdomain"], json!(["https://b.example.cn"]));

    // The platform's list, when it has one, bounds method one.
    let r = sim.control("/__sim/golive", json!({"platform_server_domains": ["example.cn"]})).await;
    assert_eq!(r["platform_server_domains"], json!(["example.cn"]), "{r}");
    assert_eq!(md(json!({"action": "add", "requestdomain": ["https://c.example.cn"]})).await["errcode"], 0);
    assert_eq!(md(json!({"action": "add", "requestdomain": ["https://other.cn"]})).await["errcode"], 85018);

    // Method two has its own errcodes and list; the effective list is the union.
    let direct = |body: Value| sim.api("/wxa/modify_domain_directly", &at, body);
    assert_eq!(direct(json!({"action": "add", "requestdomain": ["https://noicp.example.cn"]})).await["errcode"], 45082);
    assert_eq!(direct(json!({"action": "add", "requestdomain": ["http://d.example.cn"]})).await["errcode"], 86100);
    assert_eq!(
        direct(json!({"action": "add", "requestdomain": ["https://api.weixin.qq.com"]})).await["errcode"],
        86101
    );
    let r = direct(json!({"action": "add", "requestdomain": ["https://other.cn"]})).await;
    assert_eq!(r["requestdomain"], json!(["https://other.cn"]), "{r}");
    let eff = sim.api("/wxa/get_effective_domain", &at, json!({})).await;
    assert_eq!(eff["third_domain"]["requestdomain"], json!(["https://b.example.cn", "https://c.example.cn"]));
    assert_eq!(eff["direct_domain"]["requestdomain"], json!(["https://other.cn"]));
    assert_eq!(
        eff["effective_domain"]["requestdomain"],
        json!(["https://b.example.cn", "https://c.example.cn", "https://other.cn"])
    );
    assert_eq!(eff["mp_domain"]["requestdomain"], json!([]), "nothing live before a release");

    // 50 changes a month per mini-program.
    sim.control("/__sim/golive", json!({"domain_changes_per_month": 6})).await;
    let r = direct(json!({"action": "delete", "requestdomain": ["https://other.cn"]})).await;
    assert_eq!(r["errcode"], 86102, "{r}");
    assert_eq!(r["requestdomain"], json!(["https://other.cn"]));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn business_domains() {
    let sim = Sim::start().await;
    let at = sim.token(MP_CONFIGURED).await;
    let wv = |body: Value| sim.api("/wxa/setwebviewdomain", &at, body);
    assert_eq!(wv(json!({})).await["errcode"], 89020, "no platform list to add from");
    assert_eq!(wv(json!({"action": "add", "webviewdomain": ["http://h5.example.cn"]})).await["errcode"], 86100);
    assert_eq!(wv(json!({"action": "add", "webviewdomain": ["https://h5.example.cn:8080"]})).await["errcode"], 86100);
    assert_eq!(wv(json!({"action": "add", "webviewdomain": ["https://noicp.example.cn"]})).await["errcode"], 45082);
    let r = wv(json!({"action": "set", "webviewdomain": ["https://h5.example.cn"]})).await;
    assert_eq!(r, json!({"errcode": 0, "errmsg": "ok", "webviewdomain": ["https://h5.example.cn"]}));
    assert_eq!(wv(json!({"action": "set", "webviewdomain": ["https://h5.example.cn"]})).await["errcode"], 89019);
    assert_eq!(wv(json!({"action": "get"})).await["webviewdomain"], json!(["https://h5.example.cn"]));

    sim.control("/__sim/golive", json!({"platform_webview_domains": ["example.cn"]})).await;
    assert_eq!(wv(json!({"action": "add", "webviewdomain": ["https://h5.other.cn"]})).await["errcode"], 89021);
    let r = wv(json!({})).await;
    assert_eq!(r["webviewdomain"], json!(["https://h5.example.cn", "https://example.cn"]), "{r}");

    let file = sim.api("/wxa/get_webviewdomain_confirmfile", &at, json!({})).await;
    assert!(file["file_name"].as_str().unwrap().ends_with(".txt"), "{file}");
    let r = sim
        .api("/wxa/setwebviewdomain_directly", &at, json!({"action": "add", "webviewdomain": ["https://m.other.cn"]}))
        .await;
    assert_eq!(r["errcode"], 0, "{r}");
    let eff = sim.api("/wxa/get_effective_webviewdomain", &at, json!({})).await;
    assert_eq!(
        eff["effective_webviewdomain"],
        json!(["https://h5.example.cn", "https://example.cn", "https://m.other.cn"])
    );

    // The platform's own lists, with the component token.
    let ct = sim.component_token().await;
    let r = sim
        .api("/cgi-bin/component/modify_wxa_server_domain", &ct, json!({"action": "add", "wxa_server_domain": "api.example.cn;https://bad.cn", "is_modify_published_together": true}))
        .await;
    assert_eq!(r["published_wxa_server_domain"], "api.example.cn", "{r}");
    assert_eq!(r["invalid_wxa_server_domain"], "https://bad.cn");
    let md =
        sim.api("/wxa/modify_domain", &at, json!({"action": "add", "requestdomain": ["https://cdn.example.cn"]})).await;
    assert_eq!(md["errcode"], 85018, "now checked against the platform's list: {md}");
    sim.handle.shutdown().await;
}

/// A second mini-program as ready as `MP_CONFIGURED` (name, avatar, signature, an approved
/// category), to share the platform's pool with it.
const TWIN: &str = "wxdc685123d9554531";

fn with_twin() -> Fixture {
    let mut f = Fixture::example();
    let mut twin = f.mini_programs.iter().find(|m| m.appid == MP_CONFIGURED).unwrap().clone();
    twin.appid = TWIN.into();
    twin.refresh_token = Some("refreshtoken@@@mp-twin-0099".into());
    twin.nickname = "示例计算器二号".into();
    f.mini_programs.push(twin);
    f
}

/// Audits end only through the control API; the scan is over at once.
async fn manual(sim: &Sim) {
    let r = sim
        .control("/__sim/golive", json!({"code_audit": {"result": "manual"}, "privacy_scan": {"secs": 0, "calls": 0}}))
        .await;
    assert_eq!(r["code_audit"]["result"], "manual", "{r}");
}

/// Commits `user_version` of template 128, sets the whole guide, submits: the audit id.
async fn submitted(sim: &Sim, appid: &str, user_version: &str) -> (String, i64) {
    let at = sim.token(appid).await;
    assert_eq!(sim.commit(&at, appid, json!(TEMPLATE), user_version).await["errcode"], 0);
    assert_eq!(sim.set_privacy(&at, &["PhoneNumber", "Location"]).await["errcode"], 0);
    let r = sim.api("/wxa/submit_audit", &at, json!({})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    (at, r["auditid"].as_i64().unwrap())
}

async fn quota(sim: &Sim, at: &str) -> Value {
    sim.get("/wxa/queryquota", at).await
}

fn item(first: i64, second: i64, address: &str) -> Value {
    json!({"first_class": "工具", "second_class": "计算器", "first_id": first, "second_id": second,
           "address": address, "tag": "计算 工具", "title": "首页"})
}

#[tokio::test]
async fn submit_audit_one_at_a_time_and_release_only_after_approval() {
    let sim = Sim::start().await;
    manual(&sim).await;
    let fresh = sim.token(MP).await;
    assert_eq!(sim.api("/wxa/submit_audit", &fresh, json!({})).await["errcode"], 85086);
    assert_eq!(sim.commit(&fresh, MP, json!(TEMPLATE), "1.0.0").await["errcode"], 0);
    assert_eq!(sim.api("/wxa/submit_audit", &fresh, json!({})).await["errcode"], 86002, "no name, avatar, signature");
    assert_eq!(sim.api("/wxa/release", &fresh, json!({})).await["errcode"], 85019);

    let at = sim.token(MP_CONFIGURED).await;
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.0").await["errcode"], 0);
    assert_eq!(sim.set_privacy(&at, &["PhoneNumber", "Location"]).await["errcode"], 0);
    let q = quota(&sim, &at).await;
    assert_eq!(
        q,
        json!({"errcode": 0, "errmsg": "ok", "rest": 20, "limit": 20, "speedup_rest": 5, "speedup_limit": 5})
    );

    let long_title = json!({"first_class": "工具", "second_class": "计算器", "first_id": 287, "second_id": 288, "title": "标".repeat(33)});
    let many_tags = json!({"first_class": "工具", "second_class": "计算器", "first_id": 287, "second_id": 288, "tag": "a b c d e f g h i j k"});
    let refusals = [
        (json!({"item_list": [item(8, 39, "pages/home/index")]}), 85008),
        (json!({"item_list": [item(287, 288, "pages/nope/index")]}), 85007),
        (json!({"item_list": vec![item(287, 288, "pages/home/index"); 6]}), 85023),
        (json!({"item_list": []}), 85023),
        (json!({"item_list": [long_title]}), 85011),
        (json!({"item_list": [many_tags]}), 85006),
        (json!({"item_list": [{"first_id": 287, "second_id": 288}]}), 85010),
    ];
    for (body, code) in refusals {
        let r = sim.api("/wxa/submit_audit", &at, body.clone()).await;
        assert_eq!(r["errcode"], code, "{body}: {r}");
    }
    assert_eq!(quota(&sim, &at).await["rest"], 20, "refusals take nothing from the pool");

    let body = json!({"item_list": [item(287, 288, "pages/home/index")], "version_desc": "测试账号 13800000000"});
    let r = sim.api("/wxa/submit_audit", &at, body).await;
    assert_eq!(r["errcode"], 0, "{r}");
    let auditid = r["auditid"].as_i64().expect("a number, as the live platform answers");
    assert_eq!(quota(&sim, &at).await["rest"], 19);
    assert_eq!(sim.api("/wxa/submit_audit", &at, json!({})).await["errcode"], 85009);
    assert_eq!(quota(&sim, &at).await["rest"], 19, "85009 takes nothing");
    assert_eq!(sim.api("/wxa/release", &at, json!({})).await["errcode"], 85020, "in review");

    let status = sim.api("/wxa/get_auditstatus", &at, json!({"auditid": auditid})).await;
    assert_eq!(status, json!({"errcode": 0, "errmsg": "ok", "status": 2, "reason": "", "screenshot": ""}));
    let as_text = sim.api("/wxa/get_auditstatus", &at, json!({"auditid": auditid.to_string()})).await;
    assert_eq!(as_text["status"], 2);
    assert_eq!(sim.api("/wxa/get_auditstatus", &at, json!({"auditid": 1})).await["errcode"], 85012);
    assert_eq!(
        sim.api("/wxa/get_auditstatus", &fresh, json!({"auditid": auditid})).await["errcode"],
        85012,
        "another's"
    );

    let r = sim.control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "approve"})).await;
    assert_eq!(r, json!({"auditid": auditid, "status": 0, "push": null}));
    let latest = sim.get("/wxa/get_latest_auditstatus", &at).await;
    let submitted = latest["submit_audit_time"].as_i64().unwrap();
    assert_eq!(
        latest,
        json!({"errcode": 0, "errmsg": "ok", "auditid": auditid, "status": 0, "reason": "", "ScreenShot": "",
               "user_version": "2.4.0", "user_desc": "wxprov batch", "submit_audit_time": submitted})
    );
    let again = sim.control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "reject"})).await;
    assert!(again["error"].as_str().unwrap().contains("no code audit in review"), "{again}");

    assert_eq!(sim.api("/wxa/release", &at, json!({"x": 1})).await["errcode"], 47001, "the body is exactly {{}}");
    assert_eq!(sim.api("/wxa/release", &at, json!({})).await, json!({"errcode": 0, "errmsg": "ok"}));
    let info = sim.api("/wxa/getversioninfo", &at, json!({})).await;
    assert_eq!(
        (info["release_info"]["release_version"].as_str(), info["release_info"]["release_desc"].as_str()),
        (Some("2.4.0"), Some("wxprov batch"))
    );
    assert_eq!(sim.api("/wxa/release", &at, json!({})).await["errcode"], 85052);
    let live = sim.api("/cgi-bin/component/getprivacysetting", &at, json!({"privacy_ver": 1})).await;
    assert_eq!(live["setting_list"][0]["privacy_text"], "完成会员注册", "the guide went live with the release");

    // A rejection: reason and screenshots in both status calls; no release.
    let at = sim.token(MP_CONFIGURED).await;
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.5.0").await["errcode"], 0);
    let r = sim.api("/wxa/submit_audit", &at, json!({"feedback_info": "已修改"})).await;
    let second = r["auditid"].as_i64().unwrap();
    assert!(second > auditid);
    let r = sim
        .control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "reject", "reason": "类目与页面内容不符", "screenshot": ["mid1", "mid2"]}))
        .await;
    assert_eq!(r["status"], 1, "{r}");
    let latest = sim.get("/wxa/get_latest_auditstatus", &at).await;
    assert_eq!(
        (latest["status"].as_i64(), latest["reason"].as_str(), latest["ScreenShot"].as_str()),
        (Some(1), Some("类目与页面内容不符"), Some("mid1|mid2"))
    );
    assert_eq!(latest["user_version"], "2.5.0");
    let status = sim.api("/wxa/get_auditstatus", &at, json!({"auditid": second})).await;
    assert_eq!(status["screenshot"], "mid1|mid2");
    assert_eq!(sim.api("/wxa/release", &at, json!({})).await["errcode"], 85020);
    let info = sim.api("/wxa/getversioninfo", &at, json!({})).await;
    assert_eq!(
        (info["exp_info"]["exp_version"].as_str(), info["release_info"]["release_version"].as_str()),
        (Some("2.5.0"), Some("2.4.0"))
    );

    // One release kept: nothing to roll back to.
    let history: Value =
        sim.get_with("/wxa/revertcoderelease", &at, "action=get_history_version").await.json().await.unwrap();
    assert_eq!(history["version_list"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(sim.get("/wxa/revertcoderelease", &at).await["errcode"], 87012);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_monthly_pool_is_shared_by_every_mini_program_of_the_platform() {
    let sim = Sim::with(with_twin(), SimOptions::default()).await;
    manual(&sim).await;
    let r = sim.control("/__sim/audit_quota", json!({"rest": 1})).await;
    assert_eq!((r["rest"].as_u64(), r["limit"].as_u64()), (Some(1), Some(20)), "{r}");
    let (at, first) = submitted(&sim, MP_CONFIGURED, "2.4.0").await;
    let twin = sim.token(TWIN).await;
    assert_eq!(sim.commit(&twin, TWIN, json!(TEMPLATE), "2.4.0").await["errcode"], 0);
    assert_eq!(sim.set_privacy(&twin, &["PhoneNumber", "Location"]).await["errcode"], 0);
    assert_eq!(sim.api("/wxa/submit_audit", &twin, json!({})).await["errcode"], 85085);
    assert_eq!(quota(&sim, &twin).await["rest"], 0, "one pool: the twin sees what MP_CONFIGURED spent");

    // Raised (a temporary increase): the twin submits.
    sim.control("/__sim/audit_quota", json!({"rest": 2, "limit": 22})).await;
    let r = sim.api("/wxa/submit_audit", &twin, json!({})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    let twin_audit = r["auditid"].as_i64().unwrap();
    let q = quota(&sim, &at).await;
    assert_eq!((q["rest"].as_u64(), q["limit"].as_u64()), (Some(1), Some(22)));

    // Speed-ups spend the month's speed-up quota.
    async fn speed(sim: &Sim, at: &str, id: i64) -> Value {
        sim.api("/wxa/speedupaudit", at, json!({"auditid": id})).await
    }
    assert_eq!(speed(&sim, &twin, twin_audit).await["errcode"], 0);
    assert_eq!(speed(&sim, &twin, twin_audit).await["errcode"], 89404);
    assert_eq!(quota(&sim, &at).await["speedup_rest"], 4);
    sim.control("/__sim/audit_quota", json!({"speedup_rest": 0})).await;
    assert_eq!(speed(&sim, &at, first).await["errcode"], 89405);

    // Withdrawing: status 3, no refund, 1 a day.
    assert_eq!(sim.get("/wxa/undocodeaudit", &at).await, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(sim.get("/wxa/get_latest_auditstatus", &at).await["status"], 3);
    assert_eq!(speed(&sim, &at, first).await["errcode"], 89402, "no longer in the queue");
    assert_eq!(quota(&sim, &at).await["rest"], 1, "withdrawing gives nothing back");
    assert_eq!(sim.get("/wxa/undocodeaudit", &at).await["errcode"], 85019, "nothing in review");
    let r = sim.api("/wxa/submit_audit", &at, json!({})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    assert_eq!(sim.get("/wxa/undocodeaudit", &at).await["errcode"], 87013);
    sim.control("/__sim/golive", json!({"undo_per_day": 5, "undo_refunds_quota": true})).await;
    assert_eq!(sim.get("/wxa/undocodeaudit", &at).await["errcode"], 0);
    assert_eq!(quota(&sim, &at).await["rest"], 1, "refunded when the fixture says so");
    sim.handle.shutdown().await;
}

/// A callback receiver: hands over every request's path and query and body.
async fn receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<(String, String, String)>) {
    use axum::extract::{OriginalUri, RawQuery};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |uri: OriginalUri, RawQuery(q): RawQuery, body: String| {
        let tx = tx.clone();
        async move {
            let _ = tx.send((uri.path().to_string(), q.unwrap_or_default(), body));
            "success"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

const PUSH_TOKEN: &str = "callbacktoken";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// The next push, checked for its signature and opened.
async fn next_push(rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, String, String)>) -> (String, Pushed) {
    let wait = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv());
    let (path, query, body) = wait.await.expect("a push within 20 s").unwrap();
    let q: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    assert_eq!(q["encrypt_type"], "aes");
    let outer = PushBody::parse(body.as_bytes()).unwrap();
    let crypt = MsgCrypt::new(PUSH_TOKEN, AES_KEY, COMPONENT).unwrap();
    let inner = crypt.decrypt(&q["msg_signature"], &q["timestamp"], &q["nonce"], &outer.encrypt).unwrap();
    assert_eq!(outer.to_user_name.as_deref(), Some("gh_5123d9554530"));
    (path, Pushed::parse(inner.as_bytes()).unwrap())
}

#[tokio::test]
async fn audits_end_by_rule_or_by_hand_and_push_their_outcome() {
    let sim = Sim::start().await;
    manual(&sim).await;
    let (url, mut rx) = receiver().await;
    let r = sim
        .control(
            "/__sim/callback",
            json!({"url": format!("{url}/callback/events/$APPID$"), "token": PUSH_TOKEN, "encoding_aes_key": AES_KEY}),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");

    // By hand: a delay (not final), then a rejection with screenshots.
    let (at, first) = submitted(&sim, MP_CONFIGURED, "2.4.0").await;
    let r = sim
        .control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "delay", "reason": "需要更多时间"}))
        .await;
    assert_eq!(r["push"]["status"], 200, "{r}");
    let (path, pushed) = next_push(&mut rx).await;
    assert_eq!(path, format!("/callback/events/{MP_CONFIGURED}"));
    assert!(
        matches!(&pushed.event, Event::CodeAudit { outcome: CodeAuditOutcome::Delayed, reason, .. } if reason == "需要更多时间"),
        "{pushed:?}"
    );
    assert_eq!(sim.get("/wxa/get_latest_auditstatus", &at).await["status"], 4);
    assert_eq!(sim.api("/wxa/submit_audit", &at, json!({})).await["errcode"], 85009, "a delayed audit still runs");
    sim.control(
        "/__sim/code_audit",
        json!({"appid": MP_CONFIGURED, "result": 1, "reason": "页面空白", "screenshot": "m1|m2"}),
    )
    .await;
    let (_, pushed) = next_push(&mut rx).await;
    let Event::CodeAudit { outcome, time, reason, screenshots } = pushed.event else { panic!("{pushed:?}") };
    assert_eq!(
        (outcome, reason.as_str(), screenshots),
        (CodeAuditOutcome::Rejected, "页面空白", vec!["m1".to_string(), "m2".to_string()])
    );
    assert!(time.is_some());
    assert_eq!(pushed.to_user_name.as_deref(), Some("gh_5123d9554530"));

    // By rule: approved at the second status query.
    sim.control("/__sim/golive", json!({"code_audit": {"result": "approve", "after_queries": 1}})).await;
    let (at, second) = submitted(&sim, MP_CONFIGURED, "2.4.1").await;
    assert_eq!(sim.api("/wxa/get_auditstatus", &at, json!({"auditid": second})).await["status"], 2);
    assert_eq!(sim.api("/wxa/get_auditstatus", &at, json!({"auditid": second})).await["status"], 0);
    let (_, pushed) = next_push(&mut rx).await;
    assert!(matches!(pushed.event, Event::CodeAudit { outcome: CodeAuditOutcome::Approved, .. }), "{pushed:?}");

    // By rule, with a guide that lacks a key the scan found: rejected, naming it.
    let at = sim.token(MP_CONFIGURED).await;
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.2").await["errcode"], 0);
    assert_eq!(sim.set_privacy(&at, &["PhoneNumber"]).await["errcode"], 0);
    let third = sim.api("/wxa/submit_audit", &at, json!({})).await["auditid"].as_i64().unwrap();
    sim.api("/wxa/get_auditstatus", &at, json!({"auditid": third})).await;
    let r = sim.api("/wxa/get_auditstatus", &at, json!({"auditid": third})).await;
    assert_eq!((r["status"].as_i64(), r["reason"].as_str()), (Some(1), Some("隐私保护指引未配置：Location")), "{r}");
    let (_, pushed) = next_push(&mut rx).await;
    assert!(matches!(pushed.event, Event::CodeAudit { outcome: CodeAuditOutcome::Rejected, .. }));

    // By rule and the clock alone (no query): the rule's rejection, pushed.
    sim.control(
        "/__sim/golive",
        json!({"code_audit": {"result": "reject", "reason": "功能不完整", "screenshot": ["s1"]}}),
    )
    .await;
    let (_, fourth) = submitted(&sim, MP_CONFIGURED, "2.4.3").await;
    let (_, pushed) = next_push(&mut rx).await;
    let Event::CodeAudit { outcome, reason, screenshots, .. } = pushed.event else { panic!() };
    assert_eq!(
        (outcome, reason.as_str(), screenshots),
        (CodeAuditOutcome::Rejected, "功能不完整", vec!["s1".to_string()])
    );

    let pushes = sim.look("/__sim/pushes").await;
    let seen: Vec<(i64, &str, i64)> = pushes
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["auditid"].as_i64().unwrap(), p["event"].as_str().unwrap(), p["status"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (first, "weapp_audit_delay", 200),
            (first, "weapp_audit_fail", 200),
            (second, "weapp_audit_success", 200),
            (third, "weapp_audit_fail", 200),
            (fourth, "weapp_audit_fail", 200),
        ]
    );
    assert_eq!(pushes[0]["url"], format!("{url}/callback/events/{MP_CONFIGURED}"));

    // /__sim/push sends one by hand, to the same shape.
    let r = sim
        .control("/__sim/push", json!({"url": format!("{url}/callback/events/$APPID$"), "token": PUSH_TOKEN, "encoding_aes_key": AES_KEY,
                                        "event": "weapp_audit_fail", "appid": MP_CONFIGURED, "reason": "r", "screenshot": "a|b"}))
        .await;
    assert_eq!(r["status"], 200, "{r}");
    let (path, pushed) = next_push(&mut rx).await;
    assert_eq!(path, format!("/callback/events/{MP_CONFIGURED}"));
    assert!(
        matches!(&pushed.event, Event::CodeAudit { outcome: CodeAuditOutcome::Rejected, screenshots, .. } if screenshots.len() == 2)
    );

    // Without a callback nothing is pushed.
    let r = sim.http.delete(sim.url("/__sim/callback")).send().await.unwrap();
    assert!(r.status().is_success());
    manual(&sim).await;
    submitted(&sim, MP_CONFIGURED, "2.4.4").await;
    let r = sim.control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "approve"})).await;
    assert_eq!(r["push"], Value::Null);
    assert_eq!(sim.look("/__sim/pushes").await.as_array().unwrap().len(), 5);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn icp_filing_status_per_mini_program() {
    let sim = Sim::start().await;
    let at = sim.token(MP_CONFIGURED).await;
    let info = sim.get("/wxa/icp/get_icp_entrance_info", &at).await;
    assert_eq!(
        info,
        json!({"errcode": 0, "errmsg": "ok", "info": {"status": 6, "is_canceling": false, "available": 1, "audit_data": []}})
    );
    let spent = sim.token(MP_SPENT).await;
    assert_eq!(sim.get("/wxa/icp/get_icp_entrance_info", &spent).await["info"]["status"], 1024);
    let r = sim.control("/__sim/icp", json!({"appid": MP_CONFIGURED, "status": 4})).await;
    assert_eq!(r, json!({"appid": MP_CONFIGURED, "status": 4}));
    let info = sim.get("/wxa/icp/get_icp_entrance_info", &at).await;
    assert_eq!((info["info"]["status"].as_i64(), info["info"]["sms_verify_status"].as_i64()), (Some(4), Some(1)));
    let r = sim.control("/__sim/icp", json!({"appid": "wx0000000000000000", "status": 6})).await;
    assert!(r["error"].is_string());
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn go_live_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wxprov.db.sim.json");
    let sim = Sim::with(Fixture::example(), with_state(&path)).await;
    manual(&sim).await;
    sim.control("/__sim/icp", json!({"appid": MP_CONFIGURED, "status": 2})).await;
    let (_, auditid) = submitted(&sim, MP_CONFIGURED, "2.4.0").await;
    sim.handle.shutdown().await;
    let saved = read_state(&path);
    assert_eq!(saved["golive"]["pool"]["rest"], 19, "{}", saved["golive"]);

    let sim = Sim::with(Fixture::example(), with_state(&path)).await;
    let at = sim.token(MP_CONFIGURED).await;
    let latest = sim.get("/wxa/get_latest_auditstatus", &at).await;
    assert_eq!(
        (latest["auditid"].as_i64(), latest["status"].as_i64()),
        (Some(auditid), Some(2)),
        "manual still: {latest}"
    );
    assert_eq!(quota(&sim, &at).await["rest"], 19);
    assert_eq!(sim.get("/wxa/icp/get_icp_entrance_info", &at).await["info"]["status"], 2);
    assert_eq!(
        sim.get("/wxa/get_page", &at).await["page_list"],
        json!(["pages/home/index", "pages/shop/detail", "pages/order/list"])
    );
    sim.control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "approve"})).await;
    assert_eq!(sim.api("/wxa/release", &at, json!({})).await["errcode"], 0);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn faults_apply_to_the_go_live_endpoints() {
    let sim = Sim::start().await;
    manual(&sim).await;
    let at = sim.token(MP_CONFIGURED).await;
    sim.control("/__sim/faults", json!({"path": "/wxa/commit", "kind": "errcode", "errcode": -1})).await;
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.0").await["errcode"], -1);
    assert_eq!(sim.get("/wxa/get_page", &at).await["errcode"], 86001, "the fault came before any effect");
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.0").await["errcode"], 0);
    assert_eq!(sim.set_privacy(&at, &["PhoneNumber", "Location"]).await["errcode"], 0);

    // The answer to a submission is lost, the submission stands.
    sim.control("/__sim/faults", json!({"path": "/wxa/submit_audit", "kind": "effect_then_drop"})).await;
    let lost = sim.send("/wxa/submit_audit", Some(("access_token", &at)), Some(json!({}))).await;
    assert!(lost.is_err(), "{lost:?}");
    let latest = sim.get("/wxa/get_latest_auditstatus", &at).await;
    assert_eq!((latest["status"].as_i64(), latest["user_version"].as_str()), (Some(2), Some("2.4.0")), "{latest}");
    assert_eq!(quota(&sim, &at).await["rest"], 19);
    sim.control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "approve"})).await;

    // A release that answers −1 although it happened; the next one is 85052.
    sim.control("/__sim/faults", json!({"path": "/wxa/release", "kind": "effect_then_errcode", "errcode": -1})).await;
    assert_eq!(sim.api("/wxa/release", &at, json!({})).await["errcode"], -1);
    assert_eq!(sim.api("/wxa/getversioninfo", &at, json!({})).await["release_info"]["release_version"], "2.4.0");
    assert_eq!(sim.api("/wxa/release", &at, json!({})).await["errcode"], 85052);

    let calls = sim.look("/__sim/calls").await;
    let faults: Vec<(&str, &str, bool)> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["fault"].is_null())
        .map(|c| (c["path"].as_str().unwrap(), c["fault"].as_str().unwrap(), c["effect"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        faults,
        [
            ("/wxa/commit", "errcode", false),
            ("/wxa/submit_audit", "effect_then_drop", true),
            ("/wxa/release", "effect_then_errcode", true)
        ]
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_documents_shapes_by_a_fixture_option() {
    let sim = Sim::start().await;
    manual(&sim).await;
    let r = sim
        .control("/__sim/golive", json!({"shapes": {"auditid_as_string": true, "template_id_as_string": true, "screenshot_key": "screenshot"}}))
        .await;
    assert_eq!(r["shapes"]["screenshot_key"], "screenshot", "{r}");
    let bad = sim.control("/__sim/golive", json!({"shapes": {"screenshot_key": "Screenshot"}})).await;
    assert!(bad["error"].as_str().unwrap().contains("screenshot_key"), "{bad}");
    let unknown = sim.control("/__sim/golive", json!({"code_audits": {}})).await;
    assert!(unknown["error"].as_str().unwrap().contains("unknown field `code_audits`"), "{unknown}");

    let ct = sim.component_token().await;
    let list: Value = sim.get_with("/wxa/gettemplatelist", &ct, "").await.json().await.unwrap();
    assert_eq!(list["template_list"][0]["template_id"], "128");
    let at = sim.token(MP_CONFIGURED).await;
    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.0").await["errcode"], 0);
    assert_eq!(sim.set_privacy(&at, &["PhoneNumber", "Location"]).await["errcode"], 0);
    let r = sim.api("/wxa/submit_audit", &at, json!({})).await;
    let id = r["auditid"].as_str().expect("a numeric string");
    assert!(id.parse::<i64>().is_ok());
    sim.control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "reject", "screenshot": ["m"]})).await;
    let latest = sim.get("/wxa/get_latest_auditstatus", &at).await;
    assert_eq!((latest.get("screenshot"), latest.get("ScreenShot")), (Some(&json!("m")), None), "{latest}");
    sim.handle.shutdown().await;
}

impl Sim {
    async fn multipart(&self, path: &str, at: &str, field: &str, name: &str, bytes: Vec<u8>) -> Value {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part(field.to_string(), part);
        let url = format!("{}?access_token={at}", self.url(path));
        self.http.post(url).multipart(form).send().await.unwrap().json().await.unwrap()
    }
}

#[tokio::test]
async fn audit_material_and_the_privacy_file_are_uploaded_first() {
    let sim = Sim::start().await;
    manual(&sim).await;
    let at = sim.token(MP_CONFIGURED).await;
    let up = |field: &'static str, name: &'static str, bytes: Vec<u8>| {
        let path = if field == "media" { "/wxa/uploadmedia" } else { "/cgi-bin/component/uploadprivacyextfile" };
        sim.multipart(path, &at, field, name, bytes)
    };
    let pic = up("media", "p.png", super::png()).await;
    assert_eq!(pic["type"], "image", "{pic}");
    let pic = pic["mediaid"].as_str().unwrap().to_string();
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypmp42");
    mp4.extend_from_slice(&[0; 64]);
    let video = up("media", "v.mp4", mp4).await;
    assert_eq!(video["type"], "video", "{video}");
    let video = video["mediaid"].as_str().unwrap().to_string();
    assert_eq!(up("media", "a.bmp", super::encoded(image::ImageFormat::Bmp, 2, 2)).await["errcode"], 40005);
    assert_eq!(up("media", "a.txt", b"hello".to_vec()).await["errcode"], 40005);
    let wrong_field = sim.multipart("/wxa/uploadmedia", &at, "file", "p.png", super::png()).await;
    assert_eq!(wrong_field["errcode"], 41005, "uploadmedia's field is media");
    assert_eq!(up("file", "p.png", super::png()).await["errcode"], 86073, "a guide is text");

    let guide = up("file", "guide.txt", "本小程序收集手机号码用于登录。".as_bytes().to_vec()).await;
    let guide = guide["ext_file_media_id"].as_str().expect("an id").to_string();
    assert_eq!(up("file", "big.txt", vec![b'a'; 100 * 1024 + 1]).await["errcode"], 86073);

    assert_eq!(sim.commit(&at, MP_CONFIGURED, json!(TEMPLATE), "2.4.0").await["errcode"], 0);
    let body = json!({"privacy_ver": 2,
        "owner_setting": {"contact_email": "p@example.cn", "notice_method": "弹窗", "ext_file_media_id": guide},
        "setting_list": [{"privacy_key": "PhoneNumber", "privacy_text": "登录"}, {"privacy_key": "Location", "privacy_text": "找门店"}]});
    assert_eq!(sim.api("/cgi-bin/component/setprivacysetting", &at, body).await["errcode"], 0);

    let six_ids = [pic.as_str(); 6].join("|");
    let refusals = [
        (json!({"preview_info": ["x"]}), 85092),
        (json!({"preview_info": {"pic_id_list": ["unknown"]}}), 40007),
        (json!({"preview_info": {"video_id_list": [video.clone(), video.clone()]}}), 85093),
        (json!({"feedback_stuff": six_ids}), 85093),
        (json!({"feedback_stuff": "nope"}), 40007),
    ];
    for (body, code) in refusals {
        let r = sim.api("/wxa/submit_audit", &at, body.clone()).await;
        assert_eq!(r["errcode"], code, "{body}: {r}");
    }
    let body = json!({"preview_info": {"pic_id_list": [pic], "video_id_list": [video]}, "feedback_stuff": pic});
    assert_eq!(sim.api("/wxa/submit_audit", &at, body).await["errcode"], 0);

    let r = sim.api("/wxa/icp/query_icp_verifytask", &at, json!({"task_id": "t1"})).await;
    assert_eq!(r, json!({"errcode": 0, "errmsg": "ok", "is_finish": true, "face_status": 3}));
    assert_eq!(sim.api("/wxa/icp/query_icp_verifytask", &at, json!({})).await["errcode"], 47001);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_new_beijing_month_starts_the_pool_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wxprov.db.sim.json");
    let sim = Sim::with(Fixture::example(), with_state(&path)).await;
    sim.control("/__sim/audit_quota", json!({"rest": 0, "speedup_rest": 1, "limit": 7})).await;
    sim.handle.shutdown().await;
    // The pool as a process left it in an earlier month.
    let mut saved = read_state(&path);
    assert_eq!(saved["golive"]["pool"]["rest"], 0);
    saved["golive"]["pool"]["month"] = json!("2000-01");
    std::fs::write(&path, serde_json::to_vec(&saved).unwrap()).unwrap();

    let sim = Sim::with(Fixture::example(), with_state(&path)).await;
    let at = sim.token(MP_CONFIGURED).await;
    let q = quota(&sim, &at).await;
    assert_eq!(q, json!({"errcode": 0, "errmsg": "ok", "rest": 7, "limit": 7, "speedup_rest": 5, "speedup_limit": 5}));
    sim.handle.shutdown().await;
    assert_ne!(read_state(&path)["golive"]["pool"]["month"], "2000-01");
}
