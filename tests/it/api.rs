//! The typed client against `wxprov sim` over loopback HTTP: each endpoint's request as the
//! simulator received it (method, path, JSON body, multipart field), through the real token
//! chain (component token → authorizer token) and the ledger.

use serde_json::{json, Value};
use wechat_open::api::*;
use wechat_open::secret::Secret;
use wechat_open::{client::DEFAULT_TIMEOUT, tokens::ComponentCreds, Client};
use wxprov::image::Image;
use wxprov::ledger::Ledger;
use wxprov::wechat::Api;

use crate::harness::{assert_no_secret, Sim, Workspace};

const OA: &str = "wx28f759479ea1e090";
const MP_FRESH: &str = "wxe5f52902cf4de896";
const MP_CONFIGURED: &str = "wxdc685123d9554530";

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn api_for(rt: &tokio::runtime::Runtime, sim: &Sim, ws: &Workspace) -> Api {
    let ledger = Ledger::open(&ws.ledger()).unwrap();
    for (appid, refresh) in [
        (OA, "refreshtoken@@@oa-hangzhou-0001"),
        (MP_FRESH, "refreshtoken@@@mp-fresh-0001"),
        (MP_CONFIGURED, "refreshtoken@@@mp-configured-0002"),
    ] {
        rt.block_on(ledger.put_refresh_token(appid, &Secret::new(refresh), "test")).unwrap();
    }
    let creds = ComponentCreds {
        appid: sim.component_appid.clone(),
        secret: Some(Secret::new(&sim.component_secret)),
        verify_ticket: Some(Secret::new(&sim.verify_ticket)),
    };
    let client = Client::new(&sim.url, DEFAULT_TIMEOUT).unwrap();
    Api::new(client, ledger, creds, None, Some("test-run".into()), Default::default())
}

/// The one call the simulator received at `path` (asserting there was exactly one).
fn received(sim: &Sim, path: &str) -> Value {
    let calls = sim.calls_to(path);
    assert_eq!(calls.len(), 1, "calls to {path}: {calls:#?}");
    calls.into_iter().next().unwrap()
}

