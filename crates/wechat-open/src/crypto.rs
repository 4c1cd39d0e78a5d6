//! WeChat's message encryption ("安全模式", the WXBizMsgCrypt scheme), as used on a
//! third-party platform's callback URLs.
//!
//! Every push WeChat sends to the authorization-event URL and the message URL carries an
//! `<Encrypt>` field and, in the query, `timestamp`, `nonce` and `msg_signature`. This module is
//! the only place that turns those into trusted plain XML, and a simulator can use the same
//! code to produce pushes, so the two cannot drift apart. The scheme (NOTES.md, "Message
//! encryption"):
//!
//! - `msg_signature` = hex SHA-1 of the byte-wise sorted concatenation of the token, the
//!   timestamp, the nonce and the `Encrypt` text;
//! - key = Base64(EncodingAESKey + "="), 32 bytes; AES-256-CBC, IV = the first 16 key bytes;
//! - plaintext = 16 random bytes, a 4-byte big-endian XML length, the XML, the receiving appid;
//!   padded PKCS#7-style to a multiple of **32** bytes (not the cipher's 16), so the cipher itself
//!   runs without padding and the padding is checked here.
//!
//! Everything that comes from the network is checked before it is sliced: no input makes
//! [`MsgCrypt::decrypt`] panic. Neither the token nor the key ever appears in `Debug` output or
//! in an error.

use std::fmt;

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use rand::RngCore;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// WeChat pads the plaintext to a multiple of this many bytes (PKCS#7 with a 32-byte block).
pub(crate) const PAD_BLOCK: usize = 32;

/// The largest `Encrypt` text [`MsgCrypt::decrypt`] accepts, in bytes (the receiver refuses
/// bodies over 64 KiB anyway).
pub const MAX_ENCRYPT_LEN: usize = 64 * 1024;

/// Length of an EncodingAESKey as the platform issues it.
const ENCODING_AES_KEY_LEN: usize = 43;

/// Header of the plaintext: 16 random bytes and a 4-byte big-endian length.
const HEADER_LEN: usize = 20;

/// The longest received appid quoted back in [`CryptoError::WrongAppId`].
const MAX_QUOTED_APPID: usize = 64;

/// Decodes the EncodingAESKey. The 43rd character carries 2 bits that do not belong to the
/// 32-byte key and are not always zero (the platform's own sample key ends in `C`), so the
/// decoder must allow trailing bits, as the reference implementations' decoders do.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Why a push could not be opened, or a key not accepted. Messages never include the token,
/// the key or the plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 Base64 characters decoding to 32 bytes.
    #[error("EncodingAESKey is invalid: {0}")]
    BadKey(&'static str),
    /// `msg_signature` does not match the token, timestamp, nonce and `Encrypt` text.
    #[error("msg_signature does not match the message")]
    BadSignature,
    /// The `Encrypt` text is not standard Base64.
    #[error("Encrypt is not valid Base64")]
    BadBase64,
    /// The ciphertext is empty or not a whole number of AES blocks.
    #[error("ciphertext is {len} bytes, not a non-zero multiple of 16")]
    BadLength {
        /// The ciphertext's length in bytes.
        len: usize,
    },
    /// The last plaintext byte is not a valid pad length (1..=32) or the pad bytes disagree.
    #[error("decrypted message has invalid padding")]
    BadPadding,
    /// The plaintext is shorter than its header or than the XML length it declares.
    #[error("decrypted message is truncated: it is shorter than the length it declares")]
    Truncated,
    /// The message was encrypted for another appid.
    #[error("message is addressed to appid {got:?}, expected {expected:?}")]
    WrongAppId {
        /// The appid this receiver accepts.
        expected: String,
        /// The appid the message names (at most 64 characters of it).
        got: String,
    },
    /// The XML inside the message is not UTF-8.
    #[error("decrypted message is not UTF-8")]
    BadUtf8,
    /// The `Encrypt` text is longer than [`MAX_ENCRYPT_LEN`].
    #[error("Encrypt is {len} bytes, more than the {max} accepted")]
    TooLarge {
        /// The `Encrypt` text's length in bytes.
        len: usize,
        /// [`MAX_ENCRYPT_LEN`].
        max: usize,
    },
}

