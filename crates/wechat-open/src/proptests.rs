//! Property tests over what a receiver does with bytes from the network: the message
//! decryption and the XML of bodies and events.
//!
//! Two kinds of property: arbitrary input never panics, and what is sealed or written opens or
//! reads back unchanged. Case counts are modest so
//! the suite runs in seconds; `PROPTEST_CASES` raises them for a longer soak.

use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;

use crate::crypto::{signature, MsgCrypt, PAD_BLOCK};
use crate::event::{AuditResult, Event, PushBody, Pushed};
use crate::secret::Secret;

const TOKEN: &str = "proptoken";
/// Its last character carries no trailing bits, so a plain Base64 decoder reads it too.
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFA";
const APPID: &str = "wx0c0c0c0c0c0c0c0c";

fn crypt() -> MsgCrypt {
    MsgCrypt::new(TOKEN, KEY, APPID).unwrap()
}

/// AES-256-CBC of `plain` (a multiple of 16 bytes) under the test key, as Base64: lets a
/// property hand `decrypt` arbitrary *plaintexts*, to exercise padding, length and appid checks.
fn seal_raw(plain: &[u8]) -> String {
    let key = STANDARD.decode(format!("{KEY}=")).unwrap();
    let key: [u8; 32] = key.try_into().unwrap();
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key[..16]);
    let ct = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into()).encrypt_padded_vec_mut::<NoPadding>(plain);
    STANDARD.encode(ct)
}

/// Text that survives an XML field unchanged: no control characters, no surrounding spaces.
fn field_text() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1f\\x7f]{0,40}".prop_map(|s| s.trim().to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn decrypt_never_panics(sig in ".{0,50}", ts in ".{0,12}", nonce in ".{0,12}", enc in ".{0,300}") {
        let _ = crypt().decrypt(&sig, &ts, &nonce, &enc);
    }

    #[test]
    fn correctly_signed_garbage_never_panics(enc in "[A-Za-z0-9+/=]{0,300}") {
        let sig = signature(TOKEN, "1", "2", &enc);
        let _ = crypt().decrypt(&sig, "1", "2", &enc);
    }

    #[test]
    fn arbitrary_ciphertexts_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let enc = STANDARD.encode(&bytes);
        let sig = signature(TOKEN, "1", "2", &enc);
        let _ = crypt().decrypt(&sig, "1", "2", &enc);
    }

    #[test]
    fn arbitrary_plaintexts_never_panic(
        blocks in 1usize..16,
        fill in proptest::collection::vec(any::<u8>(), 0..256),
        last in any::<u8>(),
        len in any::<u32>(),
    ) {
        let mut plain = vec![0u8; blocks * 16];
        for (slot, byte) in plain.iter_mut().zip(fill.iter().cycle()) {
            *slot = *byte;
        }
        if plain.len() >= 20 {
            plain[16..20].copy_from_slice(&len.to_be_bytes());
        }
        if let Some(end) = plain.last_mut() {
            *end = last;
        }
        let enc = seal_raw(&plain);
        let sig = signature(TOKEN, "1", "2", &enc);
        let _ = crypt().decrypt(&sig, "1", "2", &enc);
    }

    #[test]
    fn sealed_messages_open_unchanged(xml in "\\PC{0,400}", ts in "[0-9]{1,10}", nonce in "[A-Za-z0-9]{1,16}") {
        let crypt = crypt();
        let (enc, sig) = crypt.encrypt(&xml, &ts, &nonce);
        prop_assert_eq!(crypt.decrypt(&sig, &ts, &nonce, &enc), Ok(xml.clone()));
        // The ciphertext is a whole number of 32-byte pad blocks.
        prop_assert_eq!(STANDARD.decode(&enc).unwrap().len() % PAD_BLOCK, 0);
        // Any other appid refuses it; any other nonce breaks the signature.
        let other = MsgCrypt::new(TOKEN, KEY, "wx9999999999999999").unwrap();
        prop_assert!(other.decrypt(&sig, &ts, &nonce, &enc).is_err());
        let other_nonce = format!("{}x", nonce);
        prop_assert!(crypt.decrypt(&sig, &ts, &other_nonce, &enc).is_err());
    }

    #[test]
    fn keys_are_checked_without_panicking(key in ".{0,60}") {
        let _ = MsgCrypt::new(TOKEN, &key, APPID);
    }

    #[test]
    fn bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = PushBody::parse(&bytes);
        let _ = Pushed::parse(&bytes);
    }

    #[test]
    fn xmlish_text_never_panics(text in "(<xml>|</xml>|<Encrypt>|</Encrypt>|<!\\[CDATA\\[|\\]\\]>|<info>|</info>|<ret>|</ret>|&amp;|&|<|>|[a-z0-9 ]{0,5}){0,30}") {
        let _ = PushBody::parse(text.as_bytes());
        let _ = Pushed::parse(text.as_bytes());
    }

    #[test]
    fn push_bodies_round_trip(to in proptest::option::of(field_text()), enc in "[A-Za-z0-9+/=]{0,200}") {
        let body = PushBody { to_user_name: to, app_id: Some(APPID.into()), encrypt: enc };
        prop_assert_eq!(PushBody::parse(body.to_xml().as_bytes()), Ok(body));
    }

    #[test]
    fn events_round_trip(ticket in field_text(), nickname in field_text(), reason in field_text(), ret in -5i64..10) {
        prop_assume!(!ticket.is_empty());
        let header = |event| Pushed { app_id: Some(APPID.into()), to_user_name: None, create_time: Some(1), event };
        let ticket = header(Event::ComponentVerifyTicket { ticket: Secret::new(ticket) });
        prop_assert_eq!(Pushed::parse(ticket.to_xml().as_bytes()), Ok(ticket));
        let audit = header(Event::NicknameAudit { ret: AuditResult::from_ret(ret), nickname, reason });
        prop_assert_eq!(Pushed::parse(audit.to_xml().as_bytes()), Ok(audit));
    }

    #[test]
    fn sealed_events_open_and_read_back(ticket in "[A-Za-z0-9@_-]{1,80}", nonce in "[0-9]{1,10}") {
        let crypt = crypt();
        let pushed = Pushed {
            app_id: Some(APPID.into()),
            to_user_name: None,
            create_time: Some(1_700_000_000),
            event: Event::ComponentVerifyTicket { ticket: Secret::new(ticket) },
        };
        let (enc, sig) = crypt.encrypt(&pushed.to_xml(), "1700000000", &nonce);
        let body = PushBody { to_user_name: None, app_id: Some(APPID.into()), encrypt: enc }.to_xml();
        let outer = PushBody::parse(body.as_bytes()).unwrap();
        let inner = crypt.decrypt(&sig, "1700000000", &nonce, &outer.encrypt).unwrap();
        prop_assert_eq!(Pushed::parse(inner.as_bytes()), Ok(pushed));
    }
}
