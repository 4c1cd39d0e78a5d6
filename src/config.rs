//! Configuration: the job file (DESIGN §2), the common options and the secrets that only
//! ever come from the environment (DESIGN §1).
//!
//! They are resolved into one set of settings, with their precedence (a flag, its
//! environment variable, the job file, the default), in `cli::settings`. Secrets never go on
//! the command line or in a job file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::{fail, usage};
use crate::golive::GoLiveDefaults;
use wechat_open::secret::Secret;
use wechat_open::Appid;

/// The WeChat API base URL used unless told otherwise.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";

/// A job file: a manifest and the settings to run it with. Paths are relative to the file.
///
/// It serializes too: `failed.toml` is the job with its manifest replaced by `failed.csv`
/// ([`JobFile::for_failed`]), so a setting added here is carried there without more code — a
/// new setting that names a file must be rewritten in `for_failed`, as `ledger` is.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    pub manifest: PathBuf,
    /// The `.xlsx` sheet to read (`--sheet` wins).
    pub sheet: Option<String>,
    /// Columns the sheet may carry that wxprov must not read (`--ignore-column` adds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_columns: Vec<String>,
    pub ledger: Option<PathBuf>,
    pub api_base: Option<String>,
    pub report_dir: Option<PathBuf>,
    pub concurrency: Option<usize>,
    /// The event log is pruned to this age, in days, at the end of a run and by `ledger
    /// vacuum` (DESIGN §2); default 180.
    pub keep_events_days: Option<u32>,
    /// Where `serve` shows the status page (`--status-listen` wins); none by default.
    pub status_listen: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub retry: Retry,
    /// Go-live's defaults for rows whose cell is empty (DESIGN §9).
    #[serde(default, skip_serializing_if = "GoLiveDefaults::is_empty")]
    pub golive: GoLiveDefaults,
}

/// Pacing limits: calls per second and per minute, each at burst 1 but a high limit for all
/// APIs together, whose queued calls go in steps of at most 200 ms (see `wechat_open::pacing`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// All APIs together.
    #[serde(default = "default_calls_per_second")]
    pub calls_per_second: u32,
    #[serde(default = "default_per_appid")]
    pub per_appid_per_second: u32,
    /// Per API path, calls per minute.
    #[serde(default)]
    pub per_minute: BTreeMap<String, u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            calls_per_second: default_calls_per_second(),
            per_appid_per_second: default_per_appid(),
            per_minute: BTreeMap::new(),
        }
    }
}

fn default_calls_per_second() -> u32 {
    50
}

fn default_per_appid() -> u32 {
    5
}

/// Retry policy for transient failures.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { max_attempts: default_max_attempts() }
    }
}

fn default_max_attempts() -> u32 {
    5
}

impl JobFile {
    /// Reads a job file, resolving its paths against its own folder. Errors are usage errors
    /// (exit 2) that name the file and, for TOML mistakes, the line.
    pub fn load(path: &Path) -> anyhow::Result<JobFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read the job file {}: {e}", path.display())))?;
        let mut job: JobFile = toml::from_str(&text).map_err(|e| {
            usage(format!("the job file {} is not valid: {}", path.display(), e.to_string().trim_end()))
        })?;
        if job.manifest.as_os_str().is_empty() {
            return Err(usage(format!("the job file {} names no manifest (manifest = \"...\")", path.display())));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        job.manifest = resolve(base, &job.manifest);
        job.ledger = job.ledger.as_deref().map(|p| resolve(base, p));
        job.report_dir = job.report_dir.as_deref().map(|p| resolve(base, p));
        if job.limits.calls_per_second == 0 || job.limits.per_appid_per_second == 0 {
            return Err(usage(format!("{}: [limits] rates must be at least 1", path.display())));
        }
        if job.limits.per_minute.values().any(|&v| v == 0) {
            return Err(usage(format!("{}: [limits.per_minute] rates must be at least 1", path.display())));
        }
        job.golive =
            std::mem::take(&mut job.golive).load(base).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        Ok(job)
    }

