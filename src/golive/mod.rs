//! Go-live's inputs (DESIGN §9): the job's `[golive]` defaults, the sheet's go-live columns,
//! which rows go live, and each row's values resolved into what the go-live steps
//! (`domains`, `code`, `privacy`, `audit`, `release`) will send, with their input hashes.
//!
//! [`Resolver::resolve`] is the one place that decides whether a row goes live: its own
//! `template_id` cell, or the job's `[golive] template_id` for a registration row or a row
//! whose `golive` cell is `1` — so a job default never replaces the code of a mini-program
//! already live on its merchant's own code. A go-live cell on a row that does not go live is
//! a validation error, never ignored. Each value is the row's cell or, when it is empty, the
//! job's default; the files they name are read and checked once per file.

pub mod audit;
pub mod domains;
pub mod ext_json;
pub mod privacy;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::manifest::columns::{Column, Columns};
use crate::manifest::step::{input_hash, Step, StepKind};
use crate::manifest::Reason;
pub use audit::AuditItem;
pub use domains::{DomainType, ServerDomains};
pub use ext_json::{ExtJson, ExtTemplate};
pub use privacy::PrivacyGuide;

/// `user_version` is at most this many characters (golive.md §3.2).
pub const USER_VERSION_CHARS: usize = 64;

/// The job file's `[golive]` section: each value is the default for rows whose cell is empty.
/// Paths are relative to the job file (made absolute when it is loaded).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoLiveDefaults {
    /// Applies to rows wxprov registers and rows whose `golive` cell is `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<TemplateId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_json: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_domains: Option<ServerDomains>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webview_domains: Option<Vec<String>>,
    /// `page|tag|title` items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_items: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseMode>,
}

/// A code template's id: the job file may write it as a number or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TemplateIdForm", into = "u64")]
pub struct TemplateId(pub u64);

#[derive(Deserialize)]
#[serde(untagged)]
enum TemplateIdForm {
    Number(i64),
    Text(String),
}

impl TryFrom<TemplateIdForm> for TemplateId {
    type Error = String;
    fn try_from(form: TemplateIdForm) -> Result<Self, String> {
        let text = match form {
            TemplateIdForm::Number(n) => n.to_string(),
            TemplateIdForm::Text(t) => t,
        };
        TemplateId::parse(&text).map_err(|(en, _)| en)
    }
}

impl From<TemplateId> for u64 {
    fn from(id: TemplateId) -> u64 {
        id.0
    }
}

impl TemplateId {
    fn parse(text: &str) -> Result<TemplateId, Reason> {
        match text.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(TemplateId(n)),
            _ => Err((
                format!("template_id \"{text}\" is not a template number (gettemplatelist's template_id)"),
                format!("模板ID“{text}”不是模板编号（gettemplatelist 返回的 template_id）"),
            )),
        }
    }
}

impl fmt::Display for TemplateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Whether an approved audit is released by wxprov.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseMode {
    /// Stop at approved; ops staff release.
    #[default]
    Manual,
    /// Release once the audit passes (and the ICP filing is finished).
    Auto,
}

