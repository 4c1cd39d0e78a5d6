//! Domains (`golive.md` §2): the server domains (`request`, `ws`, `upload`, `download`,
//! `udp`, `tcp`) and the business (`web-view`) domains of a mini-program, by either method —
//! method one through the platform's own lists ([`ModifyDomain`], [`SetWebviewDomain`]),
//! method two directly ([`ModifyDomainDirectly`], [`SetWebviewDomainDirectly`] with its
//! confirm file) — what the next release will apply ([`GetEffectiveDomain`],
//! [`GetEffectiveWebviewDomain`]), and the platform's own lists (component token).
//!
//! A `set` replaces every type it sends, so [`ModifyDomain::change`] always sends the six
//! lists (an empty one as `[]`, as WxJava does): the caller reads with `get`, keeps the types
//! it does not change, and sends them all. The answers' `invalid_*` and `no_icp_domain` come
//! even with errcode 0 (a partial success, `golive.md` §2.1, as developers report); WxJava reads only four
//! of the `invalid_*` lists, PowerWeChat all of them; [`DomainsSet::refused`] reads them all.

use serde::{Deserialize, Serialize};

use crate::api::endpoint;
use crate::lenient::{string_any, vec_any};

/// What a domain call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainAction {
    /// Adds the domains given.
    Add,
    /// Removes the domains given.
    Delete,
    /// Replaces the lists with the ones given.
    Set,
    /// Reads the lists; nothing else is sent.
    Get,
}

/// The six server-domain lists of a mini-program, each with its scheme (`https://`, `wss://`,
/// `udp://`, `tcp://`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerDomains {
    /// `wx.request` domains (`https://`).
    #[serde(default, deserialize_with = "vec_any")]
    pub requestdomain: Vec<String>,
    /// Socket domains (`wss://`).
    #[serde(default, deserialize_with = "vec_any")]
    pub wsrequestdomain: Vec<String>,
    /// `uploadFile` domains (`https://`).
    #[serde(default, deserialize_with = "vec_any")]
    pub uploaddomain: Vec<String>,
    /// `downloadFile` domains (`https://`).
    #[serde(default, deserialize_with = "vec_any")]
    pub downloaddomain: Vec<String>,
    /// UDP domains (`udp://`).
    #[serde(default, deserialize_with = "vec_any")]
    pub udpdomain: Vec<String>,
    /// TCP domains (`tcp://`).
    #[serde(default, deserialize_with = "vec_any")]
    pub tcpdomain: Vec<String>,
}

/// `POST /wxa/modify_domain` (method one): the server domains, which must be on the
/// platform's own list. Build it with [`ModifyDomain::get`] or [`ModifyDomain::change`].
#[derive(Debug, Clone, Serialize)]
pub struct ModifyDomain {
    /// What to do.
    pub action: DomainAction,
    /// The lists, sent with every action but `get` (all six, empty ones as `[]`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub domains: Option<ServerDomains>,
}

impl ModifyDomain {
    /// Reads the lists: `{"action":"get"}`.
    pub fn get() -> ModifyDomain {
        ModifyDomain { action: DomainAction::Get, domains: None }
    }

    /// Adds, deletes or sets (`action`) the lists given, all six sent. With
    /// [`DomainAction::Get`] the lists are not sent.
    pub fn change(action: DomainAction, domains: ServerDomains) -> ModifyDomain {
        let domains = (action != DomainAction::Get).then_some(domains);
        ModifyDomain { action, domains }
    }
}

/// The answer of `modify_domain` and `modify_domain_directly`: the lists as now configured,
/// and the domains refused.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DomainsSet {
    /// The lists as now configured.
    #[serde(flatten)]
    pub domains: ServerDomains,
    /// Refused `request` domains.
    #[serde(default, deserialize_with = "vec_any")]
    pub invalid_requestdomain: Vec<String>,
    /// Refused socket domains.
    #[serde(default, deserialize_with = "vec_any")]
    pub invalid_wsrequestdomain: Vec<String>,
    /// Refused upload domains.
    #[serde(default, deserialize_with = "vec_any")]
    pub invalid_uploaddomain: Vec<String>,
    /// Refused download domains.
    #[serde(default, deserialize_with = "vec_any")]
    pub invalid_downloaddomain: Vec<String>,
    /// Refused UDP domains.
    #[serde(default, deserialize_with = "vec_any")]
    pub invalid_udpdomain: Vec<String>,
    /// Refused TCP domains.
    #[serde(default, deserialize_with = "vec_any")]
    pub invalid_tcpdomain: Vec<String>,
    /// Domains without an ICP filing.
    #[serde(default, deserialize_with = "vec_any")]
    pub no_icp_domain: Vec<String>,
}

