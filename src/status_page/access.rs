//! Who the status page answers: requests that name it by the address it listens on (the
//! `Host` header: a page on another site that makes a name of its own resolve to this
//! machine — DNS rebinding — is refused), and, when `WXPROV_STATUS_TOKEN` is set, carry it
//! as the password of HTTP Basic auth (any user name).

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use wechat_open::secret::Secret;

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its `Host` is not this page's (421).
    Host,
    /// The token is required and was not given, or not right (401).
    Auth,
}

/// The checks, set up once for the listener.
pub struct Access {
    addr: SocketAddr,
    /// SHA-256 of the token: compared in constant time, and of one length whatever the
    /// token's.
    token: Option<[u8; 32]>,
}

impl Access {
    pub fn new(addr: SocketAddr, token: Option<Secret>) -> Access {
        Access { addr, token: token.map(|t| digest(t.expose().as_bytes())) }
    }

    /// The `Host` first (a wrong one is refused whatever the credentials), then the token.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refused> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).ok_or(Refused::Host)?;
        if !self.host_is_mine(host) {
            return Err(Refused::Host);
        }
        let Some(want) = &self.token else { return Ok(()) };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(basic_password)
            .ok_or(Refused::Auth)?;
        match bool::from(digest(given.as_bytes()).ct_eq(want)) {
            true => Ok(()),
            false => Err(Refused::Auth),
        }
    }

    /// The listen address itself (`127.0.0.1:8081`, `[::1]:8081`); `localhost` on loopback;
    /// listening on every address (`0.0.0.0`, `::`), any IP address of this machine — an IP
    /// literal is no name another site can make resolve here. The port must be the page's.
    fn host_is_mine(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<axum::http::uri::Authority>() else { return false };
        if authority.port_u16().unwrap_or(80) != self.addr.port() {
            return false;
        }
        let name = authority.host();
        let ip = self.addr.ip();
        if name.eq_ignore_ascii_case("localhost") {
            return ip.is_loopback() || ip.is_unspecified();
        }
        match name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(given) => given == ip || ip.is_unspecified(),
            Err(_) => false,
        }
    }
}

/// The password of an `Authorization: Basic …` header.
fn basic_password(value: &str) -> Option<String> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_user, password) = text.split_once(':')?;
    Some(password.to_string())
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: Option<&str>, auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(host) = host {
            h.insert(header::HOST, host.parse().unwrap());
        }
        if let Some(auth) = auth {
            h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        }
        h
    }

    fn basic(user_password: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
    }

    #[test]
    fn only_the_hosts_it_listens_as() {
        let loopback = Access::new("127.0.0.1:8081".parse().unwrap(), None);
        for ok in ["127.0.0.1:8081", "localhost:8081", "LOCALHOST:8081"] {
            assert_eq!(loopback.check(&headers(Some(ok), None)), Ok(()), "{ok}");
        }
        for bad in ["127.0.0.1:8082", "evil.example:8081", "127.0.0.2:8081", "127.0.0.1", "", "[::1]:8081"] {
            let h = if bad.is_empty() { headers(None, None) } else { headers(Some(bad), None) };
            assert_eq!(loopback.check(&h), Err(Refused::Host), "{bad}");
        }
        let v6 = Access::new("[::1]:9000".parse().unwrap(), None);
        assert_eq!(v6.check(&headers(Some("[::1]:9000"), None)), Ok(()));
        let any = Access::new("0.0.0.0:8081".parse().unwrap(), None);
        assert_eq!(any.check(&headers(Some("10.1.2.3:8081"), None)), Ok(()));
        assert_eq!(any.check(&headers(Some("rebound.example:8081"), None)), Err(Refused::Host));
        let on_80 = Access::new("10.0.0.5:80".parse().unwrap(), None);
        assert_eq!(on_80.check(&headers(Some("10.0.0.5"), None)), Ok(()));
    }

    #[test]
    fn the_token_by_basic_auth() {
        let access = Access::new("0.0.0.0:8081".parse().unwrap(), Some(Secret::new("s3cret-token")));
        let host = Some("10.0.0.5:8081");
        assert_eq!(access.check(&headers(host, None)), Err(Refused::Auth));
        assert_eq!(access.check(&headers(host, Some(&basic("ops:s3cret-token")))), Ok(()));
        assert_eq!(access.check(&headers(host, Some(&basic(":s3cret-token")))), Ok(()), "any user name");
        assert_eq!(access.check(&headers(host, Some(&basic("ops:s3cret-toke")))), Err(Refused::Auth));
        assert_eq!(access.check(&headers(host, Some(&basic("s3cret-token")))), Err(Refused::Auth), "no colon");
        assert_eq!(access.check(&headers(host, Some("Bearer s3cret-token"))), Err(Refused::Auth));
        assert_eq!(access.check(&headers(host, Some("Basic !!!"))), Err(Refused::Auth));
        // A wrong Host is refused before the credentials are looked at.
        assert_eq!(
            access.check(&headers(Some("evil.example:8081"), Some(&basic("a:s3cret-token")))),
            Err(Refused::Host)
        );
    }
}
