//! A small fluent harness that runs the real binary:
//! `Test::new().args(["explain", "61055"]).stdout_has("61055").status(0).run()`.
//! `Sim` starts `wxprov sim` on loopback and reads its call log and state.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_wxprov");

/// A scratch folder for one test: its ledger, reports and files.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ledger(&self) -> PathBuf {
        self.dir.path().join("wxprov.db")
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A command run in this workspace, with its ledger.
    pub fn test(&self) -> Test {
        Test::new().current_dir(self.path()).env("WXPROV_LEDGER", self.ledger())
    }

    /// A command run in this workspace against `sim`, with the platform's credentials.
    pub fn test_on(&self, sim: &Sim) -> Test {
        self.test()
            .env("WXPROV_API_BASE", &sim.url)
            .env("WXPROV_COMPONENT_APPID", &sim.component_appid)
            .env("WXPROV_COMPONENT_SECRET", &sim.component_secret)
            .env("WXPROV_COMPONENT_VERIFY_TICKET", &sim.verify_ticket)
    }

    /// Runs a query on the ledger and returns the rows as strings.
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        let conn = rusqlite::Connection::open(self.ledger()).expect("open ledger");
        let mut stmt = conn.prepare(sql).expect("prepare");
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => "NULL".to_string(),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Real(v) => v.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(b) => String::from_utf8_lossy(b).into_owned(),
                })
                .collect())
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
    }
}

/// One run of the binary and what it must show.
pub struct Test {
    args: Vec<String>,
    envs: Vec<(String, String)>,
    dir: Option<PathBuf>,
    stdout_has: Vec<String>,
    stderr_has: Vec<String>,
    status: Option<i32>,
}

impl Test {
    pub fn new() -> Test {
        Test { args: vec![], envs: vec![], dir: None, stdout_has: vec![], stderr_has: vec![], status: Some(0) }
    }

