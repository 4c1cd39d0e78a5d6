//! The go-live endpoints over real HTTP: templates, code, the privacy scan and guide, domains,
//! audits within the platform's pool, pushes, the release and ICP.

use serde_json::{json, Value};

use super::{Sim, MP, MP_CONFIGURED, MP_SPENT};

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
    let _ = MP;
    let _ = MP_SPENT;
    sim.handle.shutdown().await;
}
