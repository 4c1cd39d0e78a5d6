//! Temporary media: images uploaded once per appid and reused while WeChat keeps them.
//!
//! WeChat keeps temporary media three days; we reuse an upload for three days less a margin,
//! so a media id never expires between our check and WeChat's. A media id only works for the
//! appid that uploaded it (40007 otherwise), so uploads are keyed by SHA-256 *and* appid. The
//! SHA-256 is of the bytes uploaded ([`Image::sha256`]): for a BMP, of the PNG made from it.

use wechat_open::api::MEDIA_UPLOAD_PATH;
use wechat_open::{ApiError, TokenKind};

use super::Api;
use crate::image::Image;
use crate::ledger::now_secs;

/// How long an upload is reused: three days less six hours.
pub const MEDIA_REUSE_SECS: i64 = 3 * 24 * 3600 - 6 * 3600;

impl Api {
    /// The media id of `image` for `appid`: a recent upload of the same bytes, or a new one.
    pub async fn media_id(&self, appid: &str, image: &Image) -> Result<String, ApiError> {
        let since = now_secs() - MEDIA_REUSE_SECS;
        match self.ledger.media_id(&image.sha256, appid, since).await {
            Ok(Some(id)) => return Ok(id),
            Ok(None) => {}
            Err(e) => tracing::warn!("could not read the media cache: {e}"),
        }
        let request = wechat_open::calls::request_key(&image.sha256);
        let uploaded = self
            .tokens
            .with_token(Some(appid), |token| async move {
                self.heed_stated_limit(MEDIA_UPLOAD_PATH, appid, &token).await;
                let upload = || self.client.upload_image(&token, &image.bytes, &image.file_name, image.kind);
                self.calls.send(Some(appid), MEDIA_UPLOAD_PATH, request, TokenKind::Authorizer, false, upload).await
            })
            .await?;
        let created = if uploaded.created_at > 0 { uploaded.created_at.min(now_secs()) } else { now_secs() };
        if let Err(e) = self.ledger.put_media(&image.sha256, appid, &uploaded.media_id, created).await {
            tracing::warn!("could not record an upload in the ledger: {e}");
        }
        Ok(uploaded.media_id)
    }
}
