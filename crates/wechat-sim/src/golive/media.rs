//! The go-live uploads: `/wxa/uploadmedia` (the pictures and video of `submit_audit`'s
//! `preview_info` and `feedback_stuff`, golive.md §3.6) and `uploadprivacyextfile` (a custom
//! privacy guide, §1.2).
//!
//! Rules: `uploadmedia` takes the multipart field `media`: a PNG, JPEG or GIF of at most
//! 2 MB (`type` `image`), or an MP4 of at most 10 MB (`type` `video`), judged by the bytes;
//! anything else 40005, too large 40009 (image) / 40006 (video), no field 41005. The media id
//! (`mediaid`) belongs to the uploading mini-program and lives 3 days. `uploadprivacyextfile`
//! takes the field `file`: plain UTF-8 text of at most 100 KB (else 86073 [assumed]), and
//! answers `ext_file_media_id`, usable in `owner_setting.ext_file_media_id`.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{app, secs};
use crate::api::{changed, err, ApiError, Ctx, Reply, UploadFile};
use crate::state::{Media, State};
use wechat_open::image::MAX_IMAGE_BYTES;

/// The largest video `uploadmedia` takes.
const MAX_VIDEO_BYTES: usize = 10 * 1024 * 1024;
/// The largest privacy guide file.
const MAX_GUIDE_BYTES: usize = 100 * 1024;
/// How long these media live: 3 days.
const TTL_MS: u64 = 3 * 24 * 3600 * 1000;

fn file<'a>(ctx: &'a Ctx, field: &str) -> Result<&'a UploadFile, ApiError> {
    ctx.upload
        .and_then(|u| u.file.as_ref())
        .ok_or_else(|| err(41005, format!("media data missing: multipart field \"{field}\"")))
}

fn keep(st: &mut State, ctx: &Ctx, f: &UploadFile) -> Result<String, ApiError> {
    let appid = app(st, ctx)?.appid.clone();
    let media_id = st.new_media_id();
    st.media.insert(
        media_id.clone(),
        Media {
            media_id: media_id.clone(),
            appid,
            sha256: hex::encode(Sha256::digest(&f.bytes)),
            size: f.bytes.len(),
            filename: f.filename.clone(),
            content_type: f.content_type.clone(),
            decoded: f.decoded.clone(),
            created_at: secs(ctx.now),
            expires_ms: ctx.now + TTL_MS,
        },
    );
    Ok(media_id)
}

/// `/wxa/uploadmedia`.
pub(crate) fn upload_media(st: &mut State, ctx: &Ctx) -> Reply {
    app(st, ctx)?;
    let f = file(ctx, "media")?;
    let is_mp4 = f.bytes.get(4..8) == Some(b"ftyp");
    let kind = match &f.decoded {
        Some(d) if d.format != "bmp" && d.error.is_none() => {
            if f.bytes.len() as u64 > MAX_IMAGE_BYTES {
                return Err(err(40009, "invalid image size: over 2 MB"));
            }
            "image"
        }
        None if is_mp4 => {
            if f.bytes.len() > MAX_VIDEO_BYTES {
                return Err(err(40006, "invalid video size: over 10 MB"));
            }
            "video"
        }
        _ => return Err(err(40005, "invalid file type: PNG, JPEG, GIF or MP4")),
    };
    let media_id = keep(st, ctx, f)?;
    changed(json!({ "type": kind, "mediaid": media_id }))
}

/// `uploadprivacyextfile`.
pub(crate) fn upload_privacy_file(st: &mut State, ctx: &Ctx) -> Reply {
    app(st, ctx)?;
    let f = file(ctx, "file")?;
    if f.bytes.len() > MAX_GUIDE_BYTES || std::str::from_utf8(&f.bytes).is_err() {
        return Err(err(86073, "invalid file: plain UTF-8 text of at most 100 KB"));
    }
    let media_id = keep(st, ctx, f)?;
    changed(json!({ "ext_file_media_id": media_id }))
}