impl DomainsSet {
    /// Every refused domain with the answer's field that names it (`invalid_requestdomain`,
    /// …, `no_icp_domain`), in the answer's order; empty when all were taken.
    pub fn refused(&self) -> Vec<(&'static str, &str)> {
        [
            ("invalid_requestdomain", &self.invalid_requestdomain),
            ("invalid_wsrequestdomain", &self.invalid_wsrequestdomain),
            ("invalid_uploaddomain", &self.invalid_uploaddomain),
            ("invalid_downloaddomain", &self.invalid_downloaddomain),
            ("invalid_udpdomain", &self.invalid_udpdomain),
            ("invalid_tcpdomain", &self.invalid_tcpdomain),
            ("no_icp_domain", &self.no_icp_domain),
        ]
        .into_iter()
        .flat_map(|(field, list)| list.iter().map(move |d| (field, d.as_str())))
        .collect()
    }

    /// The refused domains of an answer's body, `field: domain, domain; field: …`; `None`
    /// when it names none.
    pub fn refused_in(body: &[u8]) -> Option<String> {
        let answer: DomainsSet = serde_json::from_slice(body).ok()?;
        let refused = answer.refused();
        let mut parts: Vec<String> = Vec::new();
        for (field, domain) in refused {
            match parts.last_mut() {
                Some(last) if last.starts_with(&format!("{field}: ")) => {
                    last.push_str(", ");
                    last.push_str(domain);
                }
                _ => parts.push(format!("{field}: {domain}")),
            }
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

endpoint!(
    ModifyDomain,
    "/wxa/modify_domain",
    Post,
    Authorizer,
    true,
    DomainsSet,
    refusal_detail = DomainsSet::refused_in
);

/// `POST /wxa/modify_domain_directly` (method two): the same body and answer as
/// [`ModifyDomain`], without the platform's list.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ModifyDomainDirectly(pub ModifyDomain);
endpoint!(
    ModifyDomainDirectly,
    "/wxa/modify_domain_directly",
    Post,
    Authorizer,
    true,
    DomainsSet,
    refusal_detail = DomainsSet::refused_in
);

/// `POST /wxa/setwebviewdomain` (method one): the business domains for `web-view`
/// (`https://` URLs, no port). Without an action WeChat adds every business domain the
/// platform registered; wxprov always names one.
#[derive(Debug, Clone, Serialize)]
pub struct SetWebviewDomain {
    /// What to do.
    pub action: DomainAction,
    /// The domains, sent with every action but `get`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webviewdomain: Option<Vec<String>>,
}

impl SetWebviewDomain {
    /// Reads the list: `{"action":"get"}`.
    pub fn get() -> SetWebviewDomain {
        SetWebviewDomain { action: DomainAction::Get, webviewdomain: None }
    }

    /// Adds, deletes or sets (`action`) the domains given (not sent with `get`).
    pub fn change(action: DomainAction, domains: Vec<String>) -> SetWebviewDomain {
        SetWebviewDomain { action, webviewdomain: (action != DomainAction::Get).then_some(domains) }
    }
}

/// The answer of `setwebviewdomain` (and its direct form): the list, on `get`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebviewDomains {
    /// The business domains.
    #[serde(default, deserialize_with = "vec_any")]
    pub webviewdomain: Vec<String>,
}
endpoint!(SetWebviewDomain, "/wxa/setwebviewdomain", Post, Authorizer, true, WebviewDomains);

/// `POST /wxa/setwebviewdomain_directly` (method two): the body of [`SetWebviewDomain`]
/// (`action` required); each domain must serve the confirm file first.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SetWebviewDomainDirectly(pub SetWebviewDomain);
endpoint!(SetWebviewDomainDirectly, "/wxa/setwebviewdomain_directly", Post, Authorizer, true, WebviewDomains);

/// `POST /wxa/get_webviewdomain_confirmfile`, body `{}`: the file each business domain
/// serves at its root before [`SetWebviewDomainDirectly`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetWebviewDomainConfirmFile {}

/// A confirm file: served byte for byte at `https://<domain>/<file_name>`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfirmFile {
    /// Its name.
    #[serde(default, deserialize_with = "string_any")]
    pub file_name: String,
    /// Its content.
    #[serde(default, deserialize_with = "string_any")]
    pub file_content: String,
}
endpoint!(GetWebviewDomainConfirmFile, "/wxa/get_webviewdomain_confirmfile", Post, Authorizer, false, ConfirmFile);

/// `POST /wxa/get_effective_domain`, body `{}`: the server domains by source, and what the
/// next release applies (`effective_domain`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetEffectiveDomain {}

/// The answer of `get_effective_domain`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EffectiveDomains {
    /// Set on mp.weixin.qq.com.
    #[serde(default)]
    pub mp_domain: ServerDomains,
    /// Set by the platform (method one).
    #[serde(default)]
    pub third_domain: ServerDomains,
    /// Set directly (method two).
    #[serde(default)]
    pub direct_domain: ServerDomains,
    /// What will be live after the release.
    #[serde(default)]
    pub effective_domain: ServerDomains,
}
endpoint!(GetEffectiveDomain, "/wxa/get_effective_domain", Post, Authorizer, false, EffectiveDomains);

