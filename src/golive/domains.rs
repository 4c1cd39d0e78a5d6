//! The domains a row asks for (DESIGN §9 `server_domains`, `webview_domains`): parsed from a
//! cell or the job's `[golive]`, and checked against WeChat's rules for mini-program domains
//! (golive.md §2) before any call, so a typo is a validation error with its line and column
//! rather than an `invalid_requestdomain` answer after the step has started.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::manifest::Reason;

/// A server-domain type of `modify_domain`, by the name the sheet and the job file use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainType {
    Request,
    Ws,
    Upload,
    Download,
    Udp,
    Tcp,
}

impl DomainType {
    pub const ALL: [DomainType; 6] = [
        DomainType::Request,
        DomainType::Ws,
        DomainType::Upload,
        DomainType::Download,
        DomainType::Udp,
        DomainType::Tcp,
    ];

    /// The name in the sheet and the job file (`request=…`).
    pub fn as_str(self) -> &'static str {
        match self {
            DomainType::Request => "request",
            DomainType::Ws => "ws",
            DomainType::Upload => "upload",
            DomainType::Download => "download",
            DomainType::Udp => "udp",
            DomainType::Tcp => "tcp",
        }
    }

    /// The scheme each of its domains carries (golive.md §2).
    pub fn scheme(self) -> &'static str {
        match self {
            DomainType::Request | DomainType::Upload | DomainType::Download => "https",
            DomainType::Ws => "wss",
            DomainType::Udp => "udp",
            DomainType::Tcp => "tcp",
        }
    }

    fn parse(name: &str) -> Option<DomainType> {
        DomainType::ALL.into_iter().find(|t| t.as_str() == name.trim().to_ascii_lowercase())
    }
}

impl fmt::Display for DomainType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most this many domains of one type (golive.md §2.1).
pub const MAX_PER_TYPE: usize = 200;

/// The server domains a row names: each type it names, set to exactly its list; the types it
/// does not name keep what the mini-program has (DESIGN §9).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerDomains(pub BTreeMap<DomainType, Vec<String>>);

impl ServerDomains {
    /// A cell: `request=https://a.cn,https://b.cn;upload=…;ws=` (`；` and `，` work too; an
    /// empty list clears that type).
    pub fn parse_cell(cell: &str) -> Result<ServerDomains, Reason> {
        let mut map = BTreeMap::new();
        for part in cell.split([';', '；']).map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, list)) = part.split_once(['=', '＝']) else {
                return Err((
                    format!("\"{part}\" is not type=domains (e.g. request=https://api.example.cn)"),
                    format!("“{part}”不是“类型=域名”的形式（例如 request=https://api.example.cn）"),
                ));
            };
            let Some(kind) = DomainType::parse(name) else {
                return Err(unknown_type(name.trim()));
            };
            let domains: Vec<String> =
                list.split([',', '，']).map(str::trim).filter(|d| !d.is_empty()).map(str::to_string).collect();
            if map.insert(kind, domains).is_some() {
                return Err((format!("{kind} is given twice"), format!("{kind} 重复填写")));
            }
        }
        if map.is_empty() {
            return Err(("no domain type given".into(), "没有填写域名类型".into()));
        }
        let domains = ServerDomains(map);
        domains.check()?;
        Ok(domains)
    }

    /// Checks every list against the rules of its type.
    pub fn check(&self) -> Result<(), Reason> {
        for (kind, list) in &self.0 {
            if list.len() > MAX_PER_TYPE {
                return Err((
                    format!("{} {kind} domains; WeChat takes at most {MAX_PER_TYPE}", list.len()),
                    format!("{kind} 域名 {} 个，最多 {MAX_PER_TYPE} 个", list.len()),
                ));
            }
            check_list(list, kind.scheme(), true)?;
        }
        Ok(())
    }

    /// The types named, in [`DomainType::ALL`] order.
    pub fn types(&self) -> impl Iterator<Item = DomainType> + '_ {
        self.0.keys().copied()
    }
}

/// The job file writes `server_domains = { request = [...], ws = [] }`: the same as a cell,
/// with an unknown type refused by name.
impl<'de> Deserialize<'de> for ServerDomains {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: BTreeMap<String, Vec<String>> = BTreeMap::deserialize(deserializer)?;
        let mut map = BTreeMap::new();
        for (name, list) in raw {
            let kind = DomainType::parse(&name).ok_or_else(|| serde::de::Error::custom(unknown_type(&name).0))?;
            map.insert(kind, list);
        }
        Ok(ServerDomains(map))
    }
}

fn unknown_type(name: &str) -> Reason {
    let known = DomainType::ALL.map(DomainType::as_str).join(", ");
    (format!("\"{name}\" is not a domain type (one of {known})"), format!("“{name}”不是域名类型（应为 {known} 之一）"))
}

/// A `webview_domains` cell: `,`-separated `https://` URLs without a port.
pub fn parse_webview_cell(cell: &str) -> Result<Vec<String>, Reason> {
    let list: Vec<String> =
        cell.split([',', '，', ';', '；']).map(str::trim).filter(|d| !d.is_empty()).map(str::to_string).collect();
    check_webview(&list)?;
    Ok(list)
}

