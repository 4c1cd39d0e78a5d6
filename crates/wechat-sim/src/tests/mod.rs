//! End-to-end tests of the simulator over real HTTP, with reqwest as the client would use it.

use serde_json::{json, Value};

use super::{start, Fixture, SimHandle, SimOptions};
use wechat_open::api::RateLimit;

const COMPONENT: &str = "wx666666666666123a";
const OA: &str = "wx28f759479ea1e090";
const OA_FOUR: &str = "wx3a1b2c3d4e5f6071";
const MP: &str = "wxe5f52902cf4de896";
const MP_CONFIGURED: &str = "wxdc685123d9554530";
const MP_SPENT: &str = "wx0f1e2d3c4b5a6978";

struct Sim {
    handle: SimHandle,
    http: reqwest::Client,
    fixture: Fixture,
}

/// A real 2×2 PNG: the simulator decodes what it receives.
fn png() -> Vec<u8> {
    encoded(image::ImageFormat::Png, 2, 2)
}

/// A `width`×`height` picture in `format`.
fn encoded(format: image::ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

impl Sim {
    async fn start() -> Sim {
        Sim::with(Fixture::example(), SimOptions::default()).await
    }

    async fn with(fixture: Fixture, opts: SimOptions) -> Sim {
        let handle = start(fixture.clone(), opts, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Sim { handle, http, fixture }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.url)
    }

    async fn send(&self, path: &str, token: Option<(&str, &str)>, body: Option<Value>) -> reqwest::Result<Value> {
        let mut url = self.url(path);
        if let Some((k, t)) = token {
            url = format!("{url}?{k}={t}");
        }
        let req = match body {
            Some(b) => self.http.post(url).json(&b),
            None => self.http.get(url),
        };
        req.send().await?.json().await
    }

    async fn component(&self, path: &str, ct: &str, body: Value) -> Value {
        self.send(path, Some(("component_access_token", ct)), Some(body)).await.unwrap()
    }

    async fn api(&self, path: &str, at: &str, body: Value) -> Value {
        self.send(path, Some(("access_token", at)), Some(body)).await.unwrap()
    }

    async fn get(&self, path: &str, at: &str) -> Value {
        self.send(path, Some(("access_token", at)), None).await.unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let resp = self.http.post(self.url(path)).json(&body).send().await.unwrap();
        resp.json().await.unwrap()
    }

    async fn look(&self, path: &str) -> Value {
        self.http.get(self.url(path)).send().await.unwrap().json().await.unwrap()
    }

    async fn component_token(&self) -> String {
        let c = &self.fixture.component;
        let r = self
            .send(
                "/cgi-bin/component/api_component_token",
                None,
                Some(json!({"component_appid": c.appid, "component_appsecret": c.secret,
                    "component_verify_ticket": c.verify_ticket})),
            )
            .await
            .unwrap();
        assert_eq!(r["errcode"], 0, "{r}");
        r["component_access_token"].as_str().unwrap().to_string()
    }

    fn refresh_of(&self, appid: &str) -> String {
        let oa = self.fixture.official_accounts.iter().find(|a| a.appid == appid);
        let rt = oa.and_then(|a| a.refresh_token.clone()).or_else(|| {
            let mp = self.fixture.mini_programs.iter().find(|m| m.appid == appid);
            mp.and_then(|m| m.refresh_token.clone())
        });
        rt.unwrap()
    }

    async fn authorizer_token_with(&self, appid: &str, refresh: &str) -> Value {
        let ct = self.component_token().await;
        self.component(
            "/cgi-bin/component/api_authorizer_token",
            &ct,
            json!({"component_appid": COMPONENT, "authorizer_appid": appid,
                "authorizer_refresh_token": refresh}),
        )
        .await
    }

    async fn token(&self, appid: &str) -> String {
        let r = self.authorizer_token_with(appid, &self.refresh_of(appid)).await;
        assert_eq!(r["errcode"], 0, "{r}");
        r["authorizer_access_token"].as_str().unwrap().to_string()
    }

    async fn upload(&self, at: &str, kind: &str, bytes: Vec<u8>) -> Value {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("a.png").mime_str("image/png").unwrap();
        let form = reqwest::multipart::Form::new().part("media", part);
        let url = self.url(&format!("/cgi-bin/media/upload?access_token={at}&type={kind}"));
        self.http.post(url).multipart(form).send().await.unwrap().json().await.unwrap()
    }

    async fn media(&self, at: &str) -> String {
        let r = self.upload(at, "image", png()).await;
        assert_eq!(r["errcode"], 0, "{r}");
        r["media_id"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn component_to_authorizer_token_chain() {
    let sim = Sim::start().await;
    let c = sim.fixture.component.clone();
    let wrong_secret = sim
        .send(
            "/cgi-bin/component/api_component_token",
            None,
            Some(json!({"component_appid": c.appid, "component_appsecret": "nope",
                "component_verify_ticket": c.verify_ticket})),
        )
        .await
        .unwrap();
    assert_eq!(wrong_secret["errcode"], 40125, "the live answer to a wrong secret");
    let wrong_ticket = sim
        .send(
            "/cgi-bin/component/api_component_token",
            None,
            Some(json!({"component_appid": c.appid, "component_appsecret": c.secret,
                "component_verify_ticket": "old"})),
        )
        .await
        .unwrap();
    assert_eq!(wrong_ticket["errcode"], 61006);

    let r = sim.authorizer_token_with(MP, &sim.refresh_of(MP)).await;
    assert_eq!(r["errcode"], 0);
    assert_eq!(r["expires_in"], 7200);
    assert_eq!(r["authorizer_refresh_token"], sim.refresh_of(MP).as_str());
    let at = r["authorizer_access_token"].as_str().unwrap();
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", at).await;
    assert_eq!(info["errcode"], 0, "{info}");
    assert_eq!(info["appid"], MP);
    assert_eq!(info["signature_info"]["modify_quota"], 5);
    assert_eq!(info["nickname_info"]["nickname"], "");

    // Token errors.
    let missing = sim.send("/cgi-bin/account/getaccountbasicinfo", None, None).await.unwrap();
    assert_eq!(missing["errcode"], 41001);
    let unknown = sim.get("/cgi-bin/account/getaccountbasicinfo", "bogus").await;
    assert_eq!(unknown["errcode"], 40001);
    let ct = sim.component_token().await;
    let wrong_kind = sim.get("/cgi-bin/account/getaccountbasicinfo", &ct).await;
    assert_eq!(wrong_kind["errcode"], 40001);

    // The authorizer list pages over official accounts and mini-programs.
    let list = sim
        .component(
            "/cgi-bin/component/api_get_authorizer_list",
            &ct,
            json!({"component_appid": COMPONENT, "offset": 0, "count": 3}),
        )
        .await;
    let fixture = Fixture::example();
    assert_eq!(list["total_count"], fixture.official_accounts.len() + fixture.mini_programs.len());
    assert_eq!(list["list"].as_array().unwrap().len(), 3);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn forced_expiry_gives_42001_and_revoke_gives_61023() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    let r = sim.control("/__sim/expire", json!({"appid": MP})).await;
    assert_eq!(r["expired"], 1);
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["errcode"], 42001);
    // A fresh token works again.
    let at = sim.token(MP).await;
    assert_eq!(sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await["errcode"], 0);

    let ct = sim.component_token().await;
    sim.control("/__sim/expire", json!({"component": true})).await;
    let r = sim
        .component(
            "/cgi-bin/component/api_get_authorizer_list",
            &ct,
            json!({"component_appid": COMPONENT, "offset": 0, "count": 10}),
        )
        .await;
    assert_eq!(r["errcode"], 42001);

    sim.control("/__sim/revoke", json!({"appid": MP})).await;
    let r = sim.authorizer_token_with(MP, &sim.refresh_of(MP)).await;
    assert_eq!(r["errcode"], 61023);
}

fn fast_fixture() -> Fixture {
    let mut f = Fixture::example();
    f.fastregister_retry_window_ms = 50;
    f
}

async fn scan(sim: &Sim, oa: &str) -> String {
    let r = sim.control("/__sim/scan", json!({"official_appid": oa})).await;
    r["ticket"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn fastregister_then_query_auth() {
    let sim = Sim::with(fast_fixture(), SimOptions::default()).await;
    let oa = sim.token(OA).await;
    let ticket = scan(&sim, OA).await;
    assert_eq!(ticket.len(), 32);

    let r = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": ticket})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    assert_eq!(r["is_wx_verify_succ"], "true");
    assert_eq!(r["is_link_succ"], "true");
    let appid = r["appid"].as_str().unwrap().to_string();
    assert!(appid.starts_with("wx") && appid.len() == 18);
    let code = r["authorization_code"].as_str().unwrap().to_string();

    // The same ticket at once: the 5-s rule; after the window: single use.
    let again = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": ticket})).await;
    assert_eq!(again["errcode"], 61058);
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    let again = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": ticket})).await;
    assert_eq!(again["errcode"], 61058);
    // A ticket for another official account, or none.
    let other = scan(&sim, OA_FOUR).await;
    let r = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": other})).await;
    assert_eq!(r["errcode"], 61058);
    // A mini-program's token cannot register.
    let mp = sim.token(MP).await;
    let r = sim.api("/cgi-bin/account/fastregister", &mp, json!({"ticket": other})).await;
    assert_eq!(r["errcode"], 48001);

    let ct = sim.component_token().await;
    let auth = sim
        .component(
            "/cgi-bin/component/api_query_auth",
            &ct,
            json!({"component_appid": COMPONENT, "authorization_code": code}),
        )
        .await;
    assert_eq!(auth["errcode"], 0, "{auth}");
    let info = &auth["authorization_info"];
    assert_eq!(info["authorizer_appid"], appid.as_str());
    let at = info["authorizer_access_token"].as_str().unwrap();
    let basic = sim.get("/cgi-bin/account/getaccountbasicinfo", at).await;
    assert_eq!(basic["principal_name"], "杭州示例科技有限公司");
    let rt = info["authorizer_refresh_token"].as_str().unwrap();
    let r = sim.authorizer_token_with(&appid, rt).await;
    assert_eq!(r["errcode"], 0);

    let twice = sim
        .component(
            "/cgi-bin/component/api_query_auth",
            &ct,
            json!({"component_appid": COMPONENT, "authorization_code": code}),
        )
        .await;
    assert_eq!(twice["errcode"], 61009);

    let state = sim.look("/__sim/state").await;
    assert_eq!(state["official_accounts"][OA]["registrations_this_month"], 1);
    assert_eq!(state["mini_programs"][&appid]["fast_registered"], true);
}

#[tokio::test]
async fn fastregister_limits() {
    let sim = Sim::with(fast_fixture(), SimOptions::default()).await;
    let oa = sim.token(OA_FOUR).await;
    let t1 = scan(&sim, OA_FOUR).await;
    let r = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": t1})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    let t2 = scan(&sim, OA_FOUR).await;
    let r = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": t2})).await;
    assert_eq!(r["errcode"], 61055);

    let unverified = sim.token("wx4b2c3d4e5f607182").await;
    let t = scan(&sim, "wx4b2c3d4e5f607182").await;
    let r = sim.api("/cgi-bin/account/fastregister", &unverified, json!({"ticket": t})).await;
    assert_eq!(r["errcode"], 61052);
    let pending = sim.token("wx5c3d4e5f60718293").await;
    let t = scan(&sim, "wx5c3d4e5f60718293").await;
    let r = sim.api("/cgi-bin/account/fastregister", &pending, json!({"ticket": t})).await;
    assert_eq!(r["errcode"], 61057);
}

#[tokio::test]
async fn media_upload_and_head_image() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    let other = sim.token(MP_CONFIGURED).await;

    assert_eq!(sim.upload(&at, "voice", png()).await["errcode"], 40004);
    assert_eq!(sim.upload(&at, "image", b"not an image".to_vec()).await["errcode"], 40005);
    let mut big = png();
    big.resize(2 * 1024 * 1024 + 1, 0);
    assert_eq!(sim.upload(&at, "image", big).await["errcode"], 40009);
    let r = sim.upload(&at, "image", png()).await;
    assert_eq!(r["type"], "image");
    assert!(r["created_at"].as_i64().unwrap() > 0);
    let media = r["media_id"].as_str().unwrap().to_string();

    let crop = |id: &str| json!({"head_img_media_id": id, "x1": 0, "y1": 0, "x2": 1, "y2": 1});
    let path = "/cgi-bin/account/modifyheadimage";
    assert_eq!(sim.api(path, &other, crop(&media)).await["errcode"], 40007);
    assert_eq!(sim.api(path, &at, crop("")).await["errcode"], 41006);
    let bad = json!({"head_img_media_id": media, "x1": 0.5, "y1": 0, "x2": 0.5, "y2": 1});
    assert_eq!(sim.api(path, &at, bad).await["errcode"], 40097);
    let r = sim.api(path, &at, crop(&media)).await;
    assert_eq!(r, json!({"errcode": 0, "errmsg": "ok"}));
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["head_image_info"]["modify_used_count"], 1);
    assert!(info["head_image_info"]["head_image_url"].as_str().unwrap().contains("/sim/"));

    let spent = sim.token(MP_SPENT).await;
    let spent_media = sim.media(&spent).await;
    assert_eq!(sim.api(path, &spent, crop(&spent_media)).await["errcode"], 53202);

    let calls = sim.look("/__sim/calls").await;
    let upload = calls.as_array().unwrap().iter().find(|c| c["path"] == "/cgi-bin/media/upload");
    let fields = &upload.unwrap()["body"]["fields"]["media"];
    assert_eq!(fields["filename"], "a.png");
    assert_eq!(fields["content_type"], "image/png");
}

#[tokio::test]
async fn media_upload_refuses_bmp_and_records_what_it_decoded() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    // A BMP sent as it is: 40005, as the live platform answers; nothing is stored.
    let r = sim.upload(&at, "image", encoded(image::ImageFormat::Bmp, 5, 3)).await;
    assert_eq!(r["errcode"], 40005, "{r}");
    assert!(r["errmsg"].as_str().unwrap().contains("not BMP"), "{r}");
    // Bytes that say PNG but do not decode are refused too.
    let mut broken = png();
    broken.truncate(20);
    assert_eq!(sim.upload(&at, "image", broken).await["errcode"], 40005);
    let r = sim.upload(&at, "image", encoded(image::ImageFormat::Png, 5, 3)).await;
    assert_eq!(r["errcode"], 0, "{r}");

    let calls = sim.look("/__sim/calls").await;
    let decoded: Vec<Value> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["path"] == "/cgi-bin/media/upload")
        .map(|c| c["body"]["fields"]["media"]["decoded"].clone())
        .collect();
    assert_eq!(decoded[0], json!({"format": "bmp", "width": 5, "height": 3, "error": null}));
    assert_eq!(decoded[1]["format"], "png");
    assert!(decoded[1]["error"].is_string(), "{}", decoded[1]);
    assert_eq!(decoded[2], json!({"format": "png", "width": 5, "height": 3, "error": null}));
    let state = sim.look("/__sim/state").await;
    let media: Vec<&Value> = state["media"].as_object().unwrap().values().collect();
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0]["decoded"], json!({"format": "png", "width": 5, "height": 3, "error": null}));
}

