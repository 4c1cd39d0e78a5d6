//! wechat-open's typed go-live client against the simulator: the two are written apart, so
//! this is where a path, a method, a token's key or an answer's shape that one of them got
//! wrong shows up.

use serde_json::json;
use wechat_open::client::{Client, DEFAULT_TIMEOUT};
use wechat_open::golive::audit::{
    AuditItem, GetAuditCategory, GetAuditStatus, GetLatestAuditStatus, QueryQuota, SpeedupAudit, SubmitAudit,
    UndoCodeAudit,
};
use wechat_open::golive::code::{Commit, GetHistoryVersion, GetPage, GetQrcode, GetTemplateList, GetVersionInfo};
use wechat_open::golive::domain::{
    DomainAction, GetEffectiveDomain, GetEffectiveWebviewDomain, ModifyDomain, ModifyWxaServerDomain, ServerDomains,
    SetWebviewDomain,
};
use wechat_open::golive::icp::{GetIcpEntranceInfo, QueryIcpVerifyTask};
use wechat_open::golive::privacy::{
    GetCodePrivacyInfo, GetPrivacySetting, OwnerSetting, PrivacyItem, SetPrivacySetting,
};
use wechat_open::golive::release::Release;
use wechat_open::secret::Secret;

use super::{Sim, MP_CONFIGURED};

