//! The simulator's world: every account, token, ticket, audit and media item, in memory.
//!
//! One [`State`] lives behind a `std::sync::Mutex`; handlers take the lock, check and change
//! state synchronously, and release it before any await. Tokens and ids come from a seeded
//! RNG so that a run with a seed is reproducible. `/__sim/state` serializes this struct, minus
//! the token maps (those are served by `/__sim/tokens`).
//!
//! The maps every API call reads (tokens, mini-programs) are hash maps: a benchmark holds a
//! million of each, and ordered maps of keys sharing a long prefix (`sim_authorizer_at_…`)
//! spent most of their time comparing it. What is served from them is sorted first. Their
//! hasher is foldhash's (seeded per process like SipHash, and a few times quicker on short
//! keys).

use std::collections::BTreeMap;

use foldhash::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::fixture::{AuditMode, CategoryTreeField, Fixture};
use wechat_open::api::{Category, RateLimit};

/// Milliseconds since the Unix epoch.
pub(super) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The original id (`gh_…`) WeChat gives `appid`: `api_get_authorizer_info`'s `user_name`,
/// and the `ToUserName` of the pushes about it.
pub(super) fn original_id(appid: &str) -> String {
    format!("gh_{}", &appid[appid.len().saturating_sub(12)..])
}