#[tokio::test]
async fn signature_rules_and_quota() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    let path = "/cgi-bin/account/modifysignature";
    assert_eq!(sim.api(path, &at, json!({"signature": ""})).await["errcode"], 40097);
    assert_eq!(sim.api(path, &at, json!({"signature": "短"})).await["errcode"], 53204);
    let black = json!({"signature": "提供彩票信息的服务"});
    assert_eq!(sim.api(path, &at, black).await["errcode"], 53201);
    let good = json!({"signature": "提供好玩的服务。"});
    assert_eq!(sim.api(path, &at, good.clone()).await["errcode"], 0);
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["signature_info"]["signature"], "提供好玩的服务。");
    assert_eq!(info["signature_info"]["modify_used_count"], 1);

    sim.control("/__sim/quota", json!({"appid": MP, "signature_used": 5})).await;
    assert_eq!(sim.api(path, &at, good.clone()).await["errcode"], 53200);
    let spent = sim.token(MP_SPENT).await;
    assert_eq!(sim.api(path, &spent, good).await["errcode"], 53200);
}

#[tokio::test]
async fn categories_rules() {
    let sim = Sim::start().await;
    let at = sim.token(MP_CONFIGURED).await;
    let all = sim.get("/cgi-bin/wxopen/getallcategories", &at).await;
    assert!(all.get("category_list").is_none(), "the live shape by default: {all}");
    let cats = all["categories_list"]["categories"].as_array().unwrap();
    assert!(cats.iter().any(|c| c["id"] == 868 && c["sensitive_type"] == 1));
    let mut document = Fixture::example();
    document.category_tree_field = super::fixture::CategoryTreeField::CategoryList;
    let doc_sim = Sim::with(document, SimOptions::default()).await;
    let doc_at = doc_sim.token(MP_CONFIGURED).await;
    let all = doc_sim.get("/cgi-bin/wxopen/getallcategories", &doc_at).await;
    assert!(all.get("categories_list").is_none(), "the document's shape by fixture option: {all}");
    assert_eq!(all["category_list"]["categories"].as_array().unwrap().len(), cats.len());

    let cur = sim.get("/cgi-bin/wxopen/getcategory", &at).await;
    assert_eq!(cur["limit"], 5);
    assert_eq!(cur["quota"], 3);
    assert_eq!(cur["category_limit"], 20);
    assert_eq!(cur["categories"][0]["first_name"], "工具");
    assert_eq!(cur["categories"][0]["second_name"], "计算器");

    let add = "/cgi-bin/wxopen/addcategory";
    let dup = json!({"categories": [{"first": 287, "second": 288, "certicates": []}]});
    assert_eq!(sim.api(add, &at, dup).await["errcode"], 53304);
    let media = sim.media(&at).await;
    let upper = json!({"categories": [{"first": 8, "second": 43,
        "certicates": [{"Key": "x", "Value": media}]}]});
    assert_eq!(sim.api(add, &at, upper).await["errcode"], 40007);
    let unknown = json!({"categories": [{"first": 8, "second": 288}]});
    assert_eq!(sim.api(add, &at, unknown).await["errcode"], 53303);
    let no_cert = json!({"categories": [{"first": 321, "second": 322}]});
    assert_eq!(sim.api(add, &at, no_cert).await["errcode"], 53303);
    let with_cert = json!({"categories": [{"first": 321, "second": 322,
        "certicates": [{"key": "《食品经营许可证》", "value": media}]}, {"first": 287, "second": 612}]});
    assert_eq!(sim.api(add, &at, with_cert).await["errcode"], 0);
    let cur = sim.get("/cgi-bin/wxopen/getcategory", &at).await;
    assert_eq!(cur["quota"], 2);
    let statuses: Vec<_> = cur["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["second"].as_i64().unwrap(), c["audit_status"].as_i64().unwrap()))
        .collect();
    assert_eq!(statuses, vec![(288, 3), (39, 2), (322, 1), (612, 3)]);

    let del = "/cgi-bin/wxopen/deletecategory";
    assert_eq!(sim.api(del, &at, json!({"first": 321, "second": 322})).await["errcode"], 53308);
    assert_eq!(sim.api(del, &at, json!({"first": 150, "second": 151})).await["errcode"], 53303);
    assert_eq!(sim.api(del, &at, json!({"first": 287, "second": 612})).await["errcode"], 0);

    let modify = "/cgi-bin/wxopen/modifycategory";
    let m = json!({"first": 287, "second": 288, "certicates": []});
    assert_eq!(sim.api(modify, &at, m).await["errcode"], 53307);
    let m = json!({"first": 8, "second": 39,
        "certicates": [{"key": "《因私出入境中介机构经营许可证》", "value": media}]});
    assert_eq!(sim.api(modify, &at, m).await["errcode"], 0);

    let spent = sim.token(MP_SPENT).await;
    let r = sim.api(add, &spent, json!({"categories": [{"first": 287, "second": 288}]})).await;
    assert_eq!(r["errcode"], 53300);
}

#[tokio::test]
async fn nickname_check_set_and_audit() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    let check = "/cgi-bin/wxverify/checkwxverifynickname";
    let codes = [("示例小程序", 53010), ("ab", 53010), ("彩票天天开", 53012), ("京东到家", 53013)];
    for (name, code) in codes {
        assert_eq!(sim.api(check, &at, json!({"nick_name": name})).await["errcode"], code, "{name}");
    }
    let hit = sim.api(check, &at, json!({"nick_name": "中国好工具"})).await;
    assert_eq!(hit["hit_condition"], true);
    assert!(!hit["wording"].as_str().unwrap().is_empty());

    let set = "/wxa/setnickname";
    assert_eq!(sim.api(set, &at, json!({"nick_name": "京东到家"})).await["errcode"], 91007);
    assert_eq!(sim.api(set, &at, json!({"nick_name": "中国好工具"})).await["errcode"], 91009);
    let bad_media = json!({"nick_name": "中国好工具", "license": "nope"});
    assert_eq!(sim.api(set, &at, bad_media).await["errcode"], 40007);
    let legacy = sim.token("wx1a2b3c4d5e6f7080").await;
    assert_eq!(sim.api(set, &legacy, json!({"nick_name": "好工具箱"})).await["errcode"], 91001);

    let license = sim.media(&at).await;
    let r = sim.api(set, &at, json!({"nick_name": "中国好工具", "license": license})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    let audit_id = r["audit_id"].as_i64().unwrap();
    assert_eq!(sim.api(set, &at, json!({"nick_name": "好工具箱"})).await["errcode"], 91019);

    let query = "/wxa/api_wxa_querynickname";
    let other = sim.token(MP_CONFIGURED).await;
    assert_eq!(sim.api(query, &other, json!({"audit_id": audit_id})).await["errcode"], 91011);
    let q1 = sim.api(query, &at, json!({"audit_id": audit_id})).await;
    assert_eq!(q1["audit_stat"], 1);
    let q2 = sim.api(query, &at, json!({"audit_id": audit_id})).await;
    assert_eq!(q2["audit_stat"], 3);
    assert_eq!(q2["nickname"], "中国好工具");
    assert!(q2["audit_time"].as_i64().unwrap() > 0);
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["nickname_info"]["nickname"], "中国好工具");
    assert_eq!(info["nickname_info"]["modify_used_count"], 1);

    // The second approved change spends the year's two; a third is refused.
    let r = sim.api(set, &at, json!({"nick_name": "好工具箱"})).await;
    let second = r["audit_id"].as_i64().unwrap();
    for _ in 0..2 {
        sim.api(query, &at, json!({"audit_id": second})).await;
    }
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(
        (info["nickname_info"]["modify_used_count"].as_i64(), info["nickname_info"]["modify_quota"].as_i64()),
        (Some(2), Some(2))
    );
    let spent = sim.api(set, &at, json!({"nick_name": "好工具箱三号"})).await;
    assert_eq!(spent["errcode"], 91003, "{spent}");

    // Manual audits wait for the control API.
    let r = sim.api(set, &other, json!({"nick_name": "示例计算器二"})).await;
    let id = r["audit_id"].as_i64().unwrap();
    sim.control("/__sim/audit", json!({"appid": MP_CONFIGURED, "result": 2, "reason": "不行"})).await;
    let q = sim.api(query, &other, json!({"audit_id": id})).await;
    assert_eq!((q["audit_stat"].as_i64(), q["fail_reason"].as_str()), (Some(2), Some("不行")));
}

