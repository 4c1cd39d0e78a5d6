//! Uploaded temporary media, keyed by the file's SHA-256 and the uploading appid.
//!
//! WeChat keeps temporary media for three days and rejects a media id used by another appid
//! (40007), so an upload is reused only by the same appid and only while it is young enough.

use rusqlite::{params, OptionalExtension};

use super::{Ledger, LedgerError};

impl Ledger {
    /// A media id uploaded by `appid` for the file with `sha256` no earlier than `min_created_at`.
    pub async fn media_id(
        &self,
        sha256: &str,
        appid: &str,
        min_created_at: i64,
    ) -> Result<Option<String>, LedgerError> {
        let (sha256, appid) = (sha256.to_string(), appid.to_string());
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT media_id FROM media WHERE sha256 = ?1 AND appid = ?2 AND created_at >= ?3",
                params![sha256, appid, min_created_at],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    /// Records an upload.
    pub async fn put_media(
        &self,
        sha256: &str,
        appid: &str,
        media_id: &str,
        created_at: i64,
    ) -> Result<(), LedgerError> {
        let (sha256, appid, media_id) = (sha256.to_string(), appid.to_string(), media_id.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO media (sha256, appid, media_id, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (sha256, appid) DO UPDATE SET media_id = excluded.media_id, created_at = excluded.created_at",
                params![sha256, appid, media_id, created_at],
            )?;
            Ok(())
        })
        .await
    }
}
