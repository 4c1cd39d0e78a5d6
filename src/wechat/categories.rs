//! The category tree (`getallcategories`), fetched at most once a day per ledger: it is the
//! same for every mini-program of a kind, large, and needed by every run that resolves
//! category names. A successful answer without a tree is an error naming the field, and is
//! never cached: an empty tree would make every category cell look unknown for a day.

use wechat_open::api::{Category, Endpoint, GetAllCategories, CATEGORY_TREE_FIELDS};
use wechat_open::ApiError;

use super::Api;
use crate::ledger::now_secs;

/// How long a fetched tree is reused.
pub const TREE_MAX_AGE_SECS: i64 = 24 * 3600;

const CACHE_KEY: &str = "getallcategories";

impl Api {
    /// The category tree, from the ledger's cache when it is less than a day old, else
    /// fetched with `appid`'s token and cached.
    pub async fn all_categories(&self, appid: &str) -> Result<Vec<Category>, ApiError> {
        if let Some(tree) = self.cached_categories().await {
            return Ok(tree);
        }
        let tree = self.call(appid, &GetAllCategories).await?.into_tree().ok_or_else(|| ApiError::Decode {
            api: GetAllCategories::PATH.to_string(),
            detail: format!("errcode 0 but no category in {CATEGORY_TREE_FIELDS}; the tree is not cached"),
        })?;
        match serde_json::to_string(&tree) {
            Ok(text) => {
                if let Err(e) = self.ledger.cache_put(CACHE_KEY, &text).await {
                    tracing::warn!("could not cache the category tree: {e}");
                }
            }
            Err(e) => tracing::warn!("could not cache the category tree: {e}"),
        }
        Ok(tree)
    }

    /// The tree the ledger cached less than a day ago, if any.
    async fn cached_categories(&self) -> Option<Vec<Category>> {
        let cached = self.ledger.cache_get(CACHE_KEY, now_secs() - TREE_MAX_AGE_SECS).await.ok().flatten()?;
        // An empty tree is never an answer: ledgers of earlier versions may have cached one.
        serde_json::from_str::<Vec<Category>>(&cached).ok().filter(|tree| !tree.is_empty())
    }
}

/// How many stored authorizers are tried when none is named.
pub const MAX_TRIES: usize = 10;

impl Api {
    /// The category tree, fetched with the first of `candidates` allowed to read it (an
    /// official account may not: 48001). The ledger's cache answers without any of them.
    pub async fn all_categories_any(&self, candidates: &[String]) -> Result<Vec<Category>, ApiError> {
        if let Some(tree) = self.cached_categories().await {
            return Ok(tree);
        }
        let mut last = ApiError::Token(
            "no authorizer refresh token is stored to read the category tree with: import one with \
             `wxprov tokens import`"
                .into(),
        );
        for appid in candidates.iter().take(MAX_TRIES) {
            match self.all_categories(appid).await {
                Ok(tree) => return Ok(tree),
                Err(e) if e.errcode() == Some(48001) => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Up to `limit` authorizers whose refresh token the ledger holds, to read shared data
    /// with: the first few of the fleet, never the whole token table.
    pub async fn stored_authorizers(&self, limit: usize) -> Result<Vec<String>, crate::ledger::LedgerError> {
        self.ledger.refreshable_authorizers(limit).await
    }
}