/// `POST /wxa/get_effective_webviewdomain`, body `{}`: the business domains by source, and
/// what the next release applies.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetEffectiveWebviewDomain {}

/// The answer of `get_effective_webviewdomain`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EffectiveWebviewDomains {
    /// Set on mp.weixin.qq.com.
    #[serde(default, deserialize_with = "vec_any")]
    pub mp_webviewdomain: Vec<String>,
    /// Set by the platform (method one).
    #[serde(default, deserialize_with = "vec_any")]
    pub third_webviewdomain: Vec<String>,
    /// Set directly (method two).
    #[serde(default, deserialize_with = "vec_any")]
    pub direct_webviewdomain: Vec<String>,
    /// What will be live after the release.
    #[serde(default, deserialize_with = "vec_any")]
    pub effective_webviewdomain: Vec<String>,
}
endpoint!(
    GetEffectiveWebviewDomain,
    "/wxa/get_effective_webviewdomain",
    Post,
    Authorizer,
    false,
    EffectiveWebviewDomains
);

// ---------------------------------------------------------------- the platform's own lists
//
// The component's token, in the query as `access_token=` (golive.md §2.6; WxJava sends
// `component_access_token=` for these, `access_token=` for its template calls).

/// `POST /cgi-bin/component/modify_wxa_server_domain` (component token): the platform's
/// server domains, bare hosts joined by `;`.
#[derive(Debug, Clone, Serialize)]
pub struct ModifyWxaServerDomain {
    /// What to do.
    pub action: DomainAction,
    /// Bare hosts joined by `;` (not sent with `get`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wxa_server_domain: String,
    /// True: the published list too, not only the test one.
    pub is_modify_published_together: bool,
}

/// The answer of `modify_wxa_server_domain`: `;`-joined hosts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WxaServerDomains {
    /// The published list.
    #[serde(default, deserialize_with = "string_any")]
    pub published_wxa_server_domain: String,
    /// The test list.
    #[serde(default, deserialize_with = "string_any")]
    pub testing_wxa_server_domain: String,
    /// Refused hosts.
    #[serde(default, deserialize_with = "string_any")]
    pub invalid_wxa_server_domain: String,
}
endpoint!(
    ModifyWxaServerDomain,
    "/cgi-bin/component/modify_wxa_server_domain",
    Post,
    Component,
    true,
    WxaServerDomains,
    token_key = "access_token"
);

/// `POST /cgi-bin/component/get_domain_confirmfile` (component token), body `{}`: the file
/// each business domain serves before the platform registers it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetDomainConfirmFile {}
endpoint!(
    GetDomainConfirmFile,
    "/cgi-bin/component/get_domain_confirmfile",
    Post,
    Component,
    false,
    ConfirmFile,
    token_key = "access_token"
);

