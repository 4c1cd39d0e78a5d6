//! Who the status page answers: requests that name it by the address it listens on (the
//! `Host` header: a page on another site that makes a name of its own resolve to this
//! machine — DNS rebinding — is refused), and, when `WXPROV_STATUS_TOKEN` is set, carry it
//! as the password of HTTP Basic auth (any user name). An address that sends [`TRIES`] wrong
//! tokens within [`WINDOW`] is refused without a look until that window ends (429 with
//! `Retry-After`), so the token cannot be guessed at the speed of the network.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    /// Its address sent [`TRIES`] wrong tokens in the window that ends in this many
    /// seconds (429): the token is not looked at.
    TooMany { retry_after_secs: u64 },
}

/// Wrong tokens an address may send within [`WINDOW`] of its first one.
pub const TRIES: u32 = 10;
/// See [`TRIES`].
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses counted one by one; beyond them, they share one count ([`OVERFLOW`]).
const REMEMBERED: usize = 4096;

/// The checks, set up once for the listener.
pub struct Access {
    addr: SocketAddr,
    /// SHA-256 of the token: compared in constant time, and of one length whatever the
    /// token's.
    token: Option<[u8; 32]>,
    /// Per address (an IPv6 one by its /64, what one host is usually given), when its window
    /// began and the wrong tokens sent in it.
    wrong: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Access {
    pub fn new(addr: SocketAddr, token: Option<Secret>) -> Access {
        Access { addr, token: token.map(|t| digest(t.expose().as_bytes())), wrong: Mutex::default() }
    }

    /// Whether the `Host` is this page's: checked first, a wrong one refused whatever the
    /// credentials.
    pub fn host(&self, headers: &HeaderMap) -> Result<(), Refused> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).ok_or(Refused::Host)?;
        match self.host_is_mine(host) {
            true => Ok(()),
            false => Err(Refused::Host),
        }
    }

    /// Whether `peer` may try a token, then the token. A request without one (what a
    /// browser sends before it asks) is no wrong token.
    pub fn token(&self, headers: &HeaderMap, peer: IpAddr) -> Result<(), Refused> {
        self.token_at(headers, peer, Instant::now())
    }

    fn token_at(&self, headers: &HeaderMap, peer: IpAddr, now: Instant) -> Result<(), Refused> {
        let Some(want) = &self.token else { return Ok(()) };
        let Some(given) = headers.get(header::AUTHORIZATION) else { return Err(Refused::Auth) };
        let mut wrong = self.wrong.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = bucket(&mut wrong, subnet(peer), now);
        if let Some(&(since, tries)) = wrong.get(&key) {
            let ends = since + WINDOW;
            if tries >= TRIES && now < ends {
                return Err(Refused::TooMany { retry_after_secs: (ends - now).as_secs_f64().ceil() as u64 });
            }
        }
        let given = given.to_str().ok().and_then(basic_password);
        if given.is_some_and(|given| bool::from(digest(given.as_bytes()).ct_eq(want))) {
            return Ok(());
        }
        let (since, tries) = wrong.entry(key).or_insert((now, 0));
        if now >= *since + WINDOW {
            (*since, *tries) = (now, 0);
        }
        *tries += 1;
        let held_back = *tries == TRIES;
        drop(wrong);
        if held_back {
            let who = match key {
                OVERFLOW => format!("addresses beyond the {REMEMBERED} it counts one by one"),
                address => address.to_string(),
            };
            tracing::warn!(
                "the status page had {TRIES} wrong tokens from {who} within {} s: refused (429) until then",
                WINDOW.as_secs()
            );
        }
        Err(Refused::Auth)
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

/// The count that the addresses beyond the [`REMEMBERED`] share: a flood from many
/// addresses is held back as one, and the map stays bounded.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// Whose count `peer` is: its own, unless [`REMEMBERED`] others are counted in windows not
/// yet ended (the ended ones are let go first), then [`OVERFLOW`]'s.
fn bucket(wrong: &mut HashMap<IpAddr, (Instant, u32)>, peer: IpAddr, now: Instant) -> IpAddr {
    if wrong.len() < REMEMBERED || wrong.contains_key(&peer) {
        return peer;
    }
    wrong.retain(|_, (since, _)| now < *since + WINDOW);
    if wrong.len() < REMEMBERED {
        peer
    } else {
        OVERFLOW
    }
}

/// What [`Access`] counts wrong tokens by: the address, an IPv6 one by its /64.
fn subnet(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
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

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9));

    /// What the page checks of a request from [`PEER`] for `/`: the `Host`, then the token.
    fn check(access: &Access, headers: &HeaderMap) -> Result<(), Refused> {
        access.host(headers)?;
        access.token(headers, PEER)
    }

    fn basic(user_password: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
    }

    #[test]
    fn only_the_hosts_it_listens_as() {
        let loopback = Access::new("127.0.0.1:8081".parse().unwrap(), None);
        for ok in ["127.0.0.1:8081", "localhost:8081", "LOCALHOST:8081"] {
            assert_eq!(check(&loopback, &headers(Some(ok), None)), Ok(()), "{ok}");
        }
        for bad in ["127.0.0.1:8082", "evil.example:8081", "127.0.0.2:8081", "127.0.0.1", "", "[::1]:8081"] {
            let h = if bad.is_empty() { headers(None, None) } else { headers(Some(bad), None) };
            assert_eq!(check(&loopback, &h), Err(Refused::Host), "{bad}");
        }
        let v6 = Access::new("[::1]:9000".parse().unwrap(), None);
        assert_eq!(check(&v6, &headers(Some("[::1]:9000"), None)), Ok(()));
        let any = Access::new("0.0.0.0:8081".parse().unwrap(), None);
        assert_eq!(check(&any, &headers(Some("10.1.2.3:8081"), None)), Ok(()));
        assert_eq!(check(&any, &headers(Some("rebound.example:8081"), None)), Err(Refused::Host));
        let on_80 = Access::new("10.0.0.5:80".parse().unwrap(), None);
        assert_eq!(check(&on_80, &headers(Some("10.0.0.5"), None)), Ok(()));
    }

    #[test]
    fn the_token_by_basic_auth() {
        let access = Access::new("0.0.0.0:8081".parse().unwrap(), Some(Secret::new("s3cret-token")));
        let host = Some("10.0.0.5:8081");
        assert_eq!(check(&access, &headers(host, None)), Err(Refused::Auth));
        assert_eq!(check(&access, &headers(host, Some(&basic("ops:s3cret-token")))), Ok(()));
        assert_eq!(check(&access, &headers(host, Some(&basic(":s3cret-token")))), Ok(()), "any user name");
        assert_eq!(check(&access, &headers(host, Some(&basic("ops:s3cret-toke")))), Err(Refused::Auth));
        assert_eq!(check(&access, &headers(host, Some(&basic("s3cret-token")))), Err(Refused::Auth), "no colon");
        assert_eq!(check(&access, &headers(host, Some("Bearer s3cret-token"))), Err(Refused::Auth));
        assert_eq!(check(&access, &headers(host, Some("Basic !!!"))), Err(Refused::Auth));
        // A wrong Host is refused before the credentials are looked at.
        assert_eq!(
            check(&access, &headers(Some("evil.example:8081"), Some(&basic("a:s3cret-token")))),
            Err(Refused::Host)
        );
    }

    /// A page on every address asking for a token; the headers of the right token and of a
    /// wrong one; a clock, `at(s)` the start and `s` seconds.
    fn guessing() -> (Access, String, String, impl Fn(u64) -> Instant) {
        let access = Access::new("0.0.0.0:8081".parse().unwrap(), Some(Secret::new("s3cret-token")));
        let start = Instant::now();
        (access, basic("ops:s3cret-token"), basic("ops:guess"), move |secs| start + Duration::from_secs(secs))
    }

    #[test]
    fn an_address_that_guesses_is_refused_without_a_look_until_its_window_ends() {
        let (access, right, wrong, at) = guessing();
        let host = Some("10.0.0.5:8081");
        let v6 = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
        for i in 0..TRIES {
            // No header, and the right token, between the guesses: neither counts.
            assert_eq!(access.token_at(&headers(host, None), PEER, at(0)), Err(Refused::Auth));
            assert_eq!(access.token_at(&headers(host, Some(&right)), PEER, at(0)), Ok(()));
            assert_eq!(access.token_at(&headers(host, Some(&wrong)), PEER, at(u64::from(i))), Err(Refused::Auth));
            assert_eq!(access.token_at(&headers(host, Some("Basic !!!")), v6(i as u16), at(0)), Err(Refused::Auth));
        }
        for (now, retry_after_secs) in [(9, 51), (30, 30), (59, 1)] {
            let too_many = Err(Refused::TooMany { retry_after_secs });
            assert_eq!(access.token_at(&headers(host, Some(&wrong)), PEER, at(now)), too_many);
            assert_eq!(access.token_at(&headers(host, Some(&right)), PEER, at(now)), too_many, "not looked at");
        }
        // The same address as IPv4-mapped IPv6, and another host in the same /64.
        let mapped = IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0009));
        assert_eq!(
            access.token_at(&headers(host, Some(&right)), mapped, at(30)),
            Err(Refused::TooMany { retry_after_secs: 30 })
        );
        assert_eq!(
            access.token_at(&headers(host, Some(&right)), v6(99), at(30)),
            Err(Refused::TooMany { retry_after_secs: 30 })
        );
        // Other addresses are not held back, and the window's end frees the address.
        assert_eq!(access.token_at(&headers(host, Some(&right)), "10.0.0.10".parse().unwrap(), at(30)), Ok(()));
        assert_eq!(access.token_at(&headers(host, Some(&right)), PEER, at(60)), Ok(()));
        // A new window from the next wrong token: ten more in it, and the address is held
        // back until it ends.
        for i in 0..TRIES {
            assert_eq!(access.token_at(&headers(host, Some(&wrong)), PEER, at(70 + u64::from(i))), Err(Refused::Auth));
        }
        assert_eq!(
            access.token_at(&headers(host, Some(&right)), PEER, at(100)),
            Err(Refused::TooMany { retry_after_secs: 30 })
        );
    }

    #[test]
    fn beyond_the_addresses_it_counts_one_by_one_the_rest_share_a_count() {
        let (access, right, wrong, at) = guessing();
        let host = Some("10.0.0.5:8081");
        let address = |i: usize| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, (i >> 16) as u16, i as u16, 0, 0, 0, 1));
        for i in 0..REMEMBERED {
            assert_eq!(access.token_at(&headers(host, Some(&wrong)), address(i), at(0)), Err(Refused::Auth));
        }
        // Ten new addresses guess once each: they share one count, which holds back every new
        // address, and none of the ones counted.
        for i in 0..TRIES as usize {
            assert_eq!(
                access.token_at(&headers(host, Some(&wrong)), address(REMEMBERED + i), at(1)),
                Err(Refused::Auth)
            );
        }
        let held_back = Err(Refused::TooMany { retry_after_secs: 59 });
        assert_eq!(access.token_at(&headers(host, Some(&right)), address(REMEMBERED + 99), at(2)), held_back);
        assert_eq!(access.token_at(&headers(host, Some(&right)), address(7), at(2)), Ok(()));
        assert_eq!(access.wrong.lock().unwrap().len(), REMEMBERED + 1, "bounded");
        // Once the first windows end their addresses are let go, and a new one is counted alone.
        assert_eq!(access.token_at(&headers(host, Some(&right)), address(REMEMBERED + 99), at(60)), Ok(()));
        assert_eq!(access.wrong.lock().unwrap().len(), 1, "the shared count's window is still open");
    }
}