#[tokio::test]
async fn the_typed_client_takes_a_mini_program_live_on_the_simulator() {
    let sim = Sim::start().await;
    sim.control("/__sim/golive", json!({"code_audit": {"result": "manual"}})).await;
    let client = Client::new(&sim.handle.url, DEFAULT_TIMEOUT).unwrap();
    let ct = Secret::new(sim.component_token().await);
    let at = Secret::new(sim.token(MP_CONFIGURED).await);
    let at = Some(&at);

    let templates = client.call(Some(&ct), &GetTemplateList::default()).await.unwrap();
    assert_eq!(templates.template_list[0].template_id, 128);
    let server = ModifyWxaServerDomain {
        action: DomainAction::Add,
        wxa_server_domain: "example.cn".into(),
        is_modify_published_together: true,
    };
    assert_eq!(client.call(Some(&ct), &server).await.unwrap().published_wxa_server_domain, "example.cn");

    let domains = ServerDomains {
        requestdomain: vec!["https://api.example.cn".into()],
        uploaddomain: vec!["https://api.example.cn".into()],
        ..ServerDomains::default()
    };
    let set = client.call(at, &ModifyDomain::change(DomainAction::Set, domains)).await.unwrap();
    assert_eq!(set.domains.requestdomain, ["https://api.example.cn"]);
    let got = client.call(at, &ModifyDomain::get()).await.unwrap();
    assert_eq!(got.domains.uploaddomain, ["https://api.example.cn"]);
    let noicp = ServerDomains { requestdomain: vec!["https://noicp.example.cn".into()], ..ServerDomains::default() };
    let refused = client.call(at, &ModifyDomain::change(DomainAction::Add, noicp)).await.unwrap_err();
    assert_eq!(refused.errcode(), Some(85302));
    let web = SetWebviewDomain::change(DomainAction::Set, vec!["https://h5.example.cn".into()]);
    client.call(at, &web).await.unwrap();
    assert_eq!(client.call(at, &SetWebviewDomain::get()).await.unwrap().webviewdomain, ["https://h5.example.cn"]);

    let ext = json!({"extAppid": MP_CONFIGURED, "ext": {"shopId": "S1"}});
    client.call(at, &Commit::new(128, &ext, "2.4.0", "门店版")).await.unwrap();
    assert_eq!(client.call(at, &GetPage::default()).await.unwrap().page_list[0], "pages/home/index");
    let version = client.call(at, &GetVersionInfo::default()).await.unwrap();
    assert_eq!(version.exp_info.unwrap().exp_version, "2.4.0");
    let scanning = client.call(at, &GetCodePrivacyInfo::default()).await.unwrap_err();
    assert_eq!(scanning.errcode(), Some(61039));
    let found = client.call(at, &GetPrivacySetting::default()).await.unwrap();
    assert!(found.code_exist);
    assert_eq!(found.privacy_list, ["PhoneNumber", "Location"]);
    assert!(found.privacy_desc.iter().any(|d| d.privacy_key == "Location" && d.privacy_desc == "位置信息"));
    let owner = OwnerSetting {
        contact_email: "p@example.cn".into(),
        notice_method: "弹窗".into(),
        store_expire_timestamp: "180天".into(),
        ..OwnerSetting::default()
    };
    let items = ["PhoneNumber", "Location"]
        .map(|k| PrivacyItem { privacy_key: k.into(), privacy_text: "完成下单".into() })
        .to_vec();
    client.call(at, &SetPrivacySetting::development(owner, items)).await.unwrap();
    let set = client.call(at, &GetPrivacySetting::default()).await.unwrap();
    assert!(set.unconfigured().is_empty(), "{:?}", set.unconfigured());

    let categories = client.call(at, &GetAuditCategory::default()).await.unwrap();
    let item = AuditItem::new("pages/home/index", "门店 预约", "首页", &categories.category_list[0]);
    let quota = client.call(at, &QueryQuota::default()).await.unwrap();
    assert_eq!((quota.rest, quota.limit), (20, 20));
    let submit = SubmitAudit { item_list: vec![item], version_desc: "测试账号".into(), ..SubmitAudit::default() };
    let auditid = client.call(at, &submit).await.unwrap().auditid;
    let status = client.call(at, &GetAuditStatus { auditid }).await.unwrap();
    assert!(status.state().is_pending());
    client.call(at, &SpeedupAudit { auditid }).await.unwrap();
    client.call(at, &UndoCodeAudit::default()).await.unwrap();
    let again = SubmitAudit { feedback_info: "已撤回重交".into(), ..submit.clone() };
    let auditid = client.call(at, &again).await.unwrap().auditid;
    sim.control(
        "/__sim/code_audit",
        json!({"appid": MP_CONFIGURED, "result": "reject", "reason": "r", "screenshot": "a|b"}),
    )
    .await;
    let latest = client.call(at, &GetLatestAuditStatus::default()).await.unwrap();
    assert_eq!((latest.auditid, latest.audit.screenshots()), (auditid, vec!["a".to_string(), "b".to_string()]));

    let auditid = client.call(at, &submit).await.unwrap().auditid;
    sim.control("/__sim/code_audit", json!({"appid": MP_CONFIGURED, "result": "approve"})).await;
    assert!(!client.call(at, &GetAuditStatus { auditid }).await.unwrap().state().is_pending());
    let icp = client.call(at, &GetIcpEntranceInfo::default()).await.unwrap();
    assert_eq!(icp.info.status, 6);
    let effective = client.call(at, &GetEffectiveDomain::default()).await.unwrap();
    assert_eq!(effective.effective_domain.requestdomain, ["https://api.example.cn"]);
    let web = client.call(at, &GetEffectiveWebviewDomain::default()).await.unwrap();
    assert_eq!(web.effective_webviewdomain, ["https://h5.example.cn"]);
    client.call(at, &Release::default()).await.unwrap();
    let twice = client.call(at, &Release::default()).await.unwrap_err();
    assert_eq!(twice.errcode(), Some(85052));
    let version = client.call(at, &GetVersionInfo::default()).await.unwrap();
    assert_eq!(version.release_info.unwrap().release_version, "2.4.0");
    let history = client.call(at, &GetHistoryVersion::default()).await.unwrap();
    assert_eq!(history.version_list.len(), 1);

    let token = Secret::new(sim.token(MP_CONFIGURED).await);
    let qr = client.trial_qrcode(&token, &GetQrcode::default()).await.unwrap();
    assert_eq!(&qr[..2], &[0xFF, 0xD8]);
    let media = client.upload_audit_media(&token, &super::png(), "p.png", "image/png").await.unwrap();
    assert_eq!(media.kind, "image");
    let guide = client.upload_privacy_ext_file(&token, "隐私指引", "guide.txt").await.unwrap();
    assert!(!guide.ext_file_media_id.is_empty());
    let task = client.call(at, &QueryIcpVerifyTask { task_id: "t".into() }).await.unwrap();
    assert!(task.is_finish);
    sim.handle.shutdown().await;
}