/// Business domains: `https://`, no port (golive.md §2.3).
pub fn check_webview(list: &[String]) -> Result<(), Reason> {
    check_list(list, "https", false)
}

/// Every domain of `list` is `scheme://host[:port]` (a port only where `ports`), with a host
/// name (not an IP address, not `api.weixin.qq.com`) and nothing after it; no domain twice.
fn check_list(list: &[String], scheme: &str, ports: bool) -> Result<(), Reason> {
    for (i, domain) in list.iter().enumerate() {
        check_domain(domain, scheme, ports)?;
        if list[..i].iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return Err((format!("{domain} is given twice"), format!("{domain} 重复填写")));
        }
    }
    Ok(())
}

fn check_domain(domain: &str, scheme: &str, ports: bool) -> Result<(), Reason> {
    let bad = |en: &str, zh: &str| Err((format!("\"{domain}\" {en}"), format!("“{domain}”{zh}")));
    let Some(rest) = domain.strip_prefix(scheme).and_then(|r| r.strip_prefix("://")) else {
        return bad(&format!("must start with {scheme}://"), &format!("应以 {scheme}:// 开头"));
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    if let Some(port) = port {
        if !ports {
            return bad("may not have a port", "不能带端口");
        }
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return bad("has a port that is not a number from 1 to 65535", "的端口不是 1 到 65535 的数字");
        }
    }
    if host.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return bad("must be a host name only, with no path", "只能是域名，不能带路径");
    }
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return bad("is an IP address; WeChat takes host names only", "是 IP 地址，微信只接受域名");
    }
    let labels_ok = host.split('.').count() >= 2
        && host.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        });
    if !labels_ok {
        return bad("is not a host name", "不是有效的域名");
    }
    if host.eq_ignore_ascii_case("api.weixin.qq.com") {
        return bad(
            "may not be configured (WeChat refuses api.weixin.qq.com)",
            "不能配置（微信不允许 api.weixin.qq.com）",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_names_types_and_their_lists() {
        let d = ServerDomains::parse_cell("request=https://a.cn, https://b.cn；upload=https://a.cn:8443;ws=").unwrap();
        assert_eq!(d.types().collect::<Vec<_>>(), [DomainType::Request, DomainType::Ws, DomainType::Upload]);
        assert_eq!(d.0[&DomainType::Request], ["https://a.cn", "https://b.cn"]);
        assert_eq!(d.0[&DomainType::Upload], ["https://a.cn:8443"]);
        assert!(d.0[&DomainType::Ws].is_empty(), "an empty list clears the type");
    }

    #[test]
    fn each_rule_has_its_reason() {
        let reason = |cell: &str| ServerDomains::parse_cell(cell).unwrap_err().0;
        assert_eq!(reason("request=http://a.cn"), "\"http://a.cn\" must start with https://");
        assert_eq!(reason("ws=https://a.cn"), "\"https://a.cn\" must start with wss://");
        assert_eq!(
            reason("request=https://1.2.3.4"),
            "\"https://1.2.3.4\" is an IP address; WeChat takes host names only"
        );
        assert_eq!(reason("request=https://a.cn/api"), "\"https://a.cn/api\" must be a host name only, with no path");
        assert_eq!(reason("request=https://a.cn,https://A.cn"), "https://A.cn is given twice");
        assert_eq!(
            reason("socket=wss://a.cn"),
            "\"socket\" is not a domain type (one of request, ws, upload, download, udp, tcp)"
        );
        assert_eq!(reason("request=https://a.cn;request=https://b.cn"), "request is given twice");
        assert_eq!(
            reason("https://a.cn"),
            "\"https://a.cn\" is not type=domains (e.g. request=https://api.example.cn)"
        );
        assert_eq!(
            reason("request=https://api.weixin.qq.com"),
            "\"https://api.weixin.qq.com\" may not be configured (WeChat refuses api.weixin.qq.com)"
        );
        assert_eq!(
            reason("request=https://a.cn:0"),
            "\"https://a.cn:0\" has a port that is not a number from 1 to 65535"
        );
        assert_eq!(reason("request=https://localhost"), "\"https://localhost\" is not a host name");
    }

    #[test]
    fn business_domains_take_no_port() {
        assert_eq!(
            parse_webview_cell("https://h5.a.cn，https://m.a.cn").unwrap(),
            ["https://h5.a.cn", "https://m.a.cn"]
        );
        assert_eq!(
            parse_webview_cell("https://h5.a.cn:8443").unwrap_err().0,
            "\"https://h5.a.cn:8443\" may not have a port"
        );
    }

    #[test]
    fn the_job_file_form_refuses_an_unknown_type() {
        let d: ServerDomains =
            toml::from_str::<BTreeMap<String, ServerDomains>>("d = { request = [\"https://a.cn\"], ws = [] }")
                .unwrap()
                .remove("d")
                .unwrap();
        assert_eq!(d.types().collect::<Vec<_>>(), [DomainType::Request, DomainType::Ws]);
        let err = toml::from_str::<BTreeMap<String, ServerDomains>>("d = { socket = [] }").unwrap_err();
        assert!(err.to_string().contains("\"socket\" is not a domain type"), "{err}");
    }
}
