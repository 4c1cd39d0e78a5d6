//! Text encodings of CSV manifests, and how we tell them apart.
//!
//! Ops staff save sheets from whatever Excel they have: UTF-8 (with or without a BOM), GBK
//! (Excel on Chinese Windows saves "CSV" in the ANSI code page, 936), or "Unicode text",
//! which is UTF-16, tab-separated, with a BOM — or without one, when another tool wrote it.
//! We detect, in this order: a BOM (UTF-8 or UTF-16), then UTF-16 by its NUL bytes (when
//! the byte order is unclear the caller is told to force it), then valid UTF-8 over the
//! whole file (checked streaming, stopping at the first bad byte), and otherwise GB18030 (a
//! superset of GBK). The caller may force an encoding (`--encoding`). Decoding is streamed by
//! `encoding_rs_io`: a million-row file never sits in memory.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use encoding_rs_io::DecodeReaderBytesBuilder;

/// A manifest's text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Utf8,
    /// GBK (code page 936). Decoded as GB18030, its superset, as the WHATWG standard says.
    Gbk,
    Gb18030,
    /// UTF-16 little-endian (what Excel writes). Forcing `utf-16` means this unless the
    /// file's BOM says big-endian.
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// The names `--encoding` accepts.
    pub const ACCEPTED: &'static str = "utf-8, gbk, gb18030, utf-16 (or utf-16le, utf-16be)";

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gbk => "GBK",
            Encoding::Gb18030 => "GB18030",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }

    fn decoder_encoding(self) -> &'static encoding_rs::Encoding {
        match self {
            Encoding::Utf8 => encoding_rs::UTF_8,
            Encoding::Gbk | Encoding::Gb18030 => encoding_rs::GB18030,
            Encoding::Utf16Le => encoding_rs::UTF_16LE,
            Encoding::Utf16Be => encoding_rs::UTF_16BE,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `--encoding` value that is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown encoding \"{0}\"; use one of {accepted}", accepted = Encoding::ACCEPTED)]
pub struct UnknownEncoding(pub String);

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s.trim().chars().filter(|c| *c != '-' && *c != '_').flat_map(char::to_lowercase).collect();
        match key.as_str() {
            "utf8" => Ok(Encoding::Utf8),
            "gbk" | "cp936" => Ok(Encoding::Gbk),
            "gb18030" => Ok(Encoding::Gb18030),
            "utf16" | "utf16le" => Ok(Encoding::Utf16Le),
            "utf16be" => Ok(Encoding::Utf16Be),
            _ => Err(UnknownEncoding(s.to_string())),
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How much of a file is looked at for UTF-16 without a BOM.
const SAMPLE: u64 = 64 * 1024;

/// A file whose encoding cannot be told, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// NUL bytes on both sides: UTF-16 without a byte-order mark, but which byte order?
    #[error("it looks like UTF-16 without a byte-order mark, but its byte order is unclear")]
    Utf16Unclear,
}

/// The BOM at the start of `head`, if any.
fn bom(head: &[u8]) -> Option<Encoding> {
    if head.starts_with(UTF8_BOM) {
        Some(Encoding::Utf8)
    } else if head.starts_with(b"\xFF\xFE") {
        Some(Encoding::Utf16Le)
    } else if head.starts_with(b"\xFE\xFF") {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

fn read_head(path: &Path, len: u64) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    File::open(path)?.take(len).read_to_end(&mut head)?;
    Ok(head)
}

/// UTF-16 without a BOM, told by its NUL bytes: the ASCII in a sheet (digits, the appids,
/// tabs, line ends) has a zero high byte, odd-placed in little-endian and even-placed in
/// big-endian; UTF-8 and GBK text has no NUL at all. `None` when `sample` is not UTF-16
/// (no NUL, or a stray one or two).
pub fn sniff_utf16(sample: &[u8]) -> Option<Result<Encoding, TextError>> {
    let (mut le, mut be) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        match (pair[0], pair[1]) {
            (0, 0) => {}
            (_, 0) => le += 1,
            (0, _) => be += 1,
            _ => {}
        }
    }
    if le >= 4 && le >= 8 * be {
        Some(Ok(Encoding::Utf16Le))
    } else if be >= 4 && be >= 8 * le {
        Some(Ok(Encoding::Utf16Be))
    } else if le + be >= 4 {
        Some(Err(TextError::Utf16Unclear))
    } else {
        None
    }
}

/// True when everything `reader` yields is valid UTF-8. Streams; stops at the first bad byte.
pub fn is_valid_utf8(mut reader: impl Read) -> io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut carried = 0usize;
    loop {
        let n = reader.read(&mut buf[carried..])?;
        if n == 0 {
            // Anything still carried is an incomplete sequence at the end of the file.
            return Ok(carried == 0);
        }
        let filled = carried + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carried = 0,
            Err(e) if e.error_len().is_some() => return Ok(false),
            Err(e) => {
                // An incomplete sequence at the end of the chunk: keep it for the next read.
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carried = filled - valid;
            }
        }
    }
}

