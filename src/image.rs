//! Image checks shared by manifest validation and media upload.
//!
//! WeChat accepts BMP, JPEG, GIF and PNG of at most 2 MB for avatars and certificates. We
//! judge the format by the file's first bytes, never by its name, so a renamed text file is
//! caught before any call is made.

use std::path::Path;

/// WeChat's size limit for image media: 2 MB.
pub const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024;

/// The image formats WeChat accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Bmp,
    Jpeg,
    Gif,
    Png,
}

impl ImageKind {
    /// The format of `bytes`, judged by their magic number.
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageKind::Gif)
        } else if bytes.starts_with(b"BM") && bytes.len() >= 26 {
            Some(ImageKind::Bmp)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Bmp => "image/bmp",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Gif => "image/gif",
            ImageKind::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Bmp => "bmp",
            ImageKind::Jpeg => "jpg",
            ImageKind::Gif => "gif",
            ImageKind::Png => "png",
        }
    }
}

/// Why an image cannot be sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("cannot read {path}: {reason} / 无法读取图片")]
    Unreadable { path: String, reason: String },
    #[error(
        "{path} is not a BMP, JPEG, GIF or PNG image (judged by its content) / 图片格式只支持 BMP、JPEG、GIF、PNG"
    )]
    NotAnImage { path: String },
    #[error("{path} is {size} bytes, over WeChat's 2 MB limit / 图片大小不能超过 2M")]
    TooLarge { path: String, size: u64 },
    #[error("{path} is empty / 图片文件为空")]
    Empty { path: String },
}

/// An image file read and checked: its bytes, format and SHA-256.
#[derive(Debug, Clone)]
pub struct Image {
    pub bytes: Vec<u8>,
    pub kind: ImageKind,
    pub sha256: String,
    pub file_name: String,
}

impl Image {
    /// Reads `path` and checks it is an accepted image of at most 2 MB.
    pub fn load(path: &Path) -> Result<Image, ImageError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path)
            .map_err(|e| ImageError::Unreadable { path: shown.clone(), reason: e.to_string() })?;
        if meta.len() > MAX_IMAGE_BYTES {
            return Err(ImageError::TooLarge { path: shown, size: meta.len() });
        }
        let bytes =
            std::fs::read(path).map_err(|e| ImageError::Unreadable { path: shown.clone(), reason: e.to_string() })?;
        Image::from_bytes(&shown, bytes)
    }

    /// Checks bytes already in memory; `name` is used in messages and as the upload's file name.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Image, ImageError> {
        if bytes.is_empty() {
            return Err(ImageError::Empty { path: name.to_string() });
        }
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            return Err(ImageError::TooLarge { path: name.to_string(), size: bytes.len() as u64 });
        }
        let kind = ImageKind::sniff(&bytes).ok_or_else(|| ImageError::NotAnImage { path: name.to_string() })?;
        let sha256 = sha256_hex(&bytes);
        let file_name = Path::new(name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("image.{}", kind.extension()));
        Ok(Image { bytes, kind, sha256, file_name })
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageKind::Png));
        assert_eq!(ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::sniff(b"GIF89a......"), Some(ImageKind::Gif));
        assert_eq!(ImageKind::sniff(b"hello, I am text"), None);
    }

    #[test]
    fn rejects_text_and_oversize() {
        let err = Image::from_bytes("a.png", b"not an image".to_vec()).unwrap_err();
        assert!(matches!(err, ImageError::NotAnImage { .. }));
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_IMAGE_BYTES as usize + 1, 0);
        assert!(matches!(Image::from_bytes("big.png", big).unwrap_err(), ImageError::TooLarge { .. }));
    }

    #[test]
    fn sha256_is_stable() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