    pub fn arg(mut self, arg: impl AsRef<str>) -> Test {
        self.args.push(arg.as_ref().to_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Test {
        self.envs.push((key.to_string(), value.as_ref().to_string_lossy().into_owned()));
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Test {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Stdout must contain `text`.
    pub fn stdout_has(mut self, text: impl AsRef<str>) -> Test {
        self.stdout_has.push(text.as_ref().to_string());
        self
    }

    /// Stderr must contain `text`.
    pub fn stderr_has(mut self, text: impl AsRef<str>) -> Test {
        self.stderr_has.push(text.as_ref().to_string());
        self
    }

    /// The exit code it must end with (0 unless told).
    pub fn status(mut self, code: i32) -> Test {
        self.status = Some(code);
        self
    }

    /// Any exit code will do (the caller checks `Ran::code`).
    pub fn status_any(mut self) -> Test {
        self.status = None;
        self
    }

    /// Runs it, checks the expectations, and returns stdout and stderr.
    pub fn run(self) -> Ran {
        let mut cmd = Command::new(BIN);
        cmd.args(&self.args).stdin(Stdio::null());
        for (key, _) in std::env::vars() {
            if key.starts_with("WXPROV_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("NO_COLOR", "1");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        let output: Output = cmd.output().expect("run wxprov");
        let ran = Ran {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code().unwrap_or(-1),
        };
        let show = || format!("wxprov {}\n--- stdout\n{}\n--- stderr\n{}", self.args.join(" "), ran.stdout, ran.stderr);
        if let Some(code) = self.status {
            assert_eq!(ran.code, code, "exit code\n{}", show());
        }
        for text in &self.stdout_has {
            assert!(ran.stdout.contains(text), "stdout lacks {text:?}\n{}", show());
        }
        for text in &self.stderr_has {
            assert!(ran.stderr.contains(text), "stderr lacks {text:?}\n{}", show());
        }
        assert!(!ran.stderr.contains("panicked"), "wxprov panicked\n{}", show());
        ran
    }
}

/// What a run printed.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Ran {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `wxprov sim` running on loopback for one test.
pub struct Sim {
    child: Child,
    pub url: String,
    pub component_appid: String,
    pub component_secret: String,
    pub verify_ticket: String,
    pub fixture: Value,
    http: reqwest::blocking::Client,
    _dir: tempfile::TempDir,
}

impl Sim {
    /// The example fixture.
    pub fn start() -> Sim {
        Sim::with_fixture(example_fixture(), &[])
    }

    /// A fixture, and extra `wxprov sim` flags.
    pub fn with_fixture(fixture: Value, flags: &[&str]) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fixture.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&fixture).unwrap()).unwrap();
        let mut child = Command::new(BIN)
            .args(["sim", "--listen", "127.0.0.1:0", "--fixture"])
            .arg(&path)
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wxprov sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("sim output");
        let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "sim printed {line:?}");
        let c = &fixture["component"];
        Sim {
            child,
            url,
            component_appid: c["appid"].as_str().unwrap().to_string(),
            component_secret: c["secret"].as_str().unwrap().to_string(),
            verify_ticket: c["verify_ticket"].as_str().unwrap().to_string(),
            fixture,
            http: reqwest::blocking::Client::new(),
            _dir: dir,
        }
    }

    /// Every API call the simulator received, in order.
    pub fn calls(&self) -> Vec<Value> {
        self.get("/__sim/calls").as_array().cloned().unwrap_or_default()
    }

    /// The calls to one API path.
    pub fn calls_to(&self, path: &str) -> Vec<Value> {
        self.calls().into_iter().filter(|c| c["path"] == path).collect()
    }

    pub fn get(&self, path: &str) -> Value {
        self.http.get(format!("{}{}", self.url, path)).send().unwrap().json().unwrap()
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        self.http.post(format!("{}{}", self.url, path)).json(&body).send().unwrap().json().unwrap_or(Value::Null)
    }

    pub fn http_delete(&self, path: &str) -> Value {
        self.http.delete(format!("{}{}", self.url, path)).send().unwrap().json().unwrap_or(Value::Null)
    }

    /// Every access and refresh token the simulator issued or knows.
    pub fn secrets(&self) -> Vec<String> {
        let tokens = self.get("/__sim/tokens");
        ["access_tokens", "refresh_tokens"]
            .iter()
            .flat_map(|k| tokens[*k].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulator's example fixture (`wechat_sim::Fixture::example`), as JSON.
pub fn example_fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/wechat-sim/fixtures/example.json");
    let text = std::fs::read_to_string(path).expect("crates/wechat-sim/fixtures/example.json");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Asserts that none of `secrets` appears in `haystack`.
pub fn assert_no_secret(what: &str, haystack: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!haystack.contains(secret.as_str()), "{what} contains a secret issued by the simulator");
    }
}

/// `wxprov serve` running on loopback for one test, on the workspace's ledger. Its stderr goes
/// to a file in the workspace so that the test can read it once the process has stopped.
pub struct Serve {
    child: Option<Child>,
    pub url: String,
    /// The status page's URL, when started with `--status-listen`.
    pub status_url: Option<String>,
    stderr: PathBuf,
    http: reqwest::blocking::Client,
}

impl Serve {
    /// Starts `wxprov serve --listen 127.0.0.1:0` with `envs` (and no other `WXPROV_` variable).
    pub fn start(ws: &Workspace, envs: &[(&str, &str)]) -> Serve {
        Serve::start_with(ws, envs, &[])
    }

    /// Like [`Serve::start`], with extra `serve` flags.
    pub fn start_with(ws: &Workspace, envs: &[(&str, &str)], flags: &[&str]) -> Serve {
        let stderr = ws.path().join("serve.stderr");
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]).args(flags).current_dir(ws.path()).stdin(Stdio::null());
        for (key, _) in std::env::vars() {
            if key.starts_with("WXPROV_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("NO_COLOR", "1").env("WXPROV_LEDGER", ws.ledger());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start wxprov serve");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).expect("serve output");
        let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
        let stderr_text = || std::fs::read_to_string(&stderr).unwrap_or_default();
        assert!(
            line.starts_with("wxprov serve listening on http://127.0.0.1:") && !url.ends_with(":0"),
            "serve printed {line:?}; stderr:\n{}",
            stderr_text()
        );
        // The status page's line follows the receiver's.
        let status_url = flags.iter().any(|f| f.starts_with("--status-listen")).then(|| {
            let mut line = String::new();
            out.read_line(&mut line).expect("serve output");
            let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
            assert!(
                line.starts_with("wxprov serve status page on http://") && !url.ends_with(":0/"),
                "serve printed {line:?}; stderr:\n{}",
                stderr_text()
            );
            url
        });
        Serve { child: Some(child), url, status_url, stderr, http: reqwest::blocking::Client::new() }
    }

    /// GET `path` (with its query); the status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let resp = self.http.get(format!("{}{}", self.url, path)).send().expect("GET");
        (resp.status().as_u16(), resp.text().unwrap_or_default())
    }