impl ReleaseMode {
    fn parse_cell(cell: &str) -> Result<ReleaseMode, Reason> {
        match cell.trim().to_lowercase().as_str() {
            "manual" | "手动" => Ok(ReleaseMode::Manual),
            "auto" | "自动" => Ok(ReleaseMode::Auto),
            other => Err((
                format!("\"{other}\" is not manual or auto"),
                format!("“{other}”不是 manual（手动）或 auto（自动）"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseMode::Manual => "manual",
            ReleaseMode::Auto => "auto",
        }
    }
}

impl GoLiveDefaults {
    /// True when the section sets nothing.
    pub fn is_empty(&self) -> bool {
        *self == GoLiveDefaults::default()
    }

    /// Resolves the section's paths against `base` (the job file's folder) and checks every
    /// value and file by the rules a cell is checked by; the error names the key.
    pub fn load(mut self, base: &Path) -> Result<GoLiveDefaults, String> {
        for path in [&mut self.ext_json, &mut self.privacy].into_iter().flatten() {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        let key = |key: &str, (en, _): Reason| format!("[golive] {key}: {en}");
        if let Some(v) = &self.user_version {
            check_user_version(v).map_err(|r| key("user_version", r))?;
        }
        if let Some(d) = &self.server_domains {
            d.check().map_err(|r| key("server_domains", r))?;
        }
        if let Some(w) = &self.webview_domains {
            domains::check_webview(w).map_err(|r| key("webview_domains", r))?;
        }
        if let Some(items) = &self.audit_items {
            audit::parse_items(items.iter().map(String::as_str)).map_err(|r| key("audit_items", r))?;
        }
        if let Some(p) = &self.ext_json {
            ExtTemplate::load(p, &p.display().to_string()).map_err(|r| key("ext_json", r))?;
        }
        if let Some(p) = &self.privacy {
            PrivacyGuide::load(p, &p.display().to_string()).map_err(|r| key("privacy", r))?;
        }
        Ok(self)
    }
}

fn check_user_version(v: &str) -> Result<(), Reason> {
    let chars = v.chars().count();
    if v.trim().is_empty() || chars > USER_VERSION_CHARS {
        return Err((
            format!("user_version must be 1 to {USER_VERSION_CHARS} characters (it is {chars})"),
            format!("版本号应为 1 到 {USER_VERSION_CHARS} 个字符（现为 {chars} 个）"),
        ));
    }
    Ok(())
}

/// The domains a row sets: the types it names (server) and the business domains, if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainsChange {
    pub server: Option<ServerDomains>,
    pub webview: Option<Vec<String>>,
}

/// The code a row commits.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeChange {
    pub template_id: TemplateId,
    pub user_version: String,
    pub user_desc: String,
    pub ext_json: ExtJson,
}

/// What a row submits for audit besides its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRequest {
    /// Empty: the first page and the first approved category.
    pub items: Vec<AuditItem>,
    pub version_desc: Option<String>,
}

/// A row's go-live, resolved: every value from its cell or the job's `[golive]`.
#[derive(Debug, Clone, PartialEq)]
pub struct GoLive {
    pub domains: Option<DomainsChange>,
    pub code: CodeChange,
    /// `None`: the row gives no guide (the `privacy` step fails if the scan finds keys).
    pub privacy: Option<Arc<PrivacyGuide>>,
    pub audit: AuditRequest,
    pub release: ReleaseMode,
    /// Its steps in run order: `domains` (when the row names domains), `code`, `privacy`,
    /// `audit`, `release`.
    pub steps: Vec<Step>,
}

/// The go-live columns (DESIGN §9): `golive`, the switch, and those that give a value, each
/// falling back to the `[golive]` key of its name.
pub const COLUMNS: [Column; 11] = [
    Column::Golive,
    Column::TemplateId,
    Column::UserVersion,
    Column::UserDesc,
    Column::ExtJson,
    Column::ServerDomains,
    Column::WebviewDomains,
    Column::Privacy,
    Column::AuditItems,
    Column::VersionDesc,
    Column::Release,
];

/// Whether a sheet and its job may ask for go-live at all: a go-live column in the header, or
/// a `[golive] template_id`.
pub fn requested(columns: &Columns, defaults: &GoLiveDefaults) -> bool {
    defaults.template_id.is_some() || COLUMNS.iter().any(|c| columns.has(*c))
}

/// Resolves rows' go-live against one job's defaults, reading each named file once.
#[derive(Debug, Default)]
pub struct Resolver {
    defaults: Arc<GoLiveDefaults>,
    templates: HashMap<PathBuf, Result<Arc<ExtTemplate>, Reason>>,
    guides: HashMap<PathBuf, Result<Arc<PrivacyGuide>, Reason>>,
}

/// A row's problems, by column.
pub type Problems = Vec<(Column, Reason)>;

impl Resolver {
    pub fn new(defaults: Arc<GoLiveDefaults>) -> Resolver {
        Resolver { defaults, ..Resolver::default() }
    }

