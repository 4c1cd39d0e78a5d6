//! The permission sets (`func_info`) each authorizer granted the platform, as WeChat last
//! told them: `api_query_auth` (a registration, an authorization pushed to `serve`),
//! `api_get_authorizer_info` (`tokens recover`) or a `tokens import` that carries them.
//! `check` reads them to say, before a run, which account lacks a set its steps need.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};

use super::{now_secs, Ledger, LedgerError};

/// `1,3,17` ↔ `[1, 3, 17]`: readable with `sqlite3`.
fn to_text(ids: &[i64]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn from_text(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|id| id.trim().parse().ok()).collect()
}

impl Ledger {
    /// Stores (or replaces) the permission sets of an authorizer.
    pub async fn put_permissions(&self, appid: &str, ids: &[i64], source: &str) -> Result<(), LedgerError> {
        self.put_many_permissions(vec![(appid.to_string(), ids.to_vec())], source).await
    }

    /// Stores (or replaces) the permission sets of many authorizers in one write.
    pub async fn put_many_permissions(&self, sets: Vec<(String, Vec<i64>)>, source: &str) -> Result<(), LedgerError> {
        let source = source.to_string();
        self.call(move |c| {
            super::atomic(c, |c| {
                let mut stmt = c.prepare_cached(
                    "INSERT INTO permissions (appid, func_ids, source, learned_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (appid) DO UPDATE SET
                        func_ids = excluded.func_ids, source = excluded.source, learned_at = excluded.learned_at",
                )?;
                let now = now_secs();
                for (appid, ids) in &sets {
                    stmt.execute(params![appid, to_text(ids), source, now])?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The stored permission set ids of these authorizers (those the ledger has), by appid,
    /// in one read.
    pub async fn permissions_of(&self, appids: Vec<String>) -> Result<BTreeMap<String, Vec<i64>>, LedgerError> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached("SELECT func_ids FROM permissions WHERE appid = ?1")?;
            let mut known = BTreeMap::new();
            for appid in appids {
                if let Some(ids) = stmt.query_row([&appid], |r| r.get::<_, String>(0)).optional()? {
                    known.insert(appid, from_text(&ids));
                }
            }
            Ok(known)
        })
        .await
    }

    /// Every authorizer's stored permission set ids, by appid.
    pub async fn all_permissions(&self) -> Result<BTreeMap<String, Vec<i64>>, LedgerError> {
        self.call(|c| {
            let mut stmt = c.prepare("SELECT appid, func_ids FROM permissions")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, from_text(&r.get::<_, String>(1)?))))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permissions_are_replaced_by_the_newest_answer() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        ledger.put_permissions("wx0000000000000001", &[30, 17, 30], "import").await.unwrap();
        ledger.put_permissions("wx0000000000000002", &[3], "recover").await.unwrap();
        ledger.put_permissions("wx0000000000000001", &[18, 17], "authorized").await.unwrap();
        let all = ledger.all_permissions().await.unwrap();
        let want: BTreeMap<String, Vec<i64>> =
            [("wx0000000000000001".to_string(), vec![17, 18]), ("wx0000000000000002".to_string(), vec![3])].into();
        assert_eq!(all, want);
        // Asked for by appid: those the ledger has.
        let some = ledger.permissions_of(vec!["wx0000000000000002".into(), "wx0000000000000003".into()]).await.unwrap();
        assert_eq!(some, [("wx0000000000000002".to_string(), vec![3])].into());
    }
}