#[test]
fn every_endpoint_sends_what_the_documents_say() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = Sim::start();
    let ws = Workspace::new();
    let api = api_for(&rt, &sim, &ws);
    let recv = |path: &str| received(&sim, path);

    // Token chain.
    let info = rt.block_on(api.call(MP_CONFIGURED, &GetAccountBasicInfo)).unwrap();
    assert_eq!(info.current_nickname(), Some("示例计算器"));
    let c = recv("/cgi-bin/component/api_component_token");
    assert_eq!(c["method"], "POST");
    assert_eq!(c["body"]["component_appid"], sim.component_appid.as_str());
    assert_eq!(c["body"]["component_appsecret"], "***", "the sim redacts; the field was sent");
    let c = recv("/cgi-bin/component/api_authorizer_token");
    assert_eq!(c["body"]["authorizer_appid"], MP_CONFIGURED);
    assert_eq!(c["body"]["authorizer_refresh_token"], "***");
    let c = recv("/cgi-bin/account/getaccountbasicinfo");
    assert_eq!((c["method"].as_str(), c["appid"].as_str()), (Some("GET"), Some(MP_CONFIGURED)));

    // Media: multipart field `media` with a file name and content type.
    let image = Image::from_bytes("logo.png", PNG.to_vec()).unwrap();
    let media = rt.block_on(api.media_id(MP_FRESH, &image)).unwrap();
    let c = recv("/cgi-bin/media/upload");
    assert_eq!(c["method"], "POST");
    assert_eq!(c["body"]["type"], "image");
    let field = &c["body"]["fields"]["media"];
    assert_eq!(field["filename"], "logo.png");
    assert_eq!(field["content_type"], "image/png");
    assert_eq!(field["size"], PNG.len());
    assert_eq!(field["sha256"], image.sha256.as_str());
    // A second request for the same bytes and appid reuses the upload.
    assert_eq!(rt.block_on(api.media_id(MP_FRESH, &image)).unwrap(), media);
    recv("/cgi-bin/media/upload");

    // Nickname.
    let check = rt.block_on(api.call(MP_FRESH, &CheckWxVerifyNickname { nick_name: "中国示例工具".into() })).unwrap();
    assert!(check.hit_condition, "a hit word gives hit_condition");
    assert_eq!(recv("/cgi-bin/wxverify/checkwxverifynickname")["body"], json!({"nick_name": "中国示例工具"}));
    let set = SetNickname { nick_name: "中国示例工具".into(), license: media.clone(), ..Default::default() }
        .with_materials(std::slice::from_ref(&media));
    let audit = rt.block_on(api.call(MP_FRESH, &set)).unwrap();
    assert!(audit.audit_id > 0);
    assert_eq!(
        recv("/wxa/setnickname")["body"],
        json!({"nick_name": "中国示例工具", "license": media, "naming_other_stuff_1": media})
    );
    let state = rt.block_on(api.call(MP_FRESH, &QueryNickname { audit_id: audit.audit_id })).unwrap();
    assert!(matches!(state.audit_stat, 1 | 3));
    assert_eq!(recv("/wxa/api_wxa_querynickname")["body"], json!({"audit_id": audit.audit_id}));

    // Avatar and signature.
    let crop = ModifyHeadImage { head_img_media_id: media.clone(), x1: 0.0, y1: 0.0, x2: 0.75, y2: 0.5 };
    rt.block_on(api.call(MP_FRESH, &crop)).unwrap();
    assert_eq!(
        recv("/cgi-bin/account/modifyheadimage")["body"],
        json!({"head_img_media_id": media, "x1": 0.0, "y1": 0.0, "x2": 0.75, "y2": 0.5})
    );
    rt.block_on(api.call(MP_FRESH, &ModifySignature { signature: "提供好玩的服务。".into() })).unwrap();
    assert_eq!(recv("/cgi-bin/account/modifysignature")["body"], json!({"signature": "提供好玩的服务。"}));

    // Categories: GETs, and `certicates` with lower-case key/value.
    let tree = rt.block_on(api.call(MP_FRESH, &GetAllCategories)).unwrap();
    assert!(tree.into_tree().unwrap().iter().any(|c| c.id == 39 && c.sensitive_type == 1));
    assert_eq!(recv("/cgi-bin/wxopen/getallcategories")["method"], "GET");
    let cert = Certificate { key: "《因私出入境中介机构经营许可证》".into(), value: media.clone() };
    let add = AddCategory { categories: vec![CategoryToAdd { first: 8, second: 39, certicates: vec![cert.clone()] }] };
    rt.block_on(api.call(MP_FRESH, &add)).unwrap();
    assert_eq!(
        recv("/cgi-bin/wxopen/addcategory")["body"],
        json!({"categories": [{"first": 8, "second": 39, "certicates": [{"key": cert.key, "value": media}]}]})
    );
    let set = rt.block_on(api.call(MP_FRESH, &GetCategory)).unwrap();
    assert!(set.categories.iter().any(|c| (c.first, c.second) == (8, 39)));
    assert_eq!(recv("/cgi-bin/wxopen/getcategory")["method"], "GET");
    rt.block_on(api.call(MP_CONFIGURED, &DeleteCategory { first: 287, second: 288 })).unwrap();
    assert_eq!(recv("/cgi-bin/wxopen/deletecategory")["body"], json!({"first": 287, "second": 288}));
    // 8/39 was rejected on the configured account: its certificate may be modified.
    let media2 = rt.block_on(api.media_id(MP_CONFIGURED, &image)).unwrap();
    let modify = ModifyCategory {
        first: 8,
        second: 39,
        certicates: vec![Certificate { key: cert.key.clone(), value: media2.clone() }],
    };
    rt.block_on(api.call(MP_CONFIGURED, &modify)).unwrap();
    assert_eq!(
        recv("/cgi-bin/wxopen/modifycategory")["body"],
        json!({"first": 8, "second": 39, "certicates": [{"key": cert.key, "value": media2}]})
    );

    // Admin rebind.
    rt.block_on(api.call(MP_CONFIGURED, &ComponentRebindAdmin { taskid: "b25519093b1e97239eff9d2bfc07e08e".into() }))
        .unwrap();
    assert_eq!(
        recv("/cgi-bin/account/componentrebindadmin")["body"],
        json!({"taskid": "b25519093b1e97239eff9d2bfc07e08e"})
    );

    // Quota.
    let q = rt.block_on(api.call(MP_FRESH, &QuotaGet { cgi_path: "/cgi-bin/account/modifysignature".into() })).unwrap();
    assert_eq!(q.quota.daily_limit, 500);
    assert_eq!(recv("/cgi-bin/openapi/quota/get")["body"], json!({"cgi_path": "/cgi-bin/account/modifysignature"}));

    // Fast registration with the official account's token, then the code exchange.
    let scan = sim.post("/__sim/scan", json!({"official_appid": OA}));
    let ticket = scan["ticket"].as_str().unwrap().to_string();
    let reg = rt.block_on(api.call(OA, &FastRegister { ticket })).unwrap();
    assert!(wechat_open::Appid::parse(&reg.appid).is_ok() && reg.is_wx_verify_succ && reg.is_link_succ);
    let c = recv("/cgi-bin/account/fastregister");
    assert_eq!((c["method"].as_str(), c["appid"].as_str()), (Some("POST"), Some(OA)));
    assert_eq!(c["body"], json!({"ticket": "***"}));
    let exchange = ApiQueryAuth {
        component_appid: sim.component_appid.clone(),
        authorization_code: reg.authorization_code.clone(),
    };
    let auth = rt.block_on(api.call_component(&exchange)).unwrap();
    assert_eq!(auth.authorization_info.authorizer_appid, reg.appid);
    let c = recv("/cgi-bin/component/api_query_auth");
    assert_eq!(c["body"]["component_appid"], sim.component_appid.as_str());
    let page = ApiGetAuthorizerList { component_appid: sim.component_appid.clone(), offset: 0, count: 500 };
    let list = rt.block_on(api.call_component(&page)).unwrap();
    assert!(list.list.iter().any(|i| i.authorizer_appid == reg.appid));
    assert_eq!(
        recv("/cgi-bin/component/api_get_authorizer_list")["body"],
        json!({"component_appid": sim.component_appid, "offset": 0, "count": 500})
    );

    // Every call is in the event log, with no token anywhere outside the token store.
    let secrets = sim.secrets();
    api.calls.flush();
    rt.block_on(api.ledger.flush()).unwrap();
    let logged = ws.query("SELECT count(*) FROM events WHERE run_id = 'test-run'");
    assert_eq!(logged[0][0].parse::<usize>().unwrap(), sim.calls().len());
    assert_no_secret("the ledger outside the token store", &crate::secrets::ledger_dump(&ws), &secrets);
}