    /// Whether the row goes live and, if so, with what. `base` is the manifest's folder (cell
    /// paths resolve against it); `registration` says the row has no appid yet.
    pub fn resolve(
        &mut self,
        columns: &Columns,
        cells: &[String],
        base: &Path,
        registration: bool,
    ) -> Result<Option<GoLive>, Problems> {
        let cell = |c: Column| columns.cell(cells, c);
        let mut problems: Problems = Vec::new();
        let switch = match cell(Column::Golive).as_str() {
            "" => None,
            "1" => Some(true),
            "0" => Some(false),
            other => {
                problems
                    .push((Column::Golive, (format!("\"{other}\" is not 0 or 1"), format!("“{other}”不是 0 或 1"))));
                None
            }
        };
        let template_cell = cell(Column::TemplateId);
        let job_template = self.defaults.template_id;
        if switch == Some(false) && !template_cell.is_empty() {
            problems.push((
                Column::Golive,
                (
                    "golive is 0 but the row gives a template_id; clear one of them".into(),
                    "“上线”为 0 但该行填写了模板ID；请删去其中一个".into(),
                ),
            ));
        }
        if switch == Some(true) && template_cell.is_empty() && job_template.is_none() {
            problems.push((
                Column::Golive,
                (
                    "golive is 1 but there is no template_id: give it in the row or as [golive] template_id in the job file".into(),
                    "“上线”为 1 但没有模板ID：请在该行或任务文件的 [golive] template_id 中填写".into(),
                ),
            ));
        }
        let goes_live = !template_cell.is_empty()
            || (job_template.is_some() && switch != Some(false) && (registration || switch == Some(true)));
        if !goes_live {
            for column in COLUMNS {
                if column != Column::Golive && !cell(column).is_empty() {
                    problems.push((
                        column,
                        (
                            format!("the row does not go live, so its {column} would not be used: give a template_id in the row, or set golive to 1 with the job's [golive] template_id"),
                            format!("该行不上线，“{column}”不会被使用：请在该行填写模板ID，或把“上线”设为 1 并在任务文件 [golive] 中设置 template_id"),
                        ),
                    ));
                }
            }
            return if problems.is_empty() { Ok(None) } else { Err(problems) };
        }

        let defaults = Arc::clone(&self.defaults);
        let value = |column: Column, default: Option<String>, problems: &mut Problems| -> Option<String> {
            let v = cell(column);
            if !v.is_empty() {
                return Some(v);
            }
            if default.is_none() && required(column) {
                problems.push((
                    column,
                    (
                        format!("a row that goes live needs {column}: fill the cell or set [golive] {column} in the job file"),
                        format!("上线的行必须有“{column}”：请填写该单元格，或在任务文件 [golive] 中设置 {column}"),
                    ),
                ));
            }
            default
        };

        let template_id = if template_cell.is_empty() {
            job_template
        } else {
            TemplateId::parse(&template_cell).map_err(|r| problems.push((Column::TemplateId, r))).ok()
        };
        let user_version = value(Column::UserVersion, defaults.user_version.clone(), &mut problems);
        if let Some(v) = &user_version {
            if let Err(r) = check_user_version(v) {
                problems.push((Column::UserVersion, r));
            }
        }
        let user_desc = value(Column::UserDesc, defaults.user_desc.clone(), &mut problems);

        let ext_cell = cell(Column::ExtJson);
        let template = match (ext_cell.is_empty(), &defaults.ext_json) {
            (false, _) => Some(self.template(&base.join(&ext_cell), &ext_cell)),
            (true, Some(path)) => Some(self.template(path, &format!("[golive] ext_json ({})", path.display()))),
            (true, None) => {
                value(Column::ExtJson, None, &mut problems);
                None
            }
        };
        let ext_json = template
            .and_then(|t| t.and_then(|t| t.fill(columns, cells)).map_err(|r| problems.push((Column::ExtJson, r))).ok());

        let privacy_cell = cell(Column::Privacy);
        let privacy = match (privacy_cell.is_empty(), &defaults.privacy) {
            (false, _) => self.guide(&base.join(&privacy_cell), &privacy_cell).map(Some),
            (true, Some(path)) => self.guide(path, &format!("[golive] privacy ({})", path.display())).map(Some),
            (true, None) => Ok(None),
        }
        .map_err(|r| problems.push((Column::Privacy, r)))
        .unwrap_or_default();

        let server = match cell(Column::ServerDomains) {
            c if c.is_empty() => defaults.server_domains.clone(),
            c => ServerDomains::parse_cell(&c).map_err(|r| problems.push((Column::ServerDomains, r))).ok(),
        };
        let webview = match cell(Column::WebviewDomains) {
            c if c.is_empty() => defaults.webview_domains.clone(),
            c => domains::parse_webview_cell(&c).map_err(|r| problems.push((Column::WebviewDomains, r))).ok(),
        };
        let items = match cell(Column::AuditItems) {
            c if c.is_empty() => defaults
                .audit_items
                .as_ref()
                .map(|items| audit::parse_items(items.iter().map(String::as_str)).unwrap_or_default())
                .unwrap_or_default(),
            c => audit::parse_cell(&c).map_err(|r| problems.push((Column::AuditItems, r))).unwrap_or_default(),
        };
        let version_desc = value(Column::VersionDesc, defaults.version_desc.clone(), &mut problems);
        let release = match cell(Column::Release) {
            c if c.is_empty() => defaults.release.unwrap_or_default(),
            c => ReleaseMode::parse_cell(&c).map_err(|r| problems.push((Column::Release, r))).unwrap_or_default(),
        };

        let (Some(template_id), Some(user_version), Some(user_desc), Some(ext_json), true) =
            (template_id, user_version, user_desc, ext_json, problems.is_empty())
        else {
            return Err(problems);
        };
        let domains = (server.is_some() || webview.is_some()).then_some(DomainsChange { server, webview });
        let mut golive = GoLive {
            domains,
            code: CodeChange { template_id, user_version, user_desc, ext_json },
            privacy,
            audit: AuditRequest { items, version_desc },
            release,
            steps: Vec::new(),
        };
        golive.steps = golive.steps_with_hashes();
        Ok(Some(golive))
    }