#[tokio::test]
async fn effect_then_drop_applies_but_client_sees_an_error() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    let fault = json!({"path": "/cgi-bin/account/modifysignature", "kind": "effect_then_drop"});
    sim.control("/__sim/faults", fault).await;
    let r = sim
        .send(
            "/cgi-bin/account/modifysignature",
            Some(("access_token", &at)),
            Some(json!({"signature": "提供好玩的服务。"})),
        )
        .await;
    assert!(r.is_err(), "{r:?}");
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["signature_info"]["signature"], "提供好玩的服务。");
    let calls = sim.look("/__sim/calls").await;
    let rec = calls.as_array().unwrap().iter().find(|c| c["fault"] == "effect_then_drop").unwrap();
    assert_eq!(rec["effect"], true);
    assert_eq!(rec["errcode"], Value::Null);
    assert_eq!(rec["appid"], MP);
}

#[tokio::test]
async fn dropped_connection_is_an_error_without_effect() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    let faults = json!([
        {"path": "/cgi-bin/account/modifysignature", "kind": "drop"},
        {"path": "/cgi-bin/account/modifysignature", "kind": "http", "status": 503, "skip": 1},
        {"path": "/cgi-bin/wxopen/getcategory", "kind": "errcode", "errcode": 45011, "appid": MP},
    ]);
    sim.control("/__sim/faults", faults).await;
    let body = json!({"signature": "提供好玩的服务。"});
    let url = sim.url(&format!("/cgi-bin/account/modifysignature?access_token={at}"));
    let r = sim.http.post(&url).json(&body).send().await;
    assert!(r.is_err(), "a dropped connection must not look like a response: {r:?}");
    // The drop fault is spent; the http fault skips one matching call, then answers 503.
    assert_eq!(sim.http.post(&url).json(&body).send().await.unwrap().status(), 200);
    assert_eq!(sim.http.post(&url).json(&body).send().await.unwrap().status(), 503);
    assert_eq!(sim.get("/cgi-bin/wxopen/getcategory", &at).await["errcode"], 45011);
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["signature_info"]["modify_used_count"], 1);
}