    /// The job `failed.toml` holds: these settings, for `failed.csv` beside it in `dir` (the
    /// run's report folder; a CSV, so no `sheet`), with the ledger, report folder and ignored
    /// columns this run used (`--ignore-column` included: failed.csv has those columns too),
    /// every path relative to `dir` where one exists (absolute otherwise). `api_base` is kept
    /// only when the job set it, or when this run was a rehearsal (`sim`), which the fed-back
    /// run is then too.
    pub fn for_failed(
        &self,
        dir: &Path,
        ledger: &Path,
        report_dir: &Path,
        api_base: Option<&str>,
        ignore_columns: &[String],
    ) -> JobFile {
        // A rehearsal's failed.toml rehearses again, whatever the job file's `api_base`.
        let api_base = api_base.filter(|b| *b == "sim").map(str::to_string).or_else(|| self.api_base.clone());
        let mut ignored: Vec<String> = Vec::new();
        for name in ignore_columns {
            if !ignored.contains(name) {
                ignored.push(name.clone());
            }
        }
        let mut golive = self.golive.clone();
        for file in [&mut golive.ext_json, &mut golive.privacy].into_iter().flatten() {
            *file = relative_to(dir, file);
        }
        JobFile {
            manifest: PathBuf::from("failed.csv"),
            golive,
            sheet: None,
            ignore_columns: ignored,
            ledger: Some(relative_to(dir, ledger)),
            report_dir: Some(relative_to(dir, report_dir)),
            api_base,
            ..self.clone()
        }
    }

    /// A job made from a manifest given directly (`wxprov run sheet.xlsx`).
    pub fn for_manifest(manifest: &Path) -> JobFile {
        JobFile { manifest: manifest.to_path_buf(), ..JobFile::default() }
    }

    /// Reads `arg` as a job file (`.toml`) or treats it as a manifest.
    pub fn from_arg(arg: &Path) -> anyhow::Result<JobFile> {
        match arg.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("toml") => JobFile::load(arg),
            Some("csv") | Some("xlsx") | Some("txt") | Some("tsv") => Ok(JobFile::for_manifest(arg)),
            _ => Err(usage(format!("{}: give a job file (.toml) or a manifest (.csv or .xlsx)", arg.display()))),
        }
    }
}

/// `path` as seen from the folder `dir`: relative where a relative path leads there, else
/// absolute. Both are made absolute first, symbolic links resolved (for a file that does
/// not exist yet, those of its folders that do), so the answer holds whatever the current
/// folder of whoever reads it.
pub fn relative_to(dir: &Path, path: &Path) -> PathBuf {
    let (dir, path) = (real(dir), real(path));
    pathdiff::diff_paths(&path, &dir).filter(|p| !p.as_os_str().is_empty()).unwrap_or(path)
}

/// `path` absolute, with the symbolic links of its existing part resolved.
fn real(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => real(parent).join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Secrets and platform identity, read from the environment only.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// The third-party platform's appid: from the environment, parsed by the appid rule (and
    /// kept as [`Appid`] writes it); in a rehearsal, the simulator fixture's as it stands.
    pub component_appid: Option<String>,
    pub component_secret: Option<Secret>,
    pub verify_ticket: Option<Secret>,
    /// The callback token (message signatures).
    pub token: Option<Secret>,
    pub encoding_aes_key: Option<Secret>,
    pub token_command: Option<String>,
}