    /// POST `body` to `path` (with its query); the status and body.
    pub fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> (u16, String) {
        let resp = self
            .http
            .post(format!("{}{}", self.url, path))
            .header("content-type", "text/xml")
            .body(body.into())
            .send()
            .expect("POST");
        (resp.status().as_u16(), resp.text().unwrap_or_default())
    }

    /// Stops it with SIGTERM, checks that it exits 0 without panicking, and returns its stderr.
    pub fn stop(mut self) -> String {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let status = child.wait().expect("wait for serve");
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        assert!(status.success(), "serve exited with {status}\n--- stderr\n{stderr}");
        assert!(!stderr.contains("panicked"), "serve panicked\n--- stderr\n{stderr}");
        stderr
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Beijing time worked out in the tests themselves, from the fixed UTC+8 offset (China keeps
/// no daylight saving), never with `wechat_open::beijing`: an expectation computed by the code
/// under test cannot catch its mistakes. The times passed in are what the ledger recorded
/// (a step's `tried_at` and `updated_at`, a run's `started_at`), not the test's clock, so a
/// test that runs across Beijing midnight cannot flake.
pub mod utc8 {
    use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

    fn offset() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("UTC+8")
    }

    /// The Beijing calendar date at `t`.
    pub fn date(t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&offset()).date_naive()
    }

    /// Beijing midnight at the start of `day`.
    pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
        offset().from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
    }

    /// The start of the Beijing day after the one `t` falls on.
    pub fn next_day(t: DateTime<Utc>) -> DateTime<Utc> {
        midnight(date(t).succ_opt().unwrap())
    }

    /// The start of the first of the Beijing month after the one `t` falls in.
    pub fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
        let d = date(t);
        let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
        midnight(NaiveDate::from_ymd_opt(y, m, 1).unwrap())
    }

    /// The start of 1 January of the Beijing year after the one `t` falls in.
    pub fn next_year(t: DateTime<Utc>) -> DateTime<Utc> {
        midnight(NaiveDate::from_ymd_opt(date(t).year() + 1, 1, 1).unwrap())
    }

    /// `t` as wxprov shows a time to people: `2026-12-01 00:00 Beijing time`.
    pub fn shown(t: DateTime<Utc>) -> String {
        format!("{} Beijing time", t.with_timezone(&offset()).format("%Y-%m-%d %H:%M"))
    }

    /// A Unix time in seconds, as a ledger query gives it.
    pub fn secs(s: &str) -> DateTime<Utc> {
        DateTime::from_timestamp(s.parse().expect("Unix seconds"), 0).expect("a time")
    }

    /// A Unix time in milliseconds, as a ledger query gives it (`tried_at`).
    pub fn millis(ms: &str) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms.parse().expect("Unix milliseconds")).expect("a time")
    }

    /// What `rule` gives for the moment the program decided, which the ledger brackets: at or
    /// after the step's `tried_at` (ms), within the second of its `updated_at` (s). The rules
    /// are steps a day or more wide, so the answer is the rule at one end or the other; the
    /// two differ only when the step was taken across Beijing midnight.
    pub fn during(
        rule: fn(DateTime<Utc>) -> DateTime<Utc>,
        tried_at_ms: &str,
        updated_at_secs: &str,
    ) -> [DateTime<Utc>; 2] {
        let until = secs(updated_at_secs) + chrono::Duration::milliseconds(999);
        [rule(millis(tried_at_ms)), rule(until)]
    }

    /// The helper itself, at fixed times either side of Beijing midnight (16:00 UTC).
    #[test]
    fn utc8_rules_turn_at_beijing_midnight() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(next_day(t("2026-11-30T15:59:59Z")), t("2026-11-30T16:00:00Z"));
        assert_eq!(next_day(t("2026-11-30T16:00:00Z")), t("2026-12-01T16:00:00Z"));
        assert_eq!(next_month(t("2026-11-30T15:59:59Z")), t("2026-11-30T16:00:00Z"));
        assert_eq!(next_month(t("2026-12-15T00:00:00Z")), t("2026-12-31T16:00:00Z"));
        assert_eq!(next_year(t("2026-12-31T16:00:00Z")), t("2027-12-31T16:00:00Z"));
        assert_eq!(shown(t("2026-11-30T16:00:00Z")), "2026-12-01 00:00 Beijing time");
        let across = during(next_day, "1796054399500", "1796054400");
        assert_eq!(across, [t("2026-11-30T16:00:00Z"), t("2026-12-01T16:00:00Z")]);
    }
}