#[tokio::test]
async fn call_log_never_holds_a_credential() {
    let sim = Sim::with(fast_fixture(), SimOptions::default()).await;
    let oa = sim.token(OA).await;
    let ticket = scan(&sim, OA).await;
    let r = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": ticket})).await;
    let ct = sim.component_token().await;
    let code = r["authorization_code"].as_str().unwrap();
    sim.component(
        "/cgi-bin/component/api_query_auth",
        &ct,
        json!({"component_appid": COMPONENT, "authorization_code": code}),
    )
    .await;
    sim.component(
        "/cgi-bin/component/api_get_authorizer_list",
        &ct,
        json!({"component_appid": COMPONENT, "offset": 0, "count": 100}),
    )
    .await;
    let calls = serde_json::to_string(&sim.look("/__sim/calls").await).unwrap();
    let tokens = sim.look("/__sim/tokens").await;
    let mut secrets = vec![ticket];
    for key in ["access_tokens", "refresh_tokens", "authorization_codes", "component_secrets"] {
        for t in tokens[key].as_array().unwrap() {
            secrets.push(t.as_str().unwrap().to_string());
        }
    }
    assert!(secrets.len() > 10);
    for s in secrets {
        assert!(!calls.contains(&s), "{s} leaked into the call log");
    }
    assert!(calls.contains("\"***\""));
}

