//! Text encodings of CSV manifests, and how we tell them apart.
//!
//! Ops staff save sheets from whatever Excel they have: UTF-8 (with or without a BOM), GBK
//! (Excel on Chinese Windows saves "CSV" in the ANSI code page, 936), or "Unicode text",
//! which is UTF-16 with a BOM and tab-separated. We detect, in this order: a BOM (UTF-8 or
//! UTF-16), then valid UTF-8 over the whole file (checked streaming, stopping at the first
//! bad byte), and otherwise GB18030 (a superset of GBK). The caller may force an encoding
//! (`--encoding`). Decoding is streamed: a million-row file never sits in memory.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

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

/// The BOM at the start of `head`, if any: its encoding and length.
fn bom(head: &[u8]) -> Option<(Encoding, usize)> {
    if head.starts_with(UTF8_BOM) {
        Some((Encoding::Utf8, 3))
    } else if head.starts_with(b"\xFF\xFE") {
        Some((Encoding::Utf16Le, 2))
    } else if head.starts_with(b"\xFE\xFF") {
        Some((Encoding::Utf16Be, 2))
    } else {
        None
    }
}

fn read_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(4);
    file.by_ref().take(4).read_to_end(&mut head)?;
    Ok(head)
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

/// The encoding of the file at `path`: its BOM, else UTF-8 if it is all valid UTF-8, else
/// GB18030.
pub fn detect(path: &Path) -> io::Result<Encoding> {
    let mut file = File::open(path)?;
    let head = read_head(&mut file)?;
    if let Some((enc, _)) = bom(&head) {
        return Ok(enc);
    }
    let valid = is_valid_utf8(io::Cursor::new(head).chain(file))?;
    Ok(if valid { Encoding::Utf8 } else { Encoding::Gb18030 })
}

/// Opens `path` as UTF-8 text: detected (or `forced`) encoding, BOM removed, decoded
/// streaming. Returns the reader and the encoding used.
///
/// For UTF-8 the bytes pass through untouched (the CSV layer checks each field and reports a
/// bad byte with its line); other encodings go through an `encoding_rs` decoder, which
/// replaces malformed sequences with U+FFFD.
pub fn open_text(path: &Path, forced: Option<Encoding>) -> io::Result<(Box<dyn Read + Send>, Encoding)> {
    let encoding = match forced {
        Some(enc) => enc,
        None => detect(path)?,
    };
    let mut file = File::open(path)?;
    let head = read_head(&mut file)?;
    let found = bom(&head);
    // A forced UTF-16 follows the BOM's byte order when there is one.
    let encoding = match (encoding, found) {
        (Encoding::Utf16Le | Encoding::Utf16Be, Some((e @ (Encoding::Utf16Le | Encoding::Utf16Be), _))) => e,
        (e, _) => e,
    };
    let skip = match found {
        Some((e, len)) if e == encoding => len,
        _ => 0,
    };
    let rest = io::Cursor::new(head[skip..].to_vec()).chain(file);
    let reader: Box<dyn Read + Send> = match encoding {
        Encoding::Utf8 => Box::new(BufReader::with_capacity(64 * 1024, rest)),
        other => Box::new(DecodingReader::new(BufReader::with_capacity(64 * 1024, rest), other.decoder_encoding())),
    };
    Ok((reader, encoding))
}

/// An `io::Read` of UTF-8 decoded, streaming, from another encoding.
pub struct DecodingReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: BufRead> DecodingReader<R> {
    /// Decodes `inner`, which must not start with a BOM (the caller strips it).
    pub fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        DecodingReader {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            out: Vec::new(),
            pos: 0,
            done: false,
        }
    }

    /// Decodes the next chunk into `out`; leaves `out` empty only at the end.
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.done {
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            let need = self.decoder.max_utf8_buffer_length(input.len()).unwrap_or(input.len() * 3 + 16).max(16);
            self.out.resize(need, 0);
            let (_, read, written, _) = self.decoder.decode_to_utf8(input, &mut self.out, last);
            self.inner.consume(read);
            self.out.truncate(written);
            if last {
                self.done = true;
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
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

    #[test]
    fn decodes_gbk_streaming() {
        let (gbk, _, _) = encoding_rs::GBK.encode("名称,简介\n测试,你好\n");
        let mut out = String::new();
        DecodingReader::new(io::BufReader::with_capacity(3, &gbk[..]), encoding_rs::GB18030)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "名称,简介\n测试,你好\n");
    }
}
