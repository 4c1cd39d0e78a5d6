//! Temporary media upload: the images that avatars, name materials and certificates refer to.
//!
//! A media id belongs to the appid whose token uploaded it and lives `media_ttl_secs`; other
//! endpoints answer 40007 for anyone else's or an expired one (NOTES.md, "Media"). The format
//! is judged by the bytes, like [`crate::image::ImageKind::sniff`], never by the file name.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::api::{changed, err, Ctx, Reply};
use super::state::{Media, State};
use crate::image::{ImageKind, MAX_IMAGE_BYTES};

/// `media/upload?type=image`, multipart field `media`.
pub fn upload(st: &mut State, ctx: &Ctx) -> Reply {
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
    if ImageKind::sniff(&file.bytes).is_none() {
        return Err(err(40005, "invalid file type: not BMP, JPEG, GIF or PNG"));
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
            created_at,
            expires_ms: ctx.now + st.rules.media_ttl_secs * 1000,
        },
    );
    changed(json!({ "type": "image", "media_id": media_id, "created_at": created_at }))
}
