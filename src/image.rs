//! Image checks shared by manifest validation and media upload.
//!
//! The platform's rule (formats judged by their bytes, 2 MB) is [`wechat_open::image`]'s.
//! Temporary media take no BMP, so a BMP is converted to PNG here, once, for validation and
//! upload alike: what is uploaded is what the 2 MB limit applies to and what the media cache
//! is keyed on. The conversion uses the `image` crate with only its BMP and PNG codecs.

use std::io::{Cursor, Read};
use std::path::Path;

use wechat_open::image::{ImageKind, MAX_IMAGE_BYTES};

/// The largest BMP we read to convert. BMPs are uncompressed, so one well over 2 MB can still
/// make a PNG under it; past this size it would not, and decoding it only costs memory.
pub const MAX_BMP_BYTES: u64 = 64 * 1024 * 1024;

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
    #[error(
        "{path} is a BMP, which WeChat does not take; converted to PNG it is {size} bytes, over WeChat's 2 MB limit / 微信不收 BMP 图片，转换成 PNG 后超过 2M"
    )]
    ConvertedTooLarge { path: String, size: u64 },
    #[error("{path} is a {size}-byte BMP, more than wxprov converts ({MAX_BMP_BYTES} bytes) / BMP 图片过大，无法转换")]
    BmpTooLarge { path: String, size: u64 },
    #[error("{path} starts like a BMP image but cannot be read as one: {reason} / BMP 图片无法解码")]
    BadBmp { path: String, reason: String },
    #[error("{path} is empty / 图片文件为空")]
    Empty { path: String },
}

/// An image file read, checked and made ready to upload.
#[derive(Debug, Clone)]
pub struct Image {
    /// What is uploaded: the file's own bytes, or the PNG made from a BMP.
    pub bytes: Vec<u8>,
    /// The format of `bytes` (never BMP).
    pub kind: ImageKind,
    /// SHA-256 of `bytes`: the media cache's key.
    pub sha256: String,
    /// The upload's file name (`logo.bmp` is sent as `logo.png`).
    pub file_name: String,
    /// The file's own format, BMP when it was converted.
    pub source_kind: ImageKind,
    /// SHA-256 of the file as the sheet points at it: what the step's input is recorded with.
    pub source_sha256: String,
}

impl Image {
    /// Reads `path` and checks it is an accepted image that uploads as at most 2 MB.
    pub fn load(path: &Path) -> Result<Image, ImageError> {
        let shown = path.display().to_string();
        let unreadable = |e: std::io::Error| ImageError::Unreadable { path: shown.clone(), reason: e.to_string() };
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        if size > MAX_IMAGE_BYTES {
            // Only a BMP may shrink under the limit; anything else is refused unread.
            let mut head = Vec::with_capacity(26);
            file.by_ref().take(26).read_to_end(&mut head).map_err(unreadable)?;
            if ImageKind::sniff(&head) != Some(ImageKind::Bmp) {
                return Err(ImageError::TooLarge { path: shown, size });
            }
            if size > MAX_BMP_BYTES {
                return Err(ImageError::BmpTooLarge { path: shown, size });
            }
        }
        let bytes = std::fs::read(path).map_err(unreadable)?;
        Image::from_bytes(&shown, bytes)
    }

    /// Checks bytes already in memory; `name` is used in messages and for the upload's file name.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Image, ImageError> {
        let path = || name.to_string();
        if bytes.is_empty() {
            return Err(ImageError::Empty { path: path() });
        }
        let source_kind = ImageKind::sniff(&bytes).ok_or_else(|| ImageError::NotAnImage { path: path() })?;
        let source_sha256 = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        let (bytes, kind) = if source_kind.uploadable() {
            if size > MAX_IMAGE_BYTES {
                return Err(ImageError::TooLarge { path: path(), size });
            }
            (bytes, source_kind)
        } else {
            if size > MAX_BMP_BYTES {
                return Err(ImageError::BmpTooLarge { path: path(), size });
            }
            let png = bmp_to_png(&bytes).map_err(|reason| ImageError::BadBmp { path: path(), reason })?;
            if png.len() as u64 > MAX_IMAGE_BYTES {
                return Err(ImageError::ConvertedTooLarge { path: path(), size: png.len() as u64 });
            }
            (png, ImageKind::Png)
        };
        let sha256 = if kind == source_kind { source_sha256.clone() } else { sha256_hex(&bytes) };
        let stem = Path::new(name).file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = if stem.is_empty() { "image".to_string() } else { stem };
        let file_name = if kind == source_kind {
            Path::new(name)
                .file_name()
                .map_or_else(|| format!("{stem}.{}", kind.extension()), |n| n.to_string_lossy().into_owned())
        } else {
            format!("{stem}.{}", kind.extension())
        };
        Ok(Image { bytes, kind, sha256, file_name, source_kind, source_sha256 })
    }
}

