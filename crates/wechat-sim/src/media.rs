//! Temporary media upload: the images that avatars, name materials and certificates refer to.
//!
//! A media id belongs to the appid whose token uploaded it and lives `media_ttl_secs`; other
//! endpoints answer 40007 for anyone else's or an expired one (NOTES.md, "Media"). The format
//! is judged by the bytes, like [`wechat_open::image::ImageKind::sniff`], never by the file name.
//! Temporary media take PNG, JPEG and GIF only: a BMP is refused with 40005, as the live
//! platform does. The simulator decodes what it receives (with the same BMP and PNG codecs
//! wxprov converts with) and records the format and dimensions, so a test can check that a BMP
//! arrived as a PNG of the same size; a PNG that does not decode is refused with 40005 too
//! [assumed]. JPEG and GIF are not decoded (no codec for them): their dimensions stay unknown.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::api::{changed, err, Ctx, Reply};
use super::state::{Media, State};
use wechat_open::image::{ImageKind, MAX_IMAGE_BYTES};

/// What the simulator made of an upload's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Decoded {
    /// `png`, `jpeg`, `gif` or `bmp`, judged by the bytes.
    pub format: String,
    /// Pixels, for the formats decoded (PNG, BMP) when they decode.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Why a PNG or BMP did not decode.
    pub error: Option<String>,
}

/// Decodes `bytes` as far as the simulator can; `None` when they are no image format at all.
pub(super) fn inspect(bytes: &[u8]) -> Option<Decoded> {
    let kind = ImageKind::sniff(bytes)?;
    let format = match kind {
        ImageKind::Png => image::ImageFormat::Png,
        ImageKind::Bmp => image::ImageFormat::Bmp,
        ImageKind::Jpeg | ImageKind::Gif => {
            return Some(Decoded { format: name(kind).into(), width: None, height: None, error: None })
        }
    };
    Some(match image::load_from_memory_with_format(bytes, format) {
        Ok(img) => {
            Decoded { format: name(kind).into(), width: Some(img.width()), height: Some(img.height()), error: None }
        }
        Err(e) => Decoded { format: name(kind).into(), width: None, height: None, error: Some(e.to_string()) },
    })
}

fn name(kind: ImageKind) -> &'static str {
    match kind {
        ImageKind::Png => "png",
        ImageKind::Jpeg => "jpeg",
        ImageKind::Gif => "gif",
        ImageKind::Bmp => "bmp",
    }
}

/// `media/upload?type=image`, multipart field `media`.
pub(super) fn upload(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = ctx.appid()?.to_string();
    let Some(upload) = ctx.upload else {
        return Err(err(41005, "media data missing"));
    };
    if upload.kind.as_deref() != Some("image") {
        return Err(err(40004, "invalid media type: only type=image is simulated"));
    }
    let Some(file) = &upload.file else {
        return Err(err(41005, "media data missing: multipart field \"media\""));
    };
    if file.bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(err(40009, "invalid image size: over 2 MB"));
    }
    let Some(decoded) = &file.decoded else {
        return Err(err(40005, "invalid file type: not PNG, JPEG or GIF"));
    };
    if decoded.format == "bmp" {
        return Err(err(40005, "invalid file type: temporary media take PNG, JPEG or GIF, not BMP"));
    }
    if let Some(why) = &decoded.error {
        return Err(err(40005, format!("invalid file type: the {} does not decode ({why})", decoded.format)));
    }
    let media_id = st.new_media_id();
    let created_at = (ctx.now / 1000) as i64;
    st.media.insert(
        media_id.clone(),
        Media {
            media_id: media_id.clone(),
            appid,
            sha256: hex::encode(Sha256::digest(&file.bytes)),
            size: file.bytes.len(),
            filename: file.filename.clone(),
            content_type: file.content_type.clone(),
            decoded: Some(decoded.clone()),
            created_at,
            expires_ms: ctx.now + st.rules.media_ttl_secs * 1000,
        },
    );
    changed(json!({ "type": "image", "media_id": media_id, "created_at": created_at }))
}