impl Secrets {
    /// Reads `WXPROV_COMPONENT_APPID`, `WXPROV_COMPONENT_SECRET` (or `…_SECRET_FILE`),
    /// `WXPROV_COMPONENT_VERIFY_TICKET`, `WXPROV_TOKEN`, `WXPROV_ENCODING_AES_KEY` and
    /// `WXPROV_TOKEN_COMMAND` through `env` (the environment, or a test's). Empty variables
    /// count as unset; an appid that is not one is a usage error naming the variable (its
    /// value not shown: it may be anything pasted there).
    pub fn read(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Secrets> {
        let var = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let mut component_secret = var("WXPROV_COMPONENT_SECRET").map(Secret::new);
        if component_secret.is_none() {
            if let Some(file) = var("WXPROV_COMPONENT_SECRET_FILE") {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| fail(format!("cannot read WXPROV_COMPONENT_SECRET_FILE {file}: {e}")))?;
                let text = text.trim();
                if text.is_empty() {
                    return Err(fail(format!("WXPROV_COMPONENT_SECRET_FILE {file} is empty")));
                }
                component_secret = Some(Secret::new(text));
            }
        }
        let component_appid = var("WXPROV_COMPONENT_APPID")
            .map(|text| match Appid::parse(&text) {
                Ok(appid) => Ok(String::from(appid)),
                Err(e) => Err(usage(format!("WXPROV_COMPONENT_APPID is {e}"))),
            })
            .transpose()?;
        Ok(Secrets {
            component_appid,
            component_secret,
            verify_ticket: var("WXPROV_COMPONENT_VERIFY_TICKET").map(Secret::new),
            token: var("WXPROV_TOKEN").map(Secret::new),
            encoding_aes_key: var("WXPROV_ENCODING_AES_KEY").map(Secret::new),
            token_command: var("WXPROV_TOKEN_COMMAND"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_file_paths_are_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs").join("x.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "manifest = \"../m.csv\"\nledger = \"../l.db\"\n[limits]\ncalls_per_second = 10\n[limits.per_minute]\n\"/a\" = 20\n",
        )
        .unwrap();
        let job = JobFile::load(&path).unwrap();
        assert_eq!(job.manifest, dir.path().join("jobs").join("../m.csv"));
        assert_eq!(job.limits.calls_per_second, 10);
        assert_eq!(job.limits.per_appid_per_second, 5);
        assert_eq!(job.limits.per_minute["/a"], 20);
        assert_eq!(job.retry.max_attempts, 5);
    }

    #[test]
    fn failed_toml_carries_the_golive_section_with_its_files_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = dir.path().join("jobs");
        std::fs::create_dir_all(jobs.join("golive")).unwrap();
        std::fs::write(jobs.join("golive/ext.json"), "{}").unwrap();
        let path = jobs.join("x.toml");
        std::fs::write(&path, "manifest = \"m.csv\"\n[golive]\ntemplate_id = 128\next_json = \"golive/ext.json\"\n")
            .unwrap();
        let job = JobFile::load(&path).unwrap();
        let reports = dir.path().join("reports/run-1");
        std::fs::create_dir_all(&reports).unwrap();
        let failed = job.for_failed(&reports, &dir.path().join("l.db"), &dir.path().join("reports"), None, &[]);
        let text = toml::to_string(&failed).unwrap();
        assert!(text.ends_with("[golive]\ntemplate_id = 128\next_json = \"../../jobs/golive/ext.json\"\n"), "{text}");
        std::fs::write(reports.join("failed.toml"), &text).unwrap();
        let again = JobFile::load(&reports.join("failed.toml")).unwrap();
        assert_eq!(
            again.golive.ext_json.unwrap().canonicalize().unwrap(),
            jobs.join("golive/ext.json").canonicalize().unwrap()
        );
    }

    #[test]
    fn job_file_errors_are_usage_errors_with_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        std::fs::write(&path, "manifest = \"m.csv\"\nconcurency = 3\n").unwrap();
        let err = JobFile::load(&path).unwrap_err();
        assert_eq!(crate::exit::exit_of(&err), crate::exit::Exit::Usage);
        let text = err.to_string();
        assert!(text.contains("concurency") && text.contains("line 2"), "{text}");
    }
}