/// Who an access token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Owner {
    Component,
    Authorizer(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct AccessToken {
    pub owner: Owner,
    pub issued_ms: u64,
    pub expires_ms: u64,
    pub forced_expired: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RefreshToken {
    pub appid: String,
    pub auth_time: i64,
    /// Revoked through `/__sim/revoke`, or replaced by a newer authorization.
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct OfficialAccount {
    pub appid: String,
    pub nickname: String,
    pub principal_name: String,
    pub principal_type: u32,
    pub verified: bool,
    pub registrations_this_month: u32,
    pub pending_registration: bool,
    /// Mini-programs created by fastregister from this account.
    pub registered: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SetCategory {
    pub first: i64,
    pub second: i64,
    pub audit_status: i64,
    pub audit_reason: String,
    /// Certificate names and media ids sent with it.
    pub certificates: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct MiniProgram {
    pub appid: String,
    pub official_appid: Option<String>,
    pub nickname: String,
    pub signature: String,
    pub signature_used: u32,
    pub signature_quota: u32,
    pub head_image_url: String,
    pub head_image_used: u32,
    pub head_image_quota: u32,
    pub nickname_used: u32,
    pub nickname_quota: u32,
    pub categories: Vec<SetCategory>,
    pub category_quota: u32,
    pub category_quota_used: u32,
    pub category_limit: u32,
    pub fast_registered: bool,
    /// Reads (`getaccountbasicinfo`, `checkwxverifynickname`, `api_get_authorizer_info`)
    /// answer 41033, as the live platform does for accounts it did not create (NOTES.md names
    /// the first two; the third is assumed, see the fixture docs).
    #[serde(default)]
    pub not_created_by_platform: bool,
    pub principal_name: String,
    pub nickname_audit: Option<AuditMode>,
    pub created_ms: u64,
    /// How many admin rebinds completed.
    pub admin_rebinds: u32,
    /// Its trial version, privacy guide, domains and releases (`golive`), boxed: most of a
    /// mini-program's size, which the calls of a run that does not go live never touch.
    #[serde(default)]
    pub golive: Box<super::golive::AppGolive>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct AuthCode {
    pub appid: String,
    pub used: bool,
    pub created_ms: u64,
}

/// A fastregister ticket: issued by a merchant's scan for one official account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Ticket {
    pub official_appid: String,
    pub issued_ms: u64,
    pub used: bool,
    /// The previous try that got past the retry-window check.
    pub last_try_ms: Option<u64>,
    pub tries: u32,
    /// The mini-program it created.
    pub created_appid: Option<String>,
}

impl Ticket {
    /// A ticket just issued by a scan for `official_appid`.
    pub(super) fn scanned(official_appid: String, issued_ms: u64) -> Ticket {
        Ticket { official_appid, issued_ms, used: false, last_try_ms: None, tries: 0, created_appid: None }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RebindTask {
    pub appid: String,
    pub used: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct NicknameAuditRec {
    pub audit_id: i64,
    pub appid: String,
    pub nickname: String,
    /// 1 reviewing, 2 rejected, 3 approved.
    pub audit_stat: i64,
    pub fail_reason: String,
    pub create_time: i64,
    pub audit_time: i64,
    /// Queries answered so far while in review.
    pub queries: u32,
    /// Media ids sent as material.
    pub materials: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Media {
    pub media_id: String,
    pub appid: String,
    pub sha256: String,
    pub size: usize,
    pub filename: String,
    pub content_type: String,
    /// What the upload decoded to (absent in state saved before the simulator decoded).
    #[serde(default)]
    pub decoded: Option<super::media::Decoded>,
    pub created_at: i64,
    pub expires_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct PathQuota {
    pub daily_limit: u64,
    pub used: u64,
    /// What `quota/get` states as the path's rate limits (not enforced: 45011 comes from
    /// fault injection).
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub component_rate_limit: Option<RateLimit>,
}

/// The rules from the fixture that do not change while the simulator runs.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Rules {
    pub token_ttl_secs: u64,
    pub media_ttl_secs: u64,
    pub fastregister_retry_window_ms: u64,
    pub blacklisted_words: Vec<String>,
    pub taken_nicknames: Vec<String>,
    pub nickname_hit_words: Vec<String>,
    pub nickname_hit_wording: String,
    pub nickname_audit: AuditMode,
    pub audit_delay_queries: u32,
    pub nickname_fail_reason: String,
    pub category_tree_field: CategoryTreeField,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct ComponentState {
    pub appid: String,
    #[serde(skip)]
    pub secret: String,
    #[serde(skip)]
    pub verify_ticket: String,
    /// Tickets replaced through `/__sim/verify_ticket`: they answer 61006 (expired).
    #[serde(skip)]
    pub old_verify_tickets: Vec<String>,
    /// On the platform's IP whitelist: otherwise `api_component_token` answers 61004.
    pub ip_whitelisted: bool,
    /// The IP WeChat sees the calls come from (in 61004's errmsg).
    pub request_ip: String,
}

/// Everything the simulator knows.
#[derive(Debug, Serialize)]
pub(super) struct State {
    pub component: ComponentState,
    pub rules: Rules,
    pub official_accounts: BTreeMap<String, OfficialAccount>,
    #[serde(serialize_with = "sorted")]
    pub mini_programs: HashMap<String, MiniProgram>,
    #[serde(skip)]
    pub access_tokens: HashMap<String, AccessToken>,
    #[serde(skip)]
    pub refresh_tokens: HashMap<String, RefreshToken>,
    #[serde(skip)]
    pub auth_codes: BTreeMap<String, AuthCode>,
    pub tickets: BTreeMap<String, Ticket>,
    pub rebind_tasks: BTreeMap<String, RebindTask>,
    pub audits: BTreeMap<i64, NicknameAuditRec>,
    pub media: BTreeMap<String, Media>,
    pub quotas: BTreeMap<String, PathQuota>,
    #[serde(skip)]
    pub categories: Vec<Category>,
    pub next_audit_id: i64,
    /// The permission set ids of the accounts whose fixture gave them; the others grant the
    /// defaults of their kind (see [`State::func_ids`]).
    pub func_info: BTreeMap<String, Vec<i64>>,
    /// Templates, the audit pool, code audits and the go-live settings (`golive`).
    pub golive: super::golive::Golive,
    #[serde(skip)]
    pub rng: StdRng,
}

/// Serializes `map` in its keys' order, as an ordered map would.
pub(super) fn sorted<V: Serialize, S: serde::Serializer>(map: &HashMap<String, V>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(map.iter().collect::<BTreeMap<_, _>>())
}

const HEX: &[u8] = b"0123456789abcdef";
const MEDIA_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl State {
    /// Builds the initial state; `seed` makes the generated ids reproducible.
    pub(super) fn new(fixture: Fixture, seed: Option<u64>) -> State {
        let rng = match seed {
            // A different stream from the fault RNG, which uses the seed itself.
            Some(s) => StdRng::seed_from_u64(s ^ 0x05ee_d1d5),
            None => StdRng::from_entropy(),
        };
        let now = now_ms();
        let mut st = State {
            component: ComponentState {
                appid: fixture.component.appid,
                secret: fixture.component.secret,
                verify_ticket: fixture.component.verify_ticket,
                old_verify_tickets: Vec::new(),
                ip_whitelisted: fixture.ip_whitelisted,
                request_ip: fixture.request_ip,
            },
            rules: Rules {
                token_ttl_secs: fixture.token_ttl_secs,
                media_ttl_secs: fixture.media_ttl_secs,
                fastregister_retry_window_ms: fixture.fastregister_retry_window_ms,
                blacklisted_words: fixture.blacklisted_words,
                taken_nicknames: fixture.taken_nicknames,
                nickname_hit_words: fixture.nickname_hit_words,
                nickname_hit_wording: fixture.nickname_hit_wording,
                nickname_audit: fixture.nickname_audit,
                audit_delay_queries: fixture.audit_delay_queries,
                nickname_fail_reason: fixture.nickname_fail_reason,
                category_tree_field: fixture.category_tree_field,
            },
            official_accounts: BTreeMap::new(),
            mini_programs: HashMap::default(),
            access_tokens: HashMap::default(),
            refresh_tokens: HashMap::default(),
            auth_codes: BTreeMap::new(),
            tickets: BTreeMap::new(),
            rebind_tasks: BTreeMap::new(),
            audits: BTreeMap::new(),
            media: BTreeMap::new(),
            quotas: fixture
                .quotas
                .into_iter()
                .map(|(k, q)| {
                    let quota = PathQuota {
                        daily_limit: q.daily_limit,
                        used: q.used,
                        rate_limit: q.rate_limit,
                        component_rate_limit: q.component_rate_limit,
                    };
                    (k, quota)
                })
                .collect(),
            categories: fixture.categories,
            next_audit_id: 410_000_001,
            func_info: BTreeMap::new(),
            golive: super::golive::Golive::new(fixture.golive, now),
            rng,
        };
        let auth_time = (now / 1000) as i64;
        for oa in fixture.official_accounts {
            let rt = oa.refresh_token.unwrap_or_else(|| st.new_secret("refreshtoken@@@"));
            st.refresh_tokens.insert(rt, RefreshToken { appid: oa.appid.clone(), auth_time, revoked: false });
            if let Some(ids) = oa.func_info {
                st.func_info.insert(oa.appid.clone(), ids);
            }
            st.official_accounts.insert(
                oa.appid.clone(),
                OfficialAccount {
                    appid: oa.appid,
                    nickname: oa.nickname,
                    principal_name: oa.principal_name,
                    principal_type: oa.principal_type,
                    verified: oa.verified,
                    registrations_this_month: oa.registrations_this_month,
                    pending_registration: oa.pending_registration,
                    registered: Vec::new(),
                },
            );
        }
        for mp in fixture.mini_programs {
            let rt = mp.refresh_token.unwrap_or_else(|| st.new_secret("refreshtoken@@@"));
            st.refresh_tokens.insert(rt, RefreshToken { appid: mp.appid.clone(), auth_time, revoked: false });
            if let Some(ids) = mp.func_info {
                st.func_info.insert(mp.appid.clone(), ids);
            }
            st.mini_programs.insert(
                mp.appid.clone(),
                MiniProgram {
                    appid: mp.appid,
                    official_appid: mp.official_appid,
                    nickname: mp.nickname,
                    signature: mp.signature,
                    signature_used: mp.signature_used,
                    signature_quota: mp.signature_quota,
                    head_image_url: mp.head_image_url,
                    head_image_used: mp.head_image_used,
                    head_image_quota: mp.head_image_quota,
                    nickname_used: mp.nickname_used,
                    nickname_quota: mp.nickname_quota,
                    categories: mp
                        .categories
                        .into_iter()
                        .map(|c| SetCategory {
                            first: c.first,
                            second: c.second,
                            audit_status: c.audit_status,
                            audit_reason: c.audit_reason,
                            certificates: Vec::new(),
                        })
                        .collect(),
                    category_quota: mp.category_quota,
                    category_quota_used: mp.category_quota_used,
                    category_limit: mp.category_limit,
                    fast_registered: mp.fast_registered,
                    not_created_by_platform: mp.not_created_by_platform,
                    principal_name: mp.principal_name,
                    nickname_audit: mp.nickname_audit,
                    created_ms: now,
                    admin_rebinds: 0,
                    golive: Default::default(),
                },
            );
        }
        for t in fixture.rebind_taskids {
            st.rebind_tasks.insert(t.taskid, RebindTask { appid: t.appid, used: false });
        }
        for t in fixture.scanned_tickets {
            st.tickets.insert(t.ticket, Ticket::scanned(t.official_appid, now));
        }
        st
    }

    /// `n` random lower-case hex digits.
    pub(super) fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| HEX[self.rng.gen_range(0..HEX.len())] as char).collect()
    }

    /// A secret-looking random string with a recognisable prefix.
    pub(super) fn new_secret(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.hex(40))
    }

    /// A media id as WeChat shapes them: 64 URL-safe characters.
    pub(super) fn new_media_id(&mut self) -> String {
        (0..64).map(|_| MEDIA_CHARS[self.rng.gen_range(0..MEDIA_CHARS.len())] as char).collect()
    }

    /// A fresh appid: `wx` + 16 hex digits, not yet used.
    pub(super) fn new_appid(&mut self) -> String {
        loop {
            let appid = format!("wx{}", self.hex(16));
            if !self.mini_programs.contains_key(&appid) && !self.official_accounts.contains_key(&appid) {
                return appid;
            }
        }
    }

    /// Issues an access token for `owner`, valid for the fixture's TTL.
    pub(super) fn issue_access_token(&mut self, owner: Owner, now: u64) -> String {
        let prefix = match owner {
            Owner::Component => "sim_component_at_",
            Owner::Authorizer(_) => "sim_authorizer_at_",
        };
        let token = self.new_secret(prefix);
        let expires_ms = now + self.rules.token_ttl_secs * 1000;
        self.access_tokens
            .insert(token.clone(), AccessToken { owner, issued_ms: now, expires_ms, forced_expired: false });
        token
    }

    /// Issues a new refresh token for `appid`; the ones it had before stop working.
    pub(super) fn issue_refresh_token(&mut self, appid: &str, now: u64) -> String {
        for rt in self.refresh_tokens.values_mut().filter(|r| r.appid == appid) {
            rt.revoked = true;
        }
        let token = self.new_secret("refreshtoken@@@");
        self.refresh_tokens.insert(
            token.clone(),
            RefreshToken { appid: appid.to_string(), auth_time: (now / 1000) as i64, revoked: false },
        );
        token
    }

    /// The media item `media_id` if it belongs to `appid` and has not expired.
    pub(super) fn media_of(&self, appid: &str, media_id: &str, now: u64) -> Option<&Media> {
        self.media.get(media_id).filter(|m| m.appid == appid && m.expires_ms > now)
    }

    /// The permission set ids `appid` granted the platform: its fixture's, else the
    /// defaults of its kind.
    pub(super) fn func_ids(&self, appid: &str) -> Vec<i64> {
        if let Some(ids) = self.func_info.get(appid) {
            return ids.clone();
        }
        let defaults = if self.official_accounts.contains_key(appid) {
            super::fixture::OFFICIAL_ACCOUNT_FUNC_INFO
        } else {
            super::fixture::MINI_PROGRAM_FUNC_INFO
        };
        defaults.to_vec()
    }

    pub(super) fn category(&self, id: i64) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }
}
