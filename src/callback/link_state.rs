//! The `state` of the links merchants open (DESIGN §7): HMAC-SHA256 of the account the link
//! is for (the official appid of a registration link, the mini-program's appid of a rebind
//! link) under the ledger's link key, Base64url without padding.
//!
//! `links` puts it in each `redirect_uri`; `serve` stores a ticket or taskid only when the
//! `state` that comes back verifies for the account in the same query, compared in constant
//! time. Without it, anyone who can reach `/callback/fastregister` could overwrite a stored
//! ticket with one of their own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ledger::{Ledger, LedgerError};

type HmacSha256 = Hmac<Sha256>;

/// The ledger's link key, ready to sign and verify.
#[derive(Clone)]
pub struct LinkKey {
    key: [u8; crate::ledger::LINK_KEY_LEN],
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(***)")
    }
}

impl LinkKey {
    /// The key of `ledger` (created there on first use).
    pub async fn of(ledger: &Ledger) -> Result<LinkKey, LedgerError> {
        Ok(LinkKey { key: ledger.link_key().await? })
    }

    fn mac(&self, account: &str) -> HmacSha256 {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(account.as_bytes());
        mac
    }

    /// The `state` for a link to `account`.
    pub fn state_for(&self, account: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(account).finalize().into_bytes())
    }

    /// Whether `state` is the one this key gives `account` (constant-time).
    pub fn verifies(&self, account: &str, state: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(state) {
            Ok(tag) => self.mac(account).verify_slice(&tag).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> LinkKey {
        LinkKey { key: [byte; crate::ledger::LINK_KEY_LEN] }
    }

    #[test]
    fn a_state_verifies_only_for_its_account_and_key() {
        let k = key(7);
        let state = k.state_for("wx28f759479ea1e090");
        assert_eq!(state.len(), 43, "{state}");
        assert!(state.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{state}");
        assert!(k.verifies("wx28f759479ea1e090", &state));
        assert!(!k.verifies("wx28f759479ea1e091", &state));
        assert!(!key(8).verifies("wx28f759479ea1e090", &state));
        assert!(!k.verifies("wx28f759479ea1e090", &state[..42]), "a truncated state");
        assert!(!k.verifies("wx28f759479ea1e090", ""));
        assert!(!k.verifies("wx28f759479ea1e090", "!!not base64!!"));
        assert!(!format!("{k:?}").contains('7'));
    }

    /// The value Python's `hmac` gives for the same key and message.
    #[test]
    fn it_is_hmac_sha256_in_base64url() {
        assert_eq!(key(7).state_for("wx28f759479ea1e090"), "8SBdzLSnjyuxO5wEMIL8mCoo6pOhiSPnhcmvaXDBhqc");
    }
}