    fn template(&mut self, path: &Path, written: &str) -> Result<Arc<ExtTemplate>, Reason> {
        self.templates
            .entry(path.to_path_buf())
            .or_insert_with(|| ExtTemplate::load(path, written).map(Arc::new))
            .clone()
    }

    fn guide(&mut self, path: &Path, written: &str) -> Result<Arc<PrivacyGuide>, Reason> {
        self.guides.entry(path.to_path_buf()).or_insert_with(|| PrivacyGuide::load(path, written).map(Arc::new)).clone()
    }
}

/// The values `commit` cannot go without.
fn required(column: Column) -> bool {
    matches!(column, Column::UserVersion | Column::UserDesc | Column::ExtJson)
}

#[derive(Serialize)]
struct DomainsInput<'a> {
    server: Option<&'a ServerDomains>,
    webview: Option<&'a [String]>,
}

#[derive(Serialize)]
struct CodeInput<'a> {
    template_id: u64,
    user_version: &'a str,
    user_desc: &'a str,
    ext_json: &'a serde_json::Value,
}

/// A new commit may be scanned for new keys: the guide is set again after one.
#[derive(Serialize)]
struct PrivacyInput<'a> {
    code: &'a str,
    guide: Option<&'a PrivacyGuide>,
}

/// A changed code or guide needs a new audit to take effect.
#[derive(Serialize)]
struct AuditInput<'a> {
    code: &'a str,
    privacy: &'a str,
    items: &'a [AuditItem],
    version_desc: Option<&'a str>,
}

#[derive(Serialize)]
struct ReleaseInput<'a> {
    audit: &'a str,
    release: &'a str,
}

impl GoLive {
    /// Each step with its input hash: its own resolved values, and the hashes of the steps
    /// it builds on, so that a new commit sets the guide, submits and releases again.
    fn steps_with_hashes(&self) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut push = |kind: StepKind, input_hash: String| {
            steps.push(Step { kind, input_hash: input_hash.clone() });
            input_hash
        };
        if let Some(d) = &self.domains {
            push(
                StepKind::Domains,
                input_hash(
                    StepKind::Domains.as_str(),
                    DomainsInput { server: d.server.as_ref(), webview: d.webview.as_deref() },
                ),
            );
        }
        let c = &self.code;
        let code = push(
            StepKind::Code,
            input_hash(
                StepKind::Code.as_str(),
                CodeInput {
                    template_id: c.template_id.0,
                    user_version: &c.user_version,
                    user_desc: &c.user_desc,
                    ext_json: c.ext_json.canonical(),
                },
            ),
        );
        let privacy = push(
            StepKind::Privacy,
            input_hash(StepKind::Privacy.as_str(), PrivacyInput { code: &code, guide: self.privacy.as_deref() }),
        );
        let audit = push(
            StepKind::Audit,
            input_hash(
                StepKind::Audit.as_str(),
                AuditInput {
                    code: &code,
                    privacy: &privacy,
                    items: &self.audit.items,
                    version_desc: self.audit.version_desc.as_deref(),
                },
            ),
        );
        push(
            StepKind::Release,
            input_hash(StepKind::Release.as_str(), ReleaseInput { audit: &audit, release: self.release.as_str() }),
        );
        steps
    }
}

#[cfg(test)]
mod tests;