/// `msg_signature`: the hex SHA-1 of the four strings sorted byte-wise and concatenated.
pub fn signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypt];
    parts.sort_unstable();
    let mut sha = Sha1::new();
    for part in parts {
        sha.update(part.as_bytes());
    }
    hex::encode(sha.finalize())
}

/// The keys of one receiver: the token, the AES key derived from the EncodingAESKey, and the
/// appid messages must be addressed to (the component appid for a third-party platform).
#[derive(Clone)]
pub struct MsgCrypt {
    token: String,
    key: [u8; 32],
    appid: String,
}

impl fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsgCrypt").field("token", &"***").field("key", &"***").field("appid", &self.appid).finish()
    }
}

impl MsgCrypt {
    /// Checks the EncodingAESKey (43 characters, decoding to 32 bytes) and derives the key.
    pub fn new(token: &str, encoding_aes_key: &str, appid: &str) -> Result<MsgCrypt, CryptoError> {
        if encoding_aes_key.len() != ENCODING_AES_KEY_LEN {
            return Err(CryptoError::BadKey("it must be 43 characters long"));
        }
        let decoded =
            KEY_ENGINE.decode(format!("{encoding_aes_key}=")).map_err(|_| CryptoError::BadKey("it is not Base64"))?;
        let key: [u8; 32] = decoded.try_into().map_err(|_| CryptoError::BadKey("it does not decode to 32 bytes"))?;
        Ok(MsgCrypt { token: token.to_owned(), key, appid: appid.to_owned() })
    }

    /// The appid messages must be addressed to.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// Whether `msg_signature` signs this timestamp, nonce and `Encrypt` text (case-insensitive
    /// hex, constant-time comparison).
    pub(crate) fn verify_signature(&self, msg_signature: &str, timestamp: &str, nonce: &str, encrypt: &str) -> bool {
        let expected = signature(&self.token, timestamp, nonce, encrypt);
        // subtle: in time that depends only on the lengths (which are public: 40 hex digits).
        expected.as_bytes().ct_eq(msg_signature.to_ascii_lowercase().as_bytes()).into()
    }

    /// Verifies and opens a push: the signature, then Base64, AES-256-CBC, the 32-byte padding,
    /// the length header and the appid. Returns the inner XML.
    pub fn decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt_b64: &str,
    ) -> Result<String, CryptoError> {
        if encrypt_b64.len() > MAX_ENCRYPT_LEN {
            return Err(CryptoError::TooLarge { len: encrypt_b64.len(), max: MAX_ENCRYPT_LEN });
        }
        if !self.verify_signature(msg_signature, timestamp, nonce, encrypt_b64) {
            return Err(CryptoError::BadSignature);
        }
        let ciphertext = STANDARD.decode(encrypt_b64).map_err(|_| CryptoError::BadBase64)?;
        if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
            return Err(CryptoError::BadLength { len: ciphertext.len() });
        }
        let plain = Aes256CbcDec::new(&self.key.into(), &self.iv().into())
            .decrypt_padded_vec_mut::<NoPadding>(&ciphertext)
            .map_err(|_| CryptoError::BadLength { len: ciphertext.len() })?;
        let unpadded = strip_padding(&plain)?;
        let (xml, appid) = split_plaintext(unpadded)?;
        if appid != self.appid.as_bytes() {
            let got: String = String::from_utf8_lossy(appid).chars().take(MAX_QUOTED_APPID).collect();
            return Err(CryptoError::WrongAppId { expected: self.appid.clone(), got });
        }
        String::from_utf8(xml.to_vec()).map_err(|_| CryptoError::BadUtf8)
    }

    /// Seals `xml` for a push with fresh random bytes. Returns `(encrypt_b64, msg_signature)`.
    ///
    /// # Panics
    /// If `xml` is 4 GiB or longer (its length must fit the 4-byte header).
    pub fn encrypt(&self, xml: &str, timestamp: &str, nonce: &str) -> (String, String) {
        let mut random = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut random);
        self.encrypt_with_random(xml, timestamp, nonce, random)
    }

    /// [`MsgCrypt::encrypt`] with given "random" bytes, for reproducible output.
    ///
    /// # Panics
    /// If `xml` is 4 GiB or longer (its length must fit the 4-byte header).
    pub(crate) fn encrypt_with_random(
        &self,
        xml: &str,
        timestamp: &str,
        nonce: &str,
        random: [u8; 16],
    ) -> (String, String) {
        let len = u32::try_from(xml.len()).expect("XML of 4 GiB or more cannot be encrypted");
        let mut plain = Vec::with_capacity(HEADER_LEN + xml.len() + self.appid.len() + PAD_BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(xml.as_bytes());
        plain.extend_from_slice(self.appid.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        // `pad` is 1..=32, so it fits a byte.
        plain.resize(plain.len() + pad, pad as u8);
        let encrypt = self.seal_raw(&plain);
        let msg_signature = signature(&self.token, timestamp, nonce, &encrypt);
        (encrypt, msg_signature)
    }

    /// AES-256-CBC without padding and Base64; `plain` must be a multiple of 16 bytes.
    fn seal_raw(&self, plain: &[u8]) -> String {
        debug_assert_eq!(plain.len() % 16, 0);
        let ciphertext =
            Aes256CbcEnc::new(&self.key.into(), &self.iv().into()).encrypt_padded_vec_mut::<NoPadding>(plain);
        STANDARD.encode(ciphertext)
    }
}

/// Removes WeChat's PKCS#7 padding (block 32): the last byte `n` must be 1..=32, no more than
/// the plaintext length, and the last `n` bytes must all equal `n`.
fn strip_padding(plain: &[u8]) -> Result<&[u8], CryptoError> {
    let Some(&last) = plain.last() else {
        return Err(CryptoError::BadPadding);
    };
    let pad = usize::from(last);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(CryptoError::BadPadding);
    }
    let (body, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|&b| b != last) {
        return Err(CryptoError::BadPadding);
    }
    Ok(body)
}