/// `POST /cgi-bin/component/modify_wxa_jump_domain` (component token): the platform's
/// business domains, bare hosts joined by `;`.
#[derive(Debug, Clone, Serialize)]
pub struct ModifyWxaJumpDomain {
    /// What to do.
    pub action: DomainAction,
    /// Bare hosts joined by `;` (not sent with `get`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wxa_jump_h5_domain: String,
    /// True: the published list too, not only the test one.
    pub is_modify_published_together: bool,
}

/// The answer of `modify_wxa_jump_domain`: `;`-joined hosts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WxaJumpDomains {
    /// The published list.
    #[serde(default, deserialize_with = "string_any")]
    pub published_wxa_jump_h5_domain: String,
    /// The test list.
    #[serde(default, deserialize_with = "string_any")]
    pub testing_wxa_jump_h5_domain: String,
    /// Refused hosts.
    #[serde(default, deserialize_with = "string_any")]
    pub invalid_wxa_jump_h5_domain: String,
}
endpoint!(
    ModifyWxaJumpDomain,
    "/cgi-bin/component/modify_wxa_jump_domain",
    Post,
    Component,
    true,
    WxaJumpDomains,
    token_key = "access_token"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golive::loopback::exchange;

    fn https(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn modify_domain_get_sends_the_action_alone() {
        let (answer, sent) = exchange(
            &ModifyDomain::get(),
            r#"{"errcode":0,"errmsg":"ok","requestdomain":["https://api.example.cn"],"wsrequestdomain":[],
               "uploaddomain":[],"downloaddomain":["https://cdn.example.cn"],"udpdomain":[],"tcpdomain":[]}"#,
        )
        .await;
        sent.is("POST", "/wxa/modify_domain?access_token=TOKEN", r#"{"action":"get"}"#);
        let answer = answer.unwrap();
        assert_eq!(answer.domains.requestdomain, ["https://api.example.cn"]);
        assert_eq!(answer.domains.downloaddomain, ["https://cdn.example.cn"]);
        assert!(answer.refused().is_empty());
    }

    /// A set sends all six lists, empty ones as `[]`; the documented answer, and a partial
    /// success (errcode 0 with `invalid_*` and `no_icp_domain`, the live way) read whole.
    #[tokio::test]
    async fn modify_domain_set_sends_all_six_and_reads_what_was_refused() {
        let domains = ServerDomains {
            requestdomain: https(&["https://api.example.cn"]),
            wsrequestdomain: https(&["wss://ws.example.cn"]),
            ..Default::default()
        };
        let (answer, sent) = exchange(
            &ModifyDomain::change(DomainAction::Set, domains.clone()),
            r#"{"errcode":0,"errmsg":"ok","requestdomain":["https://api.example.cn"],"wsrequestdomain":[],
               "invalid_requestdomain":[],"invalid_wsrequestdomain":["wss://https://ws.example.cn"],
               "invalid_udpdomain":["udp://u.example.cn"],"no_icp_domain":["https://noicp.example.cn"]}"#,
        )
        .await;
        sent.is(
            "POST",
            "/wxa/modify_domain?access_token=TOKEN",
            r#"{"action":"set","requestdomain":["https://api.example.cn"],"wsrequestdomain":["wss://ws.example.cn"],"uploaddomain":[],"downloaddomain":[],"udpdomain":[],"tcpdomain":[]}"#,
        );
        let answer = answer.unwrap();
        assert_eq!(
            answer.refused(),
            [
                ("invalid_wsrequestdomain", "wss://https://ws.example.cn"),
                ("invalid_udpdomain", "udp://u.example.cn"),
                ("no_icp_domain", "https://noicp.example.cn"),
            ]
        );
        // Lists missing or null are empty.
        let sparse: DomainsSet = serde_json::from_str(r#"{"errcode":0,"requestdomain":null}"#).unwrap();
        assert!(sparse.domains == ServerDomains::default() && sparse.refused().is_empty());
        assert!(ModifyDomain::change(DomainAction::Get, domains).domains.is_none());
    }

    /// 85301–85303 refuse the whole set and name the domains in the body: the error's message
    /// carries them.
    #[tokio::test]
    async fn a_refused_set_names_its_domains_in_the_error() {
        let (answer, _) = exchange(
            &ModifyDomain::change(DomainAction::Set, ServerDomains::default()),
            r#"{"errcode":85303,"errmsg":"no change","requestdomain":[],"invalid_requestdomain":["https://1.2.3.4","https://a.cn/x"],
               "no_icp_domain":["https://noicp.example.cn"]}"#,
        )
        .await;
        match answer.unwrap_err() {
            crate::ApiError::WeChat { code: 85303, message, .. } => assert_eq!(
                message,
                "no change (invalid_requestdomain: https://1.2.3.4, https://a.cn/x; no_icp_domain: https://noicp.example.cn)"
            ),
            other => panic!("{other:?}"),
        }
        let (answer, _) = exchange(&ModifyDomain::get(), r#"{"errcode":85018,"errmsg":"not on the list"}"#).await;
        assert!(
            matches!(answer.unwrap_err(), crate::ApiError::WeChat { code: 85018, message, .. } if message == "not on the list")
        );
    }

    #[tokio::test]
    async fn modify_domain_directly_has_the_same_body() {
        let add = ModifyDomain::change(
            DomainAction::Add,
            ServerDomains { uploaddomain: https(&["https://u.cn"]), ..Default::default() },
        );
        let (answer, sent) = exchange(&ModifyDomainDirectly(add), r#"{"errcode":0,"errmsg":"ok"}"#).await;
        answer.unwrap();
        assert_eq!(
            (sent.method.as_str(), sent.target.as_str()),
            ("POST", "/wxa/modify_domain_directly?access_token=TOKEN")
        );
        assert_eq!(
            sent.json(),
            serde_json::json!({"action":"add","requestdomain":[],"wsrequestdomain":[],"uploaddomain":["https://u.cn"],
                               "downloaddomain":[],"udpdomain":[],"tcpdomain":[]})
        );
        // Its refusals name their domains in the error as method one's do.
        let (answer, _) = exchange(
            &ModifyDomainDirectly(ModifyDomain::change(DomainAction::Set, ServerDomains::default())),
            r#"{"errcode":85301,"errmsg":"invalid domain","invalid_uploaddomain":["https://u.cn"]}"#,
        )
        .await;
        match answer.unwrap_err() {
            crate::ApiError::WeChat { code: 85301, message, .. } => {
                assert_eq!(message, "invalid domain (invalid_uploaddomain: https://u.cn)")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn setwebviewdomain_get_and_set() {
        let (answer, sent) = exchange(
            &SetWebviewDomain::get(),
            r#"{"errcode":0,"errmsg":"ok","webviewdomain":["https://h5.example.cn"]}"#,
        )
        .await;
        sent.is("POST", "/wxa/setwebviewdomain?access_token=TOKEN", r#"{"action":"get"}"#);
        assert_eq!(answer.unwrap().webviewdomain, ["https://h5.example.cn"]);
        let set = SetWebviewDomain::change(DomainAction::Set, https(&["https://h5.example.cn"]));
        let (answer, sent) = exchange(&set, r#"{"errcode":0,"errmsg":"ok"}"#).await;
        sent.is(
            "POST",
            "/wxa/setwebviewdomain?access_token=TOKEN",
            r#"{"action":"set","webviewdomain":["https://h5.example.cn"]}"#,
        );
        assert!(answer.unwrap().webviewdomain.is_empty());
        // 89019 (nothing to change) is the catalogue's done.
        let (answer, _) = exchange(&set, r#"{"errcode":89019,"errmsg":"webview domain not change"}"#).await;
        assert_eq!(answer.unwrap_err().class(), crate::errcode::ErrClass::Done);
    }

    #[tokio::test]
    async fn the_direct_business_domains_and_their_confirm_file() {
        let (answer, sent) = exchange(
            &GetWebviewDomainConfirmFile {},
            r#"{"errcode":0,"errmsg":"ok","file_name":"abc.txt","file_content":"e5f2"}"#,
        )
        .await;
        sent.is("POST", "/wxa/get_webviewdomain_confirmfile?access_token=TOKEN", "{}");
        let file = answer.unwrap();
        assert_eq!((file.file_name.as_str(), file.file_content.as_str()), ("abc.txt", "e5f2"));
        let set =
            SetWebviewDomainDirectly(SetWebviewDomain::change(DomainAction::Add, https(&["https://h5.example.cn"])));
        let (answer, sent) =
            exchange(&set, r#"{"errcode":0,"errmsg":"ok","webviewdomain":["https://h5.example.cn"]}"#).await;
        sent.is(
            "POST",
            "/wxa/setwebviewdomain_directly?access_token=TOKEN",
            r#"{"action":"add","webviewdomain":["https://h5.example.cn"]}"#,
        );
        assert_eq!(answer.unwrap().webviewdomain.len(), 1);
    }

    #[tokio::test]
    async fn effective_domains() {
        let (answer, sent) = exchange(
            &GetEffectiveDomain {},
            r#"{"errcode":0,"errmsg":"ok","mp_domain":{"requestdomain":["https://mp.cn"]},"third_domain":{},
               "direct_domain":{"requestdomain":[]},"effective_domain":{"requestdomain":["https://mp.cn"],"tcpdomain":["tcp://t.cn"]}}"#,
        )
        .await;
        sent.is("POST", "/wxa/get_effective_domain?access_token=TOKEN", "{}");
        let answer = answer.unwrap();
        assert_eq!(answer.mp_domain.requestdomain, ["https://mp.cn"]);
        assert_eq!(answer.effective_domain.tcpdomain, ["tcp://t.cn"]);
        let (answer, sent) = exchange(
            &GetEffectiveWebviewDomain {},
            r#"{"errcode":0,"errmsg":"ok","mp_webviewdomain":[],"third_webviewdomain":["https://h5.cn"],"effective_webviewdomain":["https://h5.cn"]}"#,
        )
        .await;
        sent.is("POST", "/wxa/get_effective_webviewdomain?access_token=TOKEN", "{}");
        let answer = answer.unwrap();
        assert_eq!(answer.effective_webviewdomain, ["https://h5.cn"]);
        assert!(answer.direct_webviewdomain.is_empty());
    }

    #[tokio::test]
    async fn the_platforms_own_lists_take_the_component_token_as_access_token() {
        let req = ModifyWxaServerDomain {
            action: DomainAction::Add,
            wxa_server_domain: "api.example.cn;cdn.example.cn".into(),
            is_modify_published_together: true,
        };
        let (answer, sent) = exchange(
            &req,
            r#"{"errcode":0,"errmsg":"ok","published_wxa_server_domain":"api.example.cn;cdn.example.cn","testing_wxa_server_domain":"api.example.cn","invalid_wxa_server_domain":""}"#,
        )
        .await;
        sent.is(
            "POST",
            "/cgi-bin/component/modify_wxa_server_domain?access_token=TOKEN",
            r#"{"action":"add","wxa_server_domain":"api.example.cn;cdn.example.cn","is_modify_published_together":true}"#,
        );
        assert_eq!(answer.unwrap().published_wxa_server_domain, "api.example.cn;cdn.example.cn");
        let get = ModifyWxaJumpDomain {
            action: DomainAction::Get,
            wxa_jump_h5_domain: String::new(),
            is_modify_published_together: false,
        };
        let (answer, sent) =
            exchange(&get, r#"{"errcode":0,"errmsg":"ok","testing_wxa_jump_h5_domain":"h5.example.cn"}"#).await;
        sent.is(
            "POST",
            "/cgi-bin/component/modify_wxa_jump_domain?access_token=TOKEN",
            r#"{"action":"get","is_modify_published_together":false}"#,
        );
        assert_eq!(answer.unwrap().testing_wxa_jump_h5_domain, "h5.example.cn");
        let (answer, sent) =
            exchange(&GetDomainConfirmFile {}, r#"{"errcode":0,"file_name":"f.txt","file_content":"c"}"#).await;
        sent.is("POST", "/cgi-bin/component/get_domain_confirmfile?access_token=TOKEN", "{}");
        assert_eq!(answer.unwrap().file_name, "f.txt");
    }
}
