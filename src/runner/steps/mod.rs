//! The steps of a row (DESIGN §4), one file each. Every step has the same shape:
//! - `decide` reads live state with read-only calls and says what it would do — the same
//!   reading reconciles a call a crashed run started (the live state shows whether it took
//!   effect);
//! - `apply` acts on a `Set` decision: it records the state-changing call as started
//!   (durably) before sending it, and returns where the step ends up;
//! - `poll`, for steps in review, asks how the audit went.

mod audit;
mod avatar;
mod categories;
mod code;
mod domains;
mod nickname;
mod privacy;
mod rebind;
mod register;
mod release;
mod signature;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ledger::{now_secs, Ledger, LedgerError, Queued, StepRecord};
use crate::lifecycle::{Decision, StepOutcome};
use crate::manifest::{Row, StepKind};
use crate::wechat::Api;
use wechat_open::api::{AccountBasicInfo, AccountCategories, GetAccountBasicInfo, GetCategory};
use wechat_open::ApiError;

/// Why a step could not be worked on.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Api(ApiError),
    /// The run was interrupted before a call the step needed: the step stays as the ledger
    /// has it (a call recorded as started is reconciled by the next run).
    #[error("the run was interrupted before this step's next call")]
    Interrupted,
    /// The ledger failed: the run stops (exit 1) rather than act without a record.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Something the row names changed since validation (an image file): needs a person.
    #[error("{0}")]
    Input(String),
}

impl From<ApiError> for StepError {
    /// A call refused because the run was interrupted is no outcome of the step's.
    fn from(e: ApiError) -> StepError {
        match e {
            ApiError::Interrupted { .. } => StepError::Interrupted,
            e => StepError::Api(e),
        }
    }
}

/// What a step works with.
pub struct StepCtx<'a> {
    pub api: &'a Api,
    pub ledger: &'a Ledger,
    pub row: &'a Row,
    /// The mini-program; empty for `register` until it exists.
    pub appid: String,
    /// The step's record, as loaded or as this run left it.
    pub record: StepRecord,
    /// What `decide` read, for `apply` right after it in the same attempt (not read twice).
    pub live: Live,
    /// The step's clock, read once when the run takes the step up: what every date that
    /// follows from the time (a quota's reset at Beijing midnight, the month's count of
    /// registrations, how long a review has lasted) is judged at.
    pub now: DateTime<Utc>,
}

/// Live state `decide` read.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub info: Option<AccountBasicInfo>,
    pub categories: Option<AccountCategories>,
    /// `getversioninfo`, as the `code` step read it.
    pub version: Option<wechat_open::golive::code::VersionInfo>,
    /// `getprivacysetting` once the scan answered, as the `privacy` step read it.
    pub privacy: Option<wechat_open::golive::privacy::PrivacySetting>,
}

impl StepCtx<'_> {
    /// Records, durably, that a state-changing call is about to be sent, with what the live
    /// state was before it. The write is queued at once; what it returns is given to the
    /// call ([`Api::call_after`]), which is sent only once it is committed, or awaited
    /// before anything else is done.
    pub fn mark_started(&mut self, api: &str, before: Value) -> Queued {
        self.record.start(api, &before, now_secs());
        self.ledger.save_started_now(&self.record)
    }

    /// `getaccountbasicinfo`, as `decide` just read it or freshly.
    pub async fn basic_info(&mut self) -> Result<AccountBasicInfo, StepError> {
        match self.live.info.take() {
            Some(info) => Ok(info),
            None => Ok(self.api.call(&self.appid, &GetAccountBasicInfo).await?),
        }
    }

    /// `getcategory`, as `decide` just read it or freshly.
    pub async fn account_categories(&mut self) -> Result<AccountCategories, StepError> {
        match self.live.categories.take() {
            Some(live) => Ok(live),
            None => Ok(self.api.call(&self.appid, &GetCategory).await?),
        }
    }

    /// True when an earlier run started a state-changing call and never saw it finish.
    pub fn was_started(&self) -> bool {
        self.record.started_api.is_some()
    }

    /// A field of what the live state was before the started call.
    pub fn started_info(&self, key: &str) -> Option<Value> {
        let info: Value = serde_json::from_str(self.record.started_info.as_deref()?).ok()?;
        info.get(key).cloned()
    }

    /// Skip, or — when an earlier call was started — done by that call.
    pub fn already_so(&self, what: impl Into<String>) -> Decision {
        if self.was_started() {
            Decision::Reconciled(format!("{} (applied by an earlier run's call)", what.into()))
        } else {
            Decision::Skip(what.into())
        }
    }
}

/// Reads an image the manifest named. It was checked at validation, so a failure here means
/// the file changed since: a person must look.
pub fn load_image(path: &std::path::Path) -> Result<crate::image::Image, StepError> {
    crate::image::Image::load(path).map_err(|e| StepError::Input(format!("{e}; fix the file and run again")))
}

/// What `kind` would do for this row now.
pub async fn decide(kind: StepKind, ctx: &mut StepCtx<'_>) -> Result<Decision, StepError> {
    match kind {
        StepKind::Register => register::decide(ctx).await,
        StepKind::Nickname => nickname::decide(ctx).await,
        StepKind::Avatar => avatar::decide(ctx).await,
        StepKind::Signature => signature::decide(ctx).await,
        StepKind::Categories => categories::decide(ctx).await,
        StepKind::RebindAdmin => rebind::decide(ctx).await,
        StepKind::Domains => domains::decide(ctx).await,
        StepKind::Code => code::decide(ctx).await,
        StepKind::Privacy => privacy::decide(ctx).await,
        StepKind::Audit => audit::decide(ctx).await,
        StepKind::Release => release::decide(ctx).await,
    }
}

/// Carries out a `Set` decision.
pub async fn apply(kind: StepKind, ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    match kind {
        StepKind::Register => register::apply(ctx).await,
        StepKind::Nickname => nickname::apply(ctx).await,
        StepKind::Avatar => avatar::apply(ctx).await,
        StepKind::Signature => signature::apply(ctx).await,
        StepKind::Categories => categories::apply(ctx).await,
        StepKind::RebindAdmin => rebind::apply(ctx).await,
        StepKind::Domains => domains::apply(ctx).await,
        StepKind::Code => code::apply(ctx).await,
        StepKind::Privacy => privacy::apply(ctx).await,
        StepKind::Audit => audit::apply(ctx).await,
        StepKind::Release => release::apply(ctx).await,
    }
}

/// Asks how a step in review is doing.
pub async fn poll(kind: StepKind, ctx: &mut StepCtx<'_>) -> Result<StepOutcome, StepError> {
    match kind {
        StepKind::Nickname => nickname::poll(ctx).await,
        StepKind::Categories => categories::poll(ctx).await,
        StepKind::Audit => audit::poll(ctx).await,
        _ => Ok(StepOutcome::from_decision(decide(kind, ctx).await?)),
    }
}
