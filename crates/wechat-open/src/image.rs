//! The platform's rule for images: which formats it takes, judged by the bytes, and how large.
//!
//! The settings pages accept BMP, JPEG, GIF and PNG of at most 2 MB, but every image reaches
//! those calls as temporary media, and temporary media take PNG, JPEG and GIF only (see the
//! "Media" notes of the API documents). So a BMP has to become one of those before it is
//! uploaded; how is the caller's business. The format is judged by the first bytes, never by
//! a file's name, so a renamed text file is caught before any call is made.

/// WeChat's size limit for image media: 2 MB.
pub const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024;

/// The image formats the settings pages accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// BMP: accepted by the settings pages, not as temporary media.
    Bmp,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// PNG.
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

    /// Whether temporary media take this format as it is (BMP must be converted first).
    pub fn uploadable(self) -> bool {
        self != ImageKind::Bmp
    }

    /// The MIME type an upload declares.
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Bmp => "image/bmp",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Gif => "image/gif",
            ImageKind::Png => "image/png",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Bmp => "bmp",
            ImageKind::Jpeg => "jpg",
            ImageKind::Gif => "gif",
            ImageKind::Png => "png",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageKind::Png));
        assert_eq!(ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::sniff(b"GIF89a......"), Some(ImageKind::Gif));
        assert_eq!(ImageKind::sniff(b"BM........................"), Some(ImageKind::Bmp));
        assert_eq!(ImageKind::sniff(b"BM short"), None);
        assert_eq!(ImageKind::sniff(b"hello, I am text"), None);
        assert!(!ImageKind::Bmp.uploadable() && ImageKind::Gif.uploadable());
    }
}