/// Splits an unpadded plaintext into the XML and the appid that follows it.
fn split_plaintext(unpadded: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    let Some(len_bytes) = unpadded.get(16..HEADER_LEN) else {
        return Err(CryptoError::Truncated);
    };
    let mut be = [0u8; 4];
    be.copy_from_slice(len_bytes);
    let declared = usize::try_from(u32::from_be_bytes(be)).map_err(|_| CryptoError::Truncated)?;
    let rest = unpadded.get(HEADER_LEN..).ok_or(CryptoError::Truncated)?;
    if declared > rest.len() {
        return Err(CryptoError::Truncated);
    }
    Ok(rest.split_at(declared))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    // Known-answer vectors from Tencent's official WXBizMsgCrypt sample for WeCom, as published
    // in repository sbzhu/weworkapi_php, file callback/Sample.php (commit 0855251597a9). The
    // same values appear in the C#/Python/Java samples; they are signed with the "corpid" as
    // the receiving id, which is what the scheme calls the appid.
    const SAMPLE_TOKEN: &str = "QDG6eK";
    const SAMPLE_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const SAMPLE_APPID: &str = "wx5823bf96d3bd56c7";

    // "使用示例二": an encrypted message push.
    const SAMPLE_MSG_SIGNATURE: &str = "477715d11cdb4164915debcba66cb864d751f3e6";
    const SAMPLE_MSG_TIMESTAMP: &str = "1409659813";
    const SAMPLE_MSG_NONCE: &str = "1372623149";
    const SAMPLE_MSG_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";

    // "使用示例一": the URL-verification echostr, encrypted the same way.
    const SAMPLE_ECHO_SIGNATURE: &str = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";
    const SAMPLE_ECHO_TIMESTAMP: &str = "1409659589";
    const SAMPLE_ECHO_NONCE: &str = "263014780";
    const SAMPLE_ECHO_ENCRYPT: &str =
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";

    // Known-answer encryption vector from the official WeChat Official Accounts Java sample's
    // test (WXBizMsgCryptTest.java, fixed random "aaaabbbbccccdddd"), as found in repository
    // Wyl015/wuyiling, file work-test/src/main/resources/Utils/aes/WXBizMsgCryptTest.java.
    const MP_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const MP_APPID: &str = "wxb11529c136998cb6";
    const MP_REPLY: &str = "我是中文abcd123";
    const MP_RANDOM: &[u8; 16] = b"aaaabbbbccccdddd";
    const MP_AFTER_AES: &str =
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";

    fn sample() -> MsgCrypt {
        MsgCrypt::new(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_APPID).unwrap()
    }

    fn crypt() -> MsgCrypt {
        MsgCrypt::new("testtoken", MP_KEY, "wxcomponentappid0").unwrap()
    }

    #[test]
    fn sample_signature_matches() {
        assert_eq!(
            signature(SAMPLE_TOKEN, SAMPLE_MSG_TIMESTAMP, SAMPLE_MSG_NONCE, SAMPLE_MSG_ENCRYPT),
            SAMPLE_MSG_SIGNATURE
        );
        assert_eq!(
            signature(SAMPLE_TOKEN, SAMPLE_ECHO_TIMESTAMP, SAMPLE_ECHO_NONCE, SAMPLE_ECHO_ENCRYPT),
            SAMPLE_ECHO_SIGNATURE
        );
    }

    #[test]
    fn sample_message_decrypts() {
        let xml =
            sample().decrypt(SAMPLE_MSG_SIGNATURE, SAMPLE_MSG_TIMESTAMP, SAMPLE_MSG_NONCE, SAMPLE_MSG_ENCRYPT).unwrap();
        assert!(xml.starts_with("<xml>"), "{xml}");
        assert!(xml.contains("<ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"));
        assert!(xml.contains("<Content><![CDATA[hello]]></Content>"), "{xml}");
        assert!(xml.trim_end().ends_with("</xml>"));
    }

    #[test]
    fn sample_echostr_decrypts() {
        let echo = sample()
            .decrypt(SAMPLE_ECHO_SIGNATURE, SAMPLE_ECHO_TIMESTAMP, SAMPLE_ECHO_NONCE, SAMPLE_ECHO_ENCRYPT)
            .unwrap();
        assert!(!echo.is_empty());
        assert!(echo.bytes().all(|b| b.is_ascii_digit()), "{echo}");
    }

    #[test]
    fn sample_with_other_appid_is_refused() {
        let other = MsgCrypt::new(SAMPLE_TOKEN, SAMPLE_KEY, "wxother").unwrap();
        let err = other
            .decrypt(SAMPLE_MSG_SIGNATURE, SAMPLE_MSG_TIMESTAMP, SAMPLE_MSG_NONCE, SAMPLE_MSG_ENCRYPT)
            .unwrap_err();
        assert_eq!(err, CryptoError::WrongAppId { expected: "wxother".into(), got: SAMPLE_APPID.into() });
    }

    #[test]
    fn official_encryption_vector_matches() {
        let c = MsgCrypt::new("pamtest", MP_KEY, MP_APPID).unwrap();
        let (encrypt, sig) = c.encrypt_with_random(MP_REPLY, "1409304348", "xxxxxx", *MP_RANDOM);
        assert_eq!(encrypt, MP_AFTER_AES);
        assert_eq!(sig, signature("pamtest", "1409304348", "xxxxxx", MP_AFTER_AES));
        assert_eq!(c.decrypt(&sig, "1409304348", "xxxxxx", &encrypt).unwrap(), MP_REPLY);
    }

    #[test]
    fn signature_sorts_bytewise() {
        // Arguments are sorted, so their order does not matter.
        assert_eq!(signature("b", "a", "d", "c"), signature("a", "b", "c", "d"));
        let mut sha = Sha1::new();
        sha.update(b"abcd");
        assert_eq!(signature("d", "c", "b", "a"), hex::encode(sha.finalize()));
    }

    #[test]
    fn uppercase_signature_is_accepted() {
        let upper = SAMPLE_MSG_SIGNATURE.to_ascii_uppercase();
        assert!(sample().decrypt(&upper, SAMPLE_MSG_TIMESTAMP, SAMPLE_MSG_NONCE, SAMPLE_MSG_ENCRYPT).is_ok());
    }

    #[test]
    fn bad_keys_are_refused() {
        for key in [
            "",
            "short",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C=",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B!C",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B-C",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2Bé",
        ] {
            assert!(matches!(MsgCrypt::new("t", key, "a"), Err(CryptoError::BadKey(_))), "{key:?}");
        }
    }

    #[test]
    fn debug_and_errors_hide_secrets() {
        let c = MsgCrypt::new("secret-token-123", SAMPLE_KEY, SAMPLE_APPID).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret-token-123"), "{shown}");
        assert!(!shown.contains(SAMPLE_KEY), "{shown}");
        assert!(!shown.contains(&hex::encode(c.key)), "{shown}");
        assert!(!shown.contains(&format!("{:?}", c.key)), "{shown}");
        assert!(shown.contains(SAMPLE_APPID));
        let err = MsgCrypt::new("t", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B!C", "a").unwrap_err();
        assert!(!err.to_string().contains("jWmYm7qr5nMoAUwZRjG"));
    }

    #[test]
    fn round_trips_at_many_sizes() {
        let c = crypt();
        // 20 header bytes + 17 appid bytes = 37: XML of 27 bytes makes 64 = two whole blocks,
        // so padding is a full 32 bytes; sizes around each boundary are covered.
        let appid_len = c.appid().len();
        let mut sizes: Vec<usize> = (0..100).collect();
        for blocks in 2..12 {
            let exact = blocks * PAD_BLOCK - HEADER_LEN - appid_len;
            sizes.extend([exact - 1, exact, exact + 1]);
        }
        sizes.extend([1000, 4095, 4096, 4097, 40_000]);
        for size in sizes {
            let xml: String = "x".repeat(size);
            let (enc, sig) = c.encrypt(&xml, "1700000000", "nonce");
            let len = STANDARD.decode(&enc).unwrap().len();
            assert_eq!(len % PAD_BLOCK, 0, "size {size}");
            if (HEADER_LEN + size + appid_len).is_multiple_of(PAD_BLOCK) {
                assert_eq!(len, HEADER_LEN + size + appid_len + PAD_BLOCK, "size {size}");
            }
            assert_eq!(c.decrypt(&sig, "1700000000", "nonce", &enc).unwrap(), xml);
        }
    }

    #[test]
    fn round_trips_unicode() {
        let c = crypt();
        let xml = "<xml><nickname><![CDATA[小店铺🍵]]></nickname></xml>";
        let (enc, sig) = c.encrypt(xml, "1", "2");
        assert_eq!(c.decrypt(&sig, "1", "2", &enc).unwrap(), xml);
    }

    #[test]
    fn fresh_random_bytes_each_time() {
        let c = crypt();
        let (a, _) = c.encrypt("<xml/>", "1", "2");
        let (b, _) = c.encrypt("<xml/>", "1", "2");
        assert_ne!(a, b);
    }

    /// Seals an arbitrary plaintext (a multiple of 16 bytes) and signs it.
    fn seal(c: &MsgCrypt, plain: &[u8]) -> (String, String) {
        let enc = c.seal_raw(plain);
        let sig = signature("testtoken", "1", "2", &enc);
        (enc, sig)
    }

    fn plaintext(xml: &[u8], declared: u32, appid: &[u8]) -> Vec<u8> {
        let mut plain = vec![7u8; 16];
        plain.extend_from_slice(&declared.to_be_bytes());
        plain.extend_from_slice(xml);
        plain.extend_from_slice(appid);
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.resize(plain.len() + pad, pad as u8);
        plain
    }

    #[test]
    fn tampered_signature_is_refused() {
        let c = crypt();
        let (enc, sig) = c.encrypt("<xml/>", "1", "2");
        let mut bad = sig.clone().into_bytes();
        bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(c.decrypt(&bad, "1", "2", &enc), Err(CryptoError::BadSignature));
        assert_eq!(c.decrypt("", "1", "2", &enc), Err(CryptoError::BadSignature));
        assert_eq!(c.decrypt(&sig, "9", "2", &enc), Err(CryptoError::BadSignature));
        assert_eq!(c.decrypt(&sig, "1", "3", &enc), Err(CryptoError::BadSignature));
        let other_token = MsgCrypt::new("othertoken", MP_KEY, c.appid()).unwrap();
        assert_eq!(other_token.decrypt(&sig, "1", "2", &enc), Err(CryptoError::BadSignature));
        // A changed ciphertext no longer matches its signature.
        // (Its first character is replaced by one it is not, whatever the random IV made it.)
        let first = if enc.starts_with('A') { 'B' } else { 'A' };
        let flipped = format!("{first}{}", &enc[1..]);
        assert_eq!(c.decrypt(&sig, "1", "2", &flipped), Err(CryptoError::BadSignature));
    }

    /// The comparison (subtle's): the whole signature, in either case of hex; a prefix, an
    /// extension or one changed last digit is refused.
    #[test]
    fn signature_comparison() {
        let c = crypt();
        let sig = signature("testtoken", "1", "2", "ENC");
        assert!(c.verify_signature(&sig, "1", "2", "ENC"));
        assert!(c.verify_signature(&sig.to_ascii_uppercase(), "1", "2", "ENC"));
        assert!(!c.verify_signature(&sig[..39], "1", "2", "ENC"));
        assert!(!c.verify_signature(&format!("{sig}0"), "1", "2", "ENC"));
        let last = if sig.ends_with('0') { '1' } else { '0' };
        assert!(!c.verify_signature(&format!("{}{last}", &sig[..39]), "1", "2", "ENC"));
        assert!(!c.verify_signature("", "1", "2", "ENC"));
    }

    #[test]
    fn wrong_appid_is_refused() {
        let sender = MsgCrypt::new("testtoken", MP_KEY, "wxsomeoneelse").unwrap();
        let (enc, sig) = sender.encrypt("<xml/>", "1", "2");
        assert_eq!(
            crypt().decrypt(&sig, "1", "2", &enc),
            Err(CryptoError::WrongAppId { expected: "wxcomponentappid0".into(), got: "wxsomeoneelse".into() })
        );
        // An appid that is a prefix of ours is not ours.
        let prefix = MsgCrypt::new("testtoken", MP_KEY, "wxcomponentappid").unwrap();
        let (enc, sig) = prefix.encrypt("<xml/>", "1", "2");
        assert!(matches!(crypt().decrypt(&sig, "1", "2", &enc), Err(CryptoError::WrongAppId { .. })));
    }

    #[test]
    fn quoted_appid_is_bounded() {
        let c = crypt();
        let plain = plaintext(b"<xml/>", 6, &[b'w'; 500]);
        let (enc, sig) = seal(&c, &plain);
        match c.decrypt(&sig, "1", "2", &enc) {
            Err(CryptoError::WrongAppId { got, .. }) => assert_eq!(got.len(), MAX_QUOTED_APPID),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_padding_is_refused() {
        let c = crypt();
        let good = plaintext(b"<xml/>", 6, c.appid().as_bytes());
        for last in [0u8, 33, 64, 255] {
            let mut plain = good.clone();
            *plain.last_mut().unwrap() = last;
            let (enc, sig) = seal(&c, &plain);
            assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::BadPadding), "last byte {last}");
        }
        // Inconsistent pad bytes.
        let mut plain = good.clone();
        let n = plain.len();
        let pad = plain[n - 1];
        assert!(pad >= 2);
        plain[n - 2] = pad.wrapping_add(1);
        let (enc, sig) = seal(&c, &plain);
        assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::BadPadding));
        // A pad of 32 on a 16-byte plaintext claims more bytes than there are.
        let (enc, sig) = seal(&c, &[32u8; 16]);
        assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::BadPadding));
    }

    #[test]
    fn bad_base64_is_refused() {
        let c = crypt();
        let (enc, _) = c.encrypt("<xml/>", "1", "2");
        for text in [
            &enc[..enc.len() - 1], // truncated: no longer a whole quantum
            &enc[..enc.len() - 3], // likewise
            "not base64 at all!",  // foreign characters
            "QUJD\nREVG",          // line breaks
            "QUJDREVGR0g=QUJD",    // padding in the middle
        ] {
            let sig = signature("testtoken", "1", "2", text);
            assert_eq!(c.decrypt(&sig, "1", "2", text), Err(CryptoError::BadBase64), "{text:?}");
        }
    }

    #[test]
    fn bad_length_is_refused() {
        let c = crypt();
        let (enc, _) = c.encrypt("<xml/>", "1", "2");
        // Truncated at a Base64 quantum: valid Base64, but not whole blocks.
        let cut = &enc[..enc.len() - 8];
        for (text, len) in
            [("", 0), (cut, STANDARD.decode(cut).unwrap().len()), ("QUJD", 3), ("QUJDREVGR0hJSktMTU5PUFE=", 17)]
        {
            let sig = signature("testtoken", "1", "2", text);
            assert_eq!(c.decrypt(&sig, "1", "2", text), Err(CryptoError::BadLength { len }), "{text:?}");
        }
    }

    #[test]
    fn truncated_plaintext_is_refused() {
        let c = crypt();
        // Declared length longer than what follows the header.
        let plain = plaintext(b"<xml/>", 1000, c.appid().as_bytes());
        let (enc, sig) = seal(&c, &plain);
        assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::Truncated));
        let plain = plaintext(b"<xml/>", u32::MAX, b"");
        let (enc, sig) = seal(&c, &plain);
        assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::Truncated));
        // Shorter than the 20-byte header once unpadded: 16 bytes of data and a 16-byte pad.
        let mut short = vec![1u8; 16];
        short.extend_from_slice(&[16u8; 16]);
        let (enc, sig) = seal(&c, &short);
        assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::Truncated));
        // Nothing at all once unpadded.
        let (enc, sig) = seal(&c, &[32u8; 32]);
        assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::Truncated));
    }

    #[test]
    fn non_utf8_xml_is_refused() {
        let c = crypt();
        let plain = plaintext(&[0xff, 0xfe, b'<'], 3, c.appid().as_bytes());
        let (enc, sig) = seal(&c, &plain);
        assert_eq!(c.decrypt(&sig, "1", "2", &enc), Err(CryptoError::BadUtf8));
    }

    #[test]
    fn oversized_input_is_refused() {
        let c = crypt();
        let text = "A".repeat(MAX_ENCRYPT_LEN + 4);
        assert!(matches!(c.decrypt("x", "1", "2", &text), Err(CryptoError::TooLarge { .. })));
    }

    /// Random inputs at every layer: none panics, and only the expected kinds of error occur.
    #[test]
    fn random_inputs_never_panic() {
        let c = crypt();
        let mut rng = StdRng::seed_from_u64(0x5EED_C0DE);
        for round in 0..2000 {
            // Layer 1: arbitrary strings, with and without a valid signature.
            let len = rng.gen_range(0..200);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let _ = c.decrypt("0000", "1", "2", &text);
            let sig = signature("testtoken", "1", "2", &text);
            assert!(c.decrypt(&sig, "1", "2", &text).is_err());

            // Layer 2: Base64 of arbitrary bytes.
            let text = STANDARD.encode(&bytes);
            let sig = signature("testtoken", "1", "2", &text);
            let _ = c.decrypt(&sig, "1", "2", &text);

            // Layer 3: arbitrary block-aligned plaintexts, correctly encrypted and signed.
            let blocks = rng.gen_range(1..8);
            let mut plain: Vec<u8> = (0..blocks * 16).map(|_| rng.gen()).collect();
            if round % 2 == 0 {
                // Make the padding plausible so the later checks are exercised too.
                let pad = rng.gen_range(1..=PAD_BLOCK.min(plain.len()));
                let n = plain.len();
                plain[n - pad..].fill(pad as u8);
                if round % 4 == 0 && n - pad >= HEADER_LEN {
                    let declared = rng.gen_range(0..(n as u32 + 8));
                    plain[16..20].copy_from_slice(&declared.to_be_bytes());
                }
            }
            let (enc, sig) = seal(&c, &plain);
            match c.decrypt(&sig, "1", "2", &enc) {
                Ok(_)
                | Err(CryptoError::BadPadding)
                | Err(CryptoError::Truncated)
                | Err(CryptoError::WrongAppId { .. })
                | Err(CryptoError::BadUtf8) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
    }
}