#[tokio::test]
async fn random_faults_quota_and_bad_input() {
    let opts = SimOptions { latency_ms: 1, fault_rate: 1.0, seed: Some(42), state_file: None };
    let mut fixture = Fixture::example();
    fixture.quotas.clear();
    let sim = Sim::with(fixture, opts).await;
    // Token-issuing calls are spared by random faults.
    let at = sim.token(MP).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..24 {
        let url = sim.url(&format!("/cgi-bin/account/getaccountbasicinfo?access_token={at}"));
        match sim.http.get(url).send().await {
            Err(_) => seen.insert("drop".to_string()),
            Ok(r) if r.status() != 200 => seen.insert(r.status().to_string()),
            Ok(r) => seen.insert(r.json::<Value>().await.unwrap()["errcode"].to_string()),
        };
    }
    let want = ["-1", "45011", "502 Bad Gateway", "drop"].map(String::from);
    assert_eq!(seen, want.into_iter().collect());
    sim.handle.shutdown().await;

    let mut fixture = Fixture::example();
    fixture.quotas.insert(
        "/cgi-bin/account/modifysignature".into(),
        super::fixture::QuotaFixture {
            daily_limit: 1,
            used: 0,
            rate_limit: Some(RateLimit { call_count: 100, refresh_second: 60 }),
            component_rate_limit: None,
        },
    );
    let sim = Sim::with(fixture, SimOptions::default()).await;
    let at = sim.token(MP).await;
    let path = "/cgi-bin/account/modifysignature";
    assert_eq!(sim.api(path, &at, json!({"signature": "提供好玩的服务。"})).await["errcode"], 0);
    assert_eq!(sim.api(path, &at, json!({"signature": "提供好玩的服务。"})).await["errcode"], 45009);
    let q = sim.api("/cgi-bin/openapi/quota/get", &at, json!({"cgi_path": path})).await;
    assert_eq!(q["quota"], json!({"daily_limit": 1, "used": 1, "remain": 0}));
    assert_eq!(q["rate_limit"], json!({"call_count": 100, "refresh_second": 60}), "the live answer's rate limit");
    assert!(q.get("component_rate_limit").is_none(), "absent where the fixture states none: {q}");
    let q = sim.api("/cgi-bin/openapi/quota/get", &at, json!({"cgi_path": "/x"})).await;
    assert_eq!(q["quota"]["daily_limit"], 1000);
    assert!(q.get("rate_limit").is_none(), "{q}");

    let url = sim.url(&format!("{path}?access_token={at}"));
    let r: Value = sim.http.post(&url).body("{not json").send().await.unwrap().json().await.unwrap();
    assert_eq!(r["errcode"], 47001);
    let r: Value = sim.http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["errcode"], 43002);
    let r = sim.http.post(sim.url("/cgi-bin/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn rebind_and_scan_redirect() {
    let sim = Sim::start().await;
    let at = sim.token(MP_CONFIGURED).await;
    let path = "/cgi-bin/account/componentrebindadmin";
    let fixed = json!({"taskid": "b25519093b1e97239eff9d2bfc07e08e"});
    assert_eq!(sim.api(path, &at, fixed.clone()).await["errcode"], 0);
    assert_eq!(sim.api(path, &at, fixed).await["errcode"], 85060);
    let other = sim.token(MP).await;
    let task = sim.control("/__sim/rebind", json!({"appid": MP})).await;
    let body = json!({"taskid": task["taskid"]});
    assert_eq!(sim.api(path, &at, body.clone()).await["errcode"], 85060);
    assert_eq!(sim.api(path, &other, body).await["errcode"], 0);

    // The scan follows redirect_uri with the ticket appended; the simulator itself is a
    // handy receiver (404 with the ticket in its call log would leak it, so use a control
    // path that ignores the query).
    let uri = format!("{}/__sim/tokens?from=mp", sim.handle.url);
    let r = sim.control("/__sim/scan", json!({"official_appid": OA, "redirect_uri": uri})).await;
    assert_eq!(r["redirect_status"], 200);
    assert_eq!(r["ticket"].as_str().unwrap().len(), 32);
}

fn with_state(path: &std::path::Path) -> SimOptions {
    SimOptions { seed: Some(7), state_file: Some(path.to_path_buf()), ..SimOptions::default() }
}

fn read_state(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn state_file_carries_the_world_to_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db.sim.json");

    let sim = Sim::with(fast_fixture(), with_state(&path)).await;
    assert!(path.exists(), "written at start");
    let at = sim.token(MP).await;
    let ct = sim.component_token().await;
    let oa = sim.token(OA).await;
    let ticket = scan(&sim, OA).await;
    let r = sim.api("/cgi-bin/account/fastregister", &oa, json!({"ticket": ticket})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    let new_appid = r["appid"].as_str().unwrap().to_string();
    let code = r["authorization_code"].as_str().unwrap().to_string();
    let sig = json!({"signature": "提供好玩的服务。"});
    assert_eq!(sim.api("/cgi-bin/account/modifysignature", &at, sig).await["errcode"], 0);
    let r = sim.api("/wxa/setnickname", &at, json!({"nick_name": "好工具箱"})).await;
    assert_eq!(r["errcode"], 0, "{r}");
    let audit_id = r["audit_id"].as_i64().unwrap();
    // One query in review: the next one (in the next process) ends the audit.
    let query = "/wxa/api_wxa_querynickname";
    assert_eq!(sim.api(query, &at, json!({"audit_id": audit_id})).await["audit_stat"], 1);
    let before = read_state(&path);
    assert_eq!(before["audits"][audit_id.to_string()]["queries"], 1, "saved after the call");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    sim.handle.shutdown().await;

    // The next process, same seed: the old credentials and ids still mean what they meant.
    let sim = Sim::with(fast_fixture(), with_state(&path)).await;
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["errcode"], 0, "{info}");
    assert_eq!(info["signature_info"]["signature"], "提供好玩的服务。");
    assert_eq!(info["signature_info"]["modify_used_count"], 1);
    let q = sim.api(query, &at, json!({"audit_id": audit_id})).await;
    assert_eq!((q["errcode"].as_i64(), q["audit_stat"].as_i64()), (Some(0), Some(3)), "{q}");
    assert_eq!(q["nickname"], "好工具箱");
    let auth = sim
        .component(
            "/cgi-bin/component/api_query_auth",
            &ct,
            json!({"component_appid": COMPONENT, "authorization_code": code}),
        )
        .await;
    assert_eq!(auth["errcode"], 0, "{auth}");
    assert_eq!(auth["authorization_info"]["authorizer_appid"], new_appid.as_str());
    let state = sim.look("/__sim/state").await;
    assert_eq!(state["official_accounts"][OA]["registrations_this_month"], 1);
    assert_eq!(state["mini_programs"][&new_appid]["fast_registered"], true);
    // Ids and tokens made now do not repeat the first process's.
    let other = sim.token(MP_CONFIGURED).await;
    let r = sim.api("/wxa/setnickname", &other, json!({"nick_name": "示例计算器二"})).await;
    assert_eq!(r["audit_id"].as_i64(), Some(audit_id + 1), "{r}");
    let again = sim.token(MP).await;
    assert!(before["access_tokens"].get(&again).is_none() && again != at);
    sim.handle.shutdown().await;

    // The call log is the process's own.
    let sim = Sim::with(fast_fixture(), with_state(&path)).await;
    assert_eq!(sim.look("/__sim/calls").await.as_array().map(Vec::len), Some(0));
    let code_again = json!({"component_appid": COMPONENT, "authorization_code": code});
    assert_eq!(sim.component("/cgi-bin/component/api_query_auth", &ct, code_again).await["errcode"], 61009);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn token_expiry_is_wall_clock_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.json");
    let sim = Sim::with(Fixture::example(), with_state(&path)).await;
    let forced = sim.token(MP).await;
    sim.control("/__sim/expire", json!({"appid": MP})).await;
    let hour_old = sim.token(MP).await;
    let lapsed = sim.token(MP_CONFIGURED).await;
    sim.handle.shutdown().await;

    // Pretend both tokens were issued long ago by that process.
    let mut st = read_state(&path);
    let now = super::state::now_ms();
    st["access_tokens"][&hour_old]["issued_ms"] = json!(now - 3_600_000);
    st["access_tokens"][&hour_old]["expires_ms"] = json!(now + 3_600_000);
    st["access_tokens"][&lapsed]["issued_ms"] = json!(now - 7_201_000);
    st["access_tokens"][&lapsed]["expires_ms"] = json!(now - 1_000);
    std::fs::write(&path, serde_json::to_vec(&st).unwrap()).unwrap();

    let sim = Sim::with(Fixture::example(), with_state(&path)).await;
    let basic = "/cgi-bin/account/getaccountbasicinfo";
    assert_eq!(sim.get(basic, &forced).await["errcode"], 42001);
    assert_eq!(sim.get(basic, &hour_old).await["errcode"], 0);
    assert_eq!(sim.get(basic, &lapsed).await["errcode"], 42001);
    sim.handle.shutdown().await;
    let after = read_state(&path);
    assert_eq!(after["access_tokens"][&hour_old]["expires_ms"], json!(now + 3_600_000));
}

#[tokio::test]
async fn an_unusable_state_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.sim.json");
    let other_platform = {
        let mut f = Fixture::example();
        f.component.appid = "wxotherplatform01".into();
        f
    };
    let sim = Sim::with(other_platform, with_state(&path)).await;
    sim.handle.shutdown().await;
    let foreign = std::fs::read_to_string(&path).unwrap();
    for text in ["{not json", "", "{\"format\": 1}", "[]", "\u{0}\u{ff}", foreign.as_str()] {
        std::fs::write(&path, text).unwrap();
        let e = start(Fixture::example(), with_state(&path), "127.0.0.1:0".parse().unwrap()).await.err();
        let msg = format!("{:#}", e.expect("an error"));
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("delete it"), "{msg}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "left as it was");
    }
    // A folder that does not exist: found at start.
    let missing = dir.path().join("no/such/folder/sim.json");
    let e = start(Fixture::example(), with_state(&missing), "127.0.0.1:0".parse().unwrap()).await.err();
    assert!(format!("{:#}", e.expect("an error")).contains("no/such/folder"));
}

