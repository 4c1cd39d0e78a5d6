//! The two mp.weixin.qq.com links ops staff send to merchants: `fastregisterauth` (an
//! official account's admin scans to lend its qualification) and `componentrebindadmin`
//! (a mini-program's admin hands over to a new one). WeChat requires `redirect_uri` to be
//! urlencoded and its host to match the platform's registered domain.

use url::form_urlencoded::byte_serialize;

/// Where the links point.
const MP_BASE: &str = "https://mp.weixin.qq.com";

fn enc(s: &str) -> String {
    byte_serialize(s.as_bytes()).collect()
}

/// The `fastregisterauth` link for an official account.
pub fn fastregister_auth(
    component_appid: &str,
    official_appid: &str,
    copy_wx_verify: bool,
    redirect_uri: &str,
) -> String {
    format!(
        "{MP_BASE}/cgi-bin/fastregisterauth?appid={}&component_appid={}&copy_wx_verify={}&redirect_uri={}",
        enc(official_appid),
        enc(component_appid),
        u8::from(copy_wx_verify),
        enc(redirect_uri)
    )
}

/// The `componentrebindadmin` link for a mini-program.
pub fn rebind_admin(component_appid: &str, appid: &str, redirect_uri: &str) -> String {
    format!(
        "{MP_BASE}/wxopen/componentrebindadmin?appid={}&component_appid={}&redirect_uri={}",
        enc(appid),
        enc(component_appid),
        enc(redirect_uri)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastregister_link_matches_the_documented_example() {
        // fastregister-and-settings.md §1.1, with upper-case percent escapes.
        let link = fastregister_auth(
            "wx666666666666123",
            "wx28f759479ea1e090",
            true,
            "https://www.qq.com/auth/callback?from=mp",
        );
        assert_eq!(
            link,
            "https://mp.weixin.qq.com/cgi-bin/fastregisterauth?appid=wx28f759479ea1e090&component_appid=wx666666666666123\
             &copy_wx_verify=1&redirect_uri=https%3A%2F%2Fwww.qq.com%2Fauth%2Fcallback%3Ffrom%3Dmp"
        );
    }

    #[test]
    fn rebind_link_encodes_the_redirect() {
        let link = rebind_admin(
            "wx666666666666123",
            "wx28f759479ea1e090",
            "https://ops.example.com/callback/rebind?appid=wx28f759479ea1e090",
        );
        assert!(link.starts_with("https://mp.weixin.qq.com/wxopen/componentrebindadmin?appid=wx28f759479ea1e090&component_appid=wx666666666666123&redirect_uri="));
        assert!(link.ends_with("https%3A%2F%2Fops.example.com%2Fcallback%2Frebind%3Fappid%3Dwx28f759479ea1e090"));
        let redirect =
            url::Url::parse(&link).unwrap().query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
        assert_eq!(redirect, "https://ops.example.com/callback/rebind?appid=wx28f759479ea1e090");
    }
}