/// The encoding of the file at `path`: its BOM; else UTF-16 told by its NUL bytes; else
/// UTF-8 if it is all valid UTF-8; else GB18030.
pub fn detect(path: &Path) -> Result<Encoding, TextError> {
    let head = read_head(path, SAMPLE)?;
    if let Some(enc) = bom(&head) {
        return Ok(enc);
    }
    if let Some(utf16) = sniff_utf16(&head) {
        return utf16;
    }
    let valid = is_valid_utf8(BufReader::new(File::open(path)?))?;
    Ok(if valid { Encoding::Utf8 } else { Encoding::Gb18030 })
}

/// Opens `path` as UTF-8 text: detected (or `forced`) encoding, any BOM removed, decoded
/// streaming by `encoding_rs_io`. Returns the reader and the encoding used. A forced UTF-16
/// follows the byte order of the file's BOM when it has one.
///
/// For UTF-8 the bytes pass through untouched (the CSV layer checks each field and reports a
/// bad byte with its line); other encodings are decoded, malformed sequences becoming U+FFFD.
pub fn open_text(path: &Path, forced: Option<Encoding>) -> Result<(Box<dyn Read + Send>, Encoding), TextError> {
    let encoding = match forced {
        Some(enc) => match (enc, bom(&read_head(path, 4)?)) {
            (Encoding::Utf16Le | Encoding::Utf16Be, Some(found @ (Encoding::Utf16Le | Encoding::Utf16Be))) => found,
            (enc, _) => enc,
        },
        None => detect(path)?,
    };
    let mut builder = DecodeReaderBytesBuilder::new();
    builder.strip_bom(true);
    match encoding {
        Encoding::Utf8 => builder.utf8_passthru(true).bom_sniffing(false),
        other => builder.encoding(Some(other.decoder_encoding())),
    };
    let file = BufReader::with_capacity(64 * 1024, File::open(path)?);
    Ok((Box::new(builder.build(file)), encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!("UTF-8".parse::<Encoding>(), Ok(Encoding::Utf8));
        assert_eq!("gbk".parse::<Encoding>(), Ok(Encoding::Gbk));
        assert_eq!("GB18030".parse::<Encoding>(), Ok(Encoding::Gb18030));
        assert_eq!("utf-16".parse::<Encoding>(), Ok(Encoding::Utf16Le));
        assert!("latin1".parse::<Encoding>().unwrap_err().to_string().contains("utf-8"));
    }

    #[test]
    fn utf8_validation_across_chunks() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        assert!(is_valid_utf8(Trickle("名称,简介".as_bytes())).unwrap());
        assert!(!is_valid_utf8(Trickle(b"ab\xB0\xA1")).unwrap());
        assert!(!is_valid_utf8(Trickle(b"ab\xE5\x90")).unwrap());
    }

    fn text(bytes: &[u8], forced: Option<Encoding>) -> (String, Encoding) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(&path, bytes).unwrap();
        let (mut reader, encoding) = open_text(&path, forced).unwrap();
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        (out, encoding)
    }

    fn utf16(text: &str, le: bool) -> Vec<u8> {
        text.encode_utf16().flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() }).collect()
    }

    #[test]
    fn decodes_gbk_utf8_and_utf16_with_or_without_a_bom() {
        let sheet = "小程序appid\t名称\nwx0000000000000001\t一二三四\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(sheet);
        assert_eq!(text(&gbk, None), (sheet.to_string(), Encoding::Gb18030));
        assert_eq!(text(sheet.as_bytes(), None), (sheet.to_string(), Encoding::Utf8));
        let bom_utf8 = [UTF8_BOM, sheet.as_bytes()].concat();
        assert_eq!(text(&bom_utf8, None), (sheet.to_string(), Encoding::Utf8));
        assert_eq!(text(&bom_utf8, Some(Encoding::Utf8)), (sheet.to_string(), Encoding::Utf8));
        let le = utf16(sheet, true);
        assert_eq!(text(&[&b"\xFF\xFE"[..], &le].concat(), None), (sheet.to_string(), Encoding::Utf16Le));
        assert_eq!(text(&le, None), (sheet.to_string(), Encoding::Utf16Le), "no BOM");
        assert_eq!(text(&utf16(sheet, false), None), (sheet.to_string(), Encoding::Utf16Be), "no BOM");
        // A forced UTF-16 follows the BOM's byte order.
        let be = [&b"\xFE\xFF"[..], &utf16(sheet, false)].concat();
        assert_eq!(text(&be, Some(Encoding::Utf16Le)), (sheet.to_string(), Encoding::Utf16Be));
        // UTF-8 passes through untouched, bad bytes and all, for the CSV layer to report.
        assert_eq!(open_and_read_bytes(b"a,\xB2\xE2\n"), b"a,\xB2\xE2\n");
    }

    fn open_and_read_bytes(bytes: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(&path, bytes).unwrap();
        let (mut reader, _) = open_text(&path, Some(Encoding::Utf8)).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn utf16_without_a_bom_of_unclear_byte_order_is_an_error() {
        let mut both = utf16("appid\n", true);
        both.extend(utf16("appid\n", false));
        assert!(matches!(sniff_utf16(&both), Some(Err(TextError::Utf16Unclear))));
        assert!(sniff_utf16(b"appid,\x00nickname\n").is_none(), "a stray NUL is not UTF-16");
        // CJK text whose code units end in 00 (U+4E00 一) does not confuse it.
        assert!(matches!(sniff_utf16(&utf16("一 appid\tnickname\n", true)), Some(Ok(Encoding::Utf16Le))));
    }
}