#[tokio::test]
async fn effect_then_errcode_applies_and_answers_the_errcode() {
    let sim = Sim::start().await;
    let at = sim.token(MP).await;
    let fault = json!({"path": "/cgi-bin/account/modifysignature", "kind": "effect_then_errcode", "errcode": 61058});
    sim.control("/__sim/faults", fault).await;
    let r = sim.api("/cgi-bin/account/modifysignature", &at, json!({"signature": "提供好玩的服务。"})).await;
    assert_eq!(r["errcode"], 61058);
    let info = sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await;
    assert_eq!(info["signature_info"]["signature"], "提供好玩的服务。", "the effect stands");
    let calls = sim.look("/__sim/calls").await;
    let rec = calls.as_array().unwrap().iter().find(|c| c["fault"] == "effect_then_errcode").unwrap();
    assert_eq!((&rec["effect"], &rec["errcode"]), (&json!(true), &json!(61058)));
}

#[tokio::test]
async fn authorizer_info_tells_mini_programs_and_answers_41033_for_accounts_not_created_by_the_platform() {
    let mut fixture = Fixture::example();
    let mut not_ours = fixture.mini_programs[0].clone();
    not_ours.appid = "wx7e570000000a1033".into();
    not_ours.refresh_token = Some("refreshtoken@@@not-ours".into());
    not_ours.not_created_by_platform = true;
    fixture.mini_programs.push(not_ours);
    let sim = Sim::with(fixture, SimOptions::default()).await;
    let ct = sim.component_token().await;
    let info = |appid: &str| json!({"component_appid": COMPONENT, "authorizer_appid": appid});
    let path = "/cgi-bin/component/api_get_authorizer_info";
    let mp = sim.component(path, &ct, info(MP)).await;
    assert_eq!(mp["authorizer_info"]["principal_name"], "杭州示例科技有限公司");
    assert!(mp["authorizer_info"]["MiniProgramInfo"].is_object(), "{mp}");
    assert_eq!(mp["authorization_info"]["authorizer_appid"], MP);
    assert_eq!(mp["authorization_info"]["authorizer_refresh_token"], "refreshtoken@@@mp-fresh-0001");
    let oa = sim.component(path, &ct, info(OA)).await;
    assert_eq!(oa["authorizer_info"]["principal_name"], "杭州示例科技有限公司");
    assert!(oa["authorizer_info"].get("MiniProgramInfo").is_none(), "{oa}");
    assert_eq!(sim.component(path, &ct, info("wx7e570000000a1033")).await["errcode"], 41033);
    assert_eq!(sim.component(path, &ct, info("wx0000000000000404")).await["errcode"], 61003);
    let at = sim.token("wx7e570000000a1033").await;
    assert_eq!(sim.get("/cgi-bin/account/getaccountbasicinfo", &at).await["errcode"], 41033);
    let check = sim.api("/cgi-bin/wxverify/checkwxverifynickname", &at, json!({"nick_name": "示例名称"})).await;
    assert_eq!(check["errcode"], 41033);
    // Re-authorized now: a new refresh token with this second as its auth_time.
    let again = sim.control("/__sim/authorize", json!({"appid": MP})).await;
    let list = sim
        .component(
            "/cgi-bin/component/api_get_authorizer_list",
            &ct,
            json!({"component_appid": COMPONENT, "offset": 0, "count": 500}),
        )
        .await;
    let item = list["list"].as_array().unwrap().iter().find(|i| i["authorizer_appid"] == MP).unwrap().clone();
    assert_eq!(item["auth_time"], again["auth_time"]);
    assert_ne!(item["refresh_token"], "refreshtoken@@@mp-fresh-0001");
}

mod golive;
mod golive_client;
