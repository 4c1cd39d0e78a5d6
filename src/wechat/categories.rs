//! The category tree (`getallcategories`), fetched at most once a day per ledger: it is the
//! same for every mini-program of a kind, large, and needed by every run that resolves
//! category names.

use super::api::{Category, GetAllCategories};
use super::{Api, ApiError};
use crate::ledger::now_secs;

/// How long a fetched tree is reused.
pub const TREE_MAX_AGE_SECS: i64 = 24 * 3600;

const CACHE_KEY: &str = "getallcategories";

impl Api {
    /// The category tree, from the ledger's cache when it is less than a day old, else
    /// fetched with `appid`'s token and cached.
    pub async fn all_categories(&self, appid: &str) -> Result<Vec<Category>, ApiError> {
        let cached = self.ledger.cache_get(CACHE_KEY, now_secs() - TREE_MAX_AGE_SECS).await.ok().flatten();
        if let Some(tree) = cached.and_then(|text| serde_json::from_str::<Vec<Category>>(&text).ok()) {
            return Ok(tree);
        }
        let tree = self.call(appid, &GetAllCategories).await?.category_list.categories;
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
}
