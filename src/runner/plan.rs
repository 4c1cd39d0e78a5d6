//! What `run` would do, row by row and step by step, without doing it: the ledger's record
//! where it settles the matter (done, failed, deferred until later), otherwise the same
//! read of live state `run` makes (read-only calls only) and the same [`Decision`].

use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;

use super::steps::{self, StepCtx, StepError};
use super::Unblocks;
use crate::ledger::Ledger;
use crate::lifecycle::{awaits_registration, due, Decision, Due, StepRecord, StepState};
use crate::manifest::{Loaded, Row, StepKind};
use crate::wechat::Api;

/// One planned step: its row, the step (`None` for a row rejected by validation) and what
/// `run` would do about it — the decision itself, not a copy of its words.
#[derive(Debug, Clone)]
pub struct Planned {
    pub line: u64,
    pub identity: String,
    pub step: Option<StepKind>,
    pub decision: Decision,
}

impl Planned {
    /// The step's name, or `row` for a rejected row.
    pub fn step_name(&self) -> &'static str {
        self.step.map_or("row", StepKind::as_str)
    }

    /// `set`, `skip`, `defer`, `block`, `fail`, `wait`, `review` or `done`.
    pub fn action(&self) -> &'static str {
        self.decision.action()
    }

    pub fn detail(&self) -> &str {
        self.decision.detail()
    }

    /// The state `run` would leave the step in (`failed` for a rejected row).
    pub fn state(&self) -> StepState {
        self.decision.expected_state()
    }
}

/// `plan --format json` shows each planned step as line, row, step, action and detail.
impl Serialize for Planned {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Line<'a> {
            line: u64,
            identity: &'a str,
            step: &'a str,
            action: &'a str,
            detail: &'a str,
        }
        Line {
            line: self.line,
            identity: &self.identity,
            step: self.step_name(),
            action: self.action(),
            detail: self.detail(),
        }
        .serialize(serializer)
    }
}

/// Plans every row of `loaded`.
pub async fn plan(
    api: Arc<Api>,
    ledger: Ledger,
    mut loaded: Loaded,
    concurrency: usize,
    retry_failed: bool,
) -> anyhow::Result<Vec<Planned>> {
    let known = Arc::new(ledger.all_steps().await?);
    let appids = Arc::new(ledger.row_appids().await?);
    super::adopt_identities(&mut loaded.rows, &appids);
    let unblocks = Arc::new(Unblocks::read(&ledger).await?);
    let now = chrono::Utc::now();
    let mut planned: Vec<Planned> = loaded
        .rejected
        .iter()
        .map(|r| Planned {
            line: r.line,
            identity: String::new(),
            step: None,
            decision: Decision::Fail {
                errcode: None,
                message: r.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "),
                hint: None,
            },
        })
        .collect();
    let mut stream = futures::stream::iter(loaded.rows.iter().map(|row| {
        let (api, ledger, known, appids) = (api.clone(), ledger.clone(), known.clone(), appids.clone());
        let unblocks = unblocks.clone();
        async move {
            let appid = row.appid.clone().or_else(|| appids.get(&row.identity).cloned());
            let ledgered = Ledgered { retry_failed, now, cause_changed_at: unblocks.for_row(row, &appids) };
            let mut out = Vec::new();
            for step in &row.steps {
                let record = known.get(&(row.identity.clone(), step.kind));
                let decision = plan_step(&api, &ledger, row, step, record, appid.as_deref(), &ledgered).await?;
                out.push(Planned { line: row.line, identity: row.identity.clone(), step: Some(step.kind), decision });
            }
            Ok::<_, StepError>(out)
        }
    }))
    .buffer_unordered(concurrency.max(1));
    while let Some(rows) = stream.next().await {
        planned.extend(rows?);
    }
    planned.sort_by_key(|p| p.line);
    Ok(planned)
}

/// What [`due`] judges a row's steps by, besides their records.
struct Ledgered {
    retry_failed: bool,
    now: chrono::DateTime<chrono::Utc>,
    cause_changed_at: Option<i64>,
}

async fn plan_step(
    api: &Api,
    ledger: &Ledger,
    row: &Row,
    step: &crate::manifest::Step,
    record: Option<&StepRecord>,
    appid: Option<&str>,
    ledgered: &Ledgered,
) -> Result<Decision, StepError> {
    let record = record.filter(|r| r.input_hash == step.input_hash);
    if due(record, step, ledgered.retry_failed, ledgered.now, ledgered.cause_changed_at) == Due::Keep {
        if let Some(r) = record {
            return Ok(r.kept());
        }
    }
    if awaits_registration(step.kind, appid) {
        return Ok(Decision::Wait("after the registration".into()));
    }
    let record = StepRecord::of_input(record.cloned(), &row.identity, step);
    // The step's clock, read once, as `run` does.
    let now = chrono::Utc::now();
    let appid = appid.unwrap_or_default().to_string();
    let mut ctx = StepCtx { api, ledger, row, appid, record, live: Default::default(), now };
    match steps::decide(step.kind, &mut ctx).await {
        Ok(decision) => Ok(decision),
        Err(StepError::Api(e)) if e.class() == wechat_open::errcode::ErrClass::Stop => Err(StepError::Api(e)),
        Err(StepError::Api(e)) => Ok(Decision::from_error(&e, now)),
        Err(e) => Err(e),
    }
}