/// Decodes a BMP and encodes it as PNG, keeping its pixels and alpha.
fn bmp_to_png(bmp: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bmp), image::ImageFormat::Bmp);
    // The default limits (512 MiB of allocation) would let a 64 MB file that claims huge
    // dimensions take far more memory than a 2 MB upload can need.
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| e.to_string())?;
    let mut png = Cursor::new(Vec::new());
    decoded.write_to(&mut png, image::ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(png.into_inner())
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

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

    fn bmp(img: image::RgbImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Bmp).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_bmp_uploads_as_the_same_picture_in_png() {
        let picture = image::RgbImage::from_fn(7, 3, |x, y| image::Rgb([x as u8 * 30, y as u8 * 80, 200]));
        let source = bmp(picture.clone());
        let image = Image::from_bytes("shots/logo.bmp", source.clone()).unwrap();
        assert_eq!((image.kind, image.source_kind), (ImageKind::Png, ImageKind::Bmp));
        assert_eq!(image.file_name, "logo.png");
        assert_eq!(image.source_sha256, sha256_hex(&source));
        assert_eq!(image.sha256, sha256_hex(&image.bytes));
        let back = image::load_from_memory_with_format(&image.bytes, image::ImageFormat::Png).unwrap();
        assert_eq!(back.to_rgb8(), picture);
        // The same BMP converts to the same bytes: the media cache finds it again.
        assert_eq!(Image::from_bytes("logo.bmp", source).unwrap().sha256, image.sha256);
    }

    #[test]
    fn the_limit_is_on_the_png_not_the_bmp() {
        // 1024×1024 of one colour: a 3 MB BMP, a PNG of a few kilobytes.
        let flat = bmp(image::RgbImage::from_pixel(1024, 1024, image::Rgb([10, 120, 30])));
        assert!(flat.len() as u64 > MAX_IMAGE_BYTES);
        let image = Image::from_bytes("flat.bmp", flat).unwrap();
        assert!((image.bytes.len() as u64) < MAX_IMAGE_BYTES);

        // The same size of noise does not compress: the PNG is over 2 MB too.
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x2545_f491);
        let noise = image::RgbImage::from_fn(1024, 1024, |_, _| {
            let px: [u8; 3] = rng.gen();
            image::Rgb(px)
        });
        let err = Image::from_bytes("noise.bmp", bmp(noise)).unwrap_err();
        assert!(matches!(err, ImageError::ConvertedTooLarge { size, .. } if size > MAX_IMAGE_BYTES), "{err}");
    }

    #[test]
    fn a_broken_bmp_is_named() {
        let mut broken = bmp(image::RgbImage::from_pixel(4, 4, image::Rgb([0, 0, 0])));
        broken.truncate(30);
        let err = Image::from_bytes("broken.bmp", broken).unwrap_err();
        assert!(matches!(err, ImageError::BadBmp { .. }), "{err}");
    }

    #[test]
    fn load_reads_a_large_bmp_but_not_a_large_png() {
        let dir = tempfile::tempdir().unwrap();
        let flat = dir.path().join("flat.bmp");
        std::fs::write(&flat, bmp(image::RgbImage::from_pixel(1024, 1024, image::Rgb([200, 0, 0])))).unwrap();
        assert_eq!(Image::load(&flat).unwrap().kind, ImageKind::Png);
        let big = dir.path().join("big.png");
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.resize(MAX_IMAGE_BYTES as usize + 1, 0);
        std::fs::write(&big, bytes).unwrap();
        assert!(matches!(Image::load(&big).unwrap_err(), ImageError::TooLarge { .. }));
    }
}
