//! Benchmark: the release `wxprov run` against `wxprov sim` on loopback, as separate processes,
//! with the figures issue #13 asks for (and #12's overhead figure), one function per part:
//!
//! - (a) scale: a 100,000-row and a 1,000,000-row sheet (signatures only, no images; a tenth
//!   of `BENCH_SCALE_ROWS` and `BENCH_SCALE_ROWS` itself) through `wxprov run`, no latency, no
//!   limit, concurrency 64, then the finished job run again (the resume). For each process:
//!   peak memory (`ru_maxrss` from `wait4`, and VmHWM sampled from `/proc/PID/status` every
//!   5 ms, a lower bound), wall time (spawn to exit), API calls (the simulator's call log,
//!   counted as it streams in, and summary.json), calls per second. Goals: peak ≤ 150 MB
//!   (10⁶ bytes) in each; the large sheet's peak ≤ 1.3 × the small one's (first run and resume
//!   alike); the large resume ≤ 10 s with 0 calls; the large first run's calls/s not below the
//!   small one's. Then, on the finished job, `wxprov check` (it exits 1: the tokens were
//!   imported without their permission sets) and `wxprov plan` (no call: every step is done),
//!   each process's peak memory and wall time, with the run's memory goals: ≤ 150 MB in each,
//!   the large sheet's ≤ 1.3 × the small one's. Then the ledger: its file as the two runs left
//!   it, compacted by `wxprov ledger vacuum`, split into what the rows take (a compacted copy
//!   with the event log emptied) per thousand rows and what the event log takes per thousand
//!   calls (events).
//! - (b) a realistic regime: `BENCH_ROWS` rows (2,000, each asking for a new signature and a
//!   category by id, `287/612`: 5 calls a row) through the simulator with 50 ms latency under
//!   `calls_per_second = 100` (per-appid limit high, concurrency 64). CPU (user + sys) of the
//!   `wxprov run` process per call, goal ≤ 150 µs; pacing, achieved ÷ limit from the call log's
//!   `at_ms` (when each call arrived: `(calls − 1) / (last − first)`, so start-up is not
//!   counted), goal ≥ 0.98.
//! - (c) the status page: `BENCH_PAGE_ROWS` rows (100,000, signatures only, no latency, no
//!   limit) run `BENCH_PAGE_PAIRS` times (2) each way, alternately (plain first, then with the
//!   page first): plain, and with `wxprov serve JOB --status-listen 127.0.0.1:0` started on the
//!   ledger before the run and its page fetched every second (fifteen times as often as it
//!   reloads itself) until the run ends. Calls per second of each run, side by side, and what
//!   the page cost: its fetches, their latency, the serve process's CPU.
//! - (d) `wxprov status` on a ledger of `BENCH_SCALE_ROWS` steps (1,000,000; (a)'s large ledger
//!   when (a) ran, else a run made for it): wall time of `BENCH_REPEAT` calls, goal ≤ 1 s.
//! - (e) overhead, #12's figure to compare builds by (not in the default parts): the rows of (b),
//!   no latency, no limit, CPU per call of `BENCH_REPEAT` fresh runs (median; goal ≤ 50 µs),
//!   with the fixed cost (the finished job again, no call) and the figure net of it;
//!   `BENCH_CALLGRIND=1` adds one more run under `valgrind --tool=callgrind`, whose instruction
//!   count does not move with the machine's load.
//!
//! Each measured process is reaped with `wait4(pid)`, whose rusage is that child's alone. A
//! child started by `posix_spawn` (vfork) inherits this process's peak RSS in its
//! `ru_maxrss`, so this process keeps itself small (the call log is counted as it streams, not
//! held) and prints its own VmHWM for comparison. Rows are fast-registered mini-programs
//! (`wx` + 16 hex) of a generated fixture; refresh tokens reach the ledger with
//! `wxprov tokens import`. The load average is printed at the start and the end.
//!
//! Run (5 to 7 minutes on 2 cores, most of it (a)'s million rows and (b)'s 10,000 calls at
//! 100/s):
//!
//! ```sh
//! cargo build --release --bin wxprov --example bench_run && target/release/examples/bench_run
//! ```
//!
//! Environment: `BENCH_PARTS` which parts run (`abcd`, the default; add `e` for (e)),
//! `BENCH_SCALE_ROWS` (1000000), `BENCH_ROWS` (2000), `BENCH_PAGE_ROWS` (100000),
//! `BENCH_PAGE_PAIRS` (2), `BENCH_REPEAT` (3: (d)'s calls, (e)'s runs), `BENCH_CALLGRIND=1`,
//! `BENCH_KEEP=1` keeps the temp folder, `WXPROV_BIN` the binary (default: `wxprov` beside
//! `examples/`).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const EXAMPLE_FIXTURE: &str = include_str!("../crates/wechat-sim/fixtures/example.json");

/// The unit of the memory goals: 10⁶ bytes, in KiB.
const MB_KIB: f64 = 1e6 / 1024.0;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// The `wxprov` binary: `$WXPROV_BIN`, or the one built beside `examples/`.
fn wxprov_bin() -> Res<PathBuf> {
    if let Some(bin) = std::env::var_os("WXPROV_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(Path::parent).ok_or("cannot locate the target folder")?;
    let bin = dir.join("wxprov");
    if !bin.exists() {
        return Err(format!("{} is missing: cargo build --release --bin wxprov", bin.display()).into());
    }
    Ok(bin)
}

fn vm_hwm_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Now, in Unix milliseconds (the clock of the call log's `at_ms`).
fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// CPU time the whole machine has spent busy so far (every process and kernel thread: user,
/// nice, system, irq, softirq), from `/proc/stat`, in seconds.
fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .next()
        .map(|cpu| cpu.split_whitespace().skip(1).take(7).enumerate())
        .into_iter()
        .flatten()
        // Fields: user nice system idle iowait irq softirq; idle and iowait are not busy.
        .filter(|(i, _)| *i != 3 && *i != 4)
        .filter_map(|(_, v)| v.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf only reads a configuration value.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mb(kib: u64) -> f64 {
    kib as f64 / MB_KIB
}

/// One `wxprov` process, measured.
#[derive(Debug, Clone)]
struct Measured {
    code: i32,
    wall: Duration,
    user: Duration,
    sys: Duration,
    /// `ru_maxrss` of this child (KiB).
    maxrss_kib: u64,
    /// The highest VmHWM seen while polling (KiB).
    hwm_kib: u64,
    /// Voluntary context switches (`ru_nvcsw`): how often it waited.
    waits: u64,
}

impl Measured {
    fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    fn peak_kib(&self) -> u64 {
        self.maxrss_kib.max(self.hwm_kib)
    }
}

/// Waits for the spawned child `pid` (polling VmHWM every 5 ms) and reaps it with `wait4`
/// for its own rusage; sends it SIGKILL after `timeout`.
fn wait_measured(pid: libc::pid_t, started: Instant, timeout: Duration) -> Res<Measured> {
    let pid_s = pid.to_string();
    let mut hwm = 0;
    let mut killed = false;
    loop {
        let mut status = 0;
        // SAFETY: wait4 on our own child, with a zeroed rusage to fill.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            let wall = started.elapsed();
            let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -libc::WTERMSIG(status) };
            if killed {
                return Err(format!("timed out after {timeout:?} and was killed").into());
            }
            return Ok(Measured {
                code,
                wall,
                user: tv(ru.ru_utime),
                sys: tv(ru.ru_stime),
                maxrss_kib: ru.ru_maxrss as u64,
                hwm_kib: hwm,
                waits: ru.ru_nvcsw as u64,
            });
        }
        if r < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        if let Some(h) = vm_hwm_kib(&pid_s) {
            hwm = hwm.max(h);
        }
        if !killed && started.elapsed() > timeout {
            // SAFETY: our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Spawns `cmd` and measures it until it exits.
fn run_measured(mut cmd: Command, timeout: Duration) -> Res<Measured> {
    let started = Instant::now();
    let child: Child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    // Reaped by wait_measured with wait4, never through `child` (dropping a Child neither
    // waits nor kills).
    drop(child);
    wait_measured(pid, started, timeout)
}

/// What the simulator's call log holds, counted as it streams in (it can be millions of
/// calls; this process must stay small, see the module doc).
#[derive(Debug, Default)]
struct CallStats {
    calls: u64,
    first_ms: u64,
    last_ms: u64,
    /// Calls that arrived in each second (Unix seconds), for the rate's course over a run.
    per_second: std::collections::BTreeMap<u64, u64>,
}

impl CallStats {
    /// Calls per second between the first call's arrival and the last's.
    fn rate(&self) -> f64 {
        self.calls.saturating_sub(1) as f64 * 1000.0 / self.last_ms.saturating_sub(self.first_ms).max(1) as f64
    }

    /// Calls per second in each tenth of the whole seconds between the first call's and the
    /// last's (the two partial seconds left out; each second when there are fewer than ten):
    /// does the rate fall as the run goes on?
    fn tenths(&self) -> String {
        let whole: Vec<u64> = self.per_second.values().copied().collect();
        let whole = whole.get(1..whole.len().saturating_sub(1)).unwrap_or_default();
        let parts = whole.len().min(10);
        if parts == 0 {
            return "too short".into();
        }
        (0..parts)
            .map(|i| {
                let part = &whole[i * whole.len() / parts..(i + 1) * whole.len() / parts];
                format!("{:.0}", part.iter().sum::<u64>() as f64 / part.len() as f64)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `wxprov sim` in its own process, for one scenario.
struct Sim {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl Sim {
    fn start(bin: &Path, fixture: &Path, latency_ms: u64) -> Res<Sim> {
        let mut child = Command::new(bin)
            .args(["sim", "--listen", "127.0.0.1:0", "--latency-ms", &latency_ms.to_string(), "--fixture"])
            .arg(fixture)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no sim stdout")?).read_line(&mut line)?;
        let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("wxprov sim printed {line:?}").into());
        }
        let http = reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(600)).build()?;
        Ok(Sim { child, url, http })
    }

    /// Calls `each` with the arrival time (`at_ms`) of every call in the log, reading the
    /// JSON as it streams: a record's `"at_ms":N` sits between two commas.
    fn scan_calls(&self, mut each: impl FnMut(u64)) -> Res<()> {
        let answer = self.http.get(format!("{}/__sim/calls", self.url)).send()?.error_for_status()?;
        for field in BufReader::with_capacity(1 << 16, answer).split(b',') {
            if let Some(n) = field?.strip_prefix(b"\"at_ms\":") {
                each(std::str::from_utf8(n)?.trim().parse()?);
            }
        }
        Ok(())
    }

    fn call_stats(&self) -> Res<CallStats> {
        let mut s = CallStats { first_ms: u64::MAX, ..CallStats::default() };
        self.scan_calls(|at| {
            s.calls += 1;
            s.first_ms = s.first_ms.min(at);
            s.last_ms = s.last_ms.max(at);
            *s.per_second.entry(at / 1000).or_default() += 1;
        })?;
        Ok(s)
    }

    /// CPU time (user + sys) the simulator's process has used so far, from `/proc/PID/stat`.
    fn cpu(&self) -> Res<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name (which may hold spaces, so split after its `)`):
        // utime and stime are the 12th and 13th, in clock ticks.
        let rest = stat.rsplit_once(')').ok_or("odd /proc/PID/stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11).ok_or("no utime")?.parse::<u64>()? + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_micros(ticks * 1_000_000 / per_second))
    }

    fn clear_calls(&self) -> Res<()> {
        self.http.delete(format!("{}/__sim/calls", self.url)).send()?.error_for_status()?;
        Ok(())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scenario's folder: fixture, tokens CSV, manifest, job file, ledger, reports.
struct Scenario {
    dir: PathBuf,
    bin: PathBuf,
    rows: usize,
    component: Value,
}

impl Scenario {
    /// Writes the fixture (the example's category tree and component, `rows` fresh
    /// mini-programs), `tokens.csv` and `manifest.csv`; `categories`: each row also asks for
    /// a category.
    fn new(root: &Path, name: &str, bin: &Path, rows: usize, categories: bool) -> Res<Scenario> {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        let mut fixture: Value = serde_json::from_str(EXAMPLE_FIXTURE)?;
        fixture["mini_programs"] = json!([]);
        fixture["rebind_taskids"] = json!([]);
        fixture["quotas"] = json!({});
        let component = fixture["component"].clone();
        let text = serde_json::to_string(&fixture)?;
        let (head, tail) = text.split_once("\"mini_programs\":[]").ok_or("fixture layout")?;
        let appid = |i: usize| format!("wx{:016x}", 0xbe0c_0000_0000_0000u64 + i as u64);

        let mut fx = BufWriter::new(std::fs::File::create(dir.join("fixture.json"))?);
        let mut tokens = BufWriter::new(std::fs::File::create(dir.join("tokens.csv"))?);
        let mut manifest = BufWriter::new(std::fs::File::create(dir.join("manifest.csv"))?);
        write!(fx, "{head}\"mini_programs\":[")?;
        writeln!(tokens, "appid,refresh_token")?;
        writeln!(manifest, "{}", if categories { "appid,signature,categories" } else { "appid,signature" })?;
        for i in 0..rows {
            let id = appid(i);
            if i > 0 {
                fx.write_all(b",")?;
            }
            write!(fx, "{{\"appid\":\"{id}\",\"refresh_token\":\"refreshtoken@@@bench-{i}\",\"principal_name\":\"基准测试有限公司\"}}")?;
            writeln!(tokens, "{id},refreshtoken@@@bench-{i}")?;
            if categories {
                writeln!(manifest, "{id},第{i}家门店的功能介绍。,287/612")?;
            } else {
                writeln!(manifest, "{id},第{i}家门店的功能介绍。")?;
            }
        }
        write!(fx, "]{tail}")?;
        fx.flush()?;
        tokens.flush()?;
        manifest.flush()?;
        Ok(Scenario { dir, bin: bin.to_path_buf(), rows, component })
    }

    fn job(&self, calls_per_second: u32, per_appid: u32, concurrency: usize) -> Res<()> {
        std::fs::write(
            self.dir.join("job.toml"),
            format!(
                "manifest = \"manifest.csv\"\nreport_dir = \"reports\"\nconcurrency = {concurrency}\n\
                 [limits]\ncalls_per_second = {calls_per_second}\nper_appid_per_second = {per_appid}\n\
                 [retry]\nmax_attempts = 5\n"
            ),
        )?;
        Ok(())
    }

    fn ledger(&self) -> PathBuf {
        self.dir.join("wxprov.db")
    }

    /// `wxprov ARGS` in this folder (against `sim`, if given), output to `NAME.out` /
    /// `NAME.err`.
    fn command(&self, sim: Option<&Sim>, name: &str, args: &[&str]) -> Res<Command> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).current_dir(&self.dir).stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("WXPROV_") {
                cmd.env_remove(key);
            }
        }
        let s = |k: &str| self.component[k].as_str().unwrap_or_default().to_string();
        cmd.env("NO_COLOR", "1").env("WXPROV_LEDGER", self.ledger());
        if let Some(sim) = sim {
            cmd.env("WXPROV_API_BASE", &sim.url)
                .env("WXPROV_COMPONENT_APPID", s("appid"))
                .env("WXPROV_COMPONENT_SECRET", s("secret"))
                .env("WXPROV_COMPONENT_VERIFY_TICKET", s("verify_ticket"));
        }
        cmd.stdout(std::fs::File::create(self.dir.join(format!("{name}.out")))?)
            .stderr(std::fs::File::create(self.dir.join(format!("{name}.err")))?);
        Ok(cmd)
    }

    /// Runs `wxprov ARGS`, measured; fails unless it exits 0.
    fn run(&self, sim: Option<&Sim>, name: &str, args: &[&str], timeout: Duration) -> Res<Measured> {
        self.run_exiting(sim, name, args, 0, timeout)
    }

    /// Runs `wxprov ARGS`, measured; fails unless it exits `code`.
    fn run_exiting(&self, sim: Option<&Sim>, name: &str, args: &[&str], code: i32, timeout: Duration) -> Res<Measured> {
        let m = run_measured(self.command(sim, name, args)?, timeout)
            .map_err(|e| format!("wxprov {} ({name}): {e}", args.join(" ")))?;
        if m.code != code {
            let err = std::fs::read_to_string(self.dir.join(format!("{name}.err"))).unwrap_or_default();
            let tail: String =
                err.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            return Err(format!("wxprov {} ({name}) exited {}:\n{tail}", args.join(" "), m.code).into());
        }
        Ok(m)
    }

    fn import_tokens(&self, sim: &Sim) -> Res<Measured> {
        self.run(Some(sim), "import", &["tokens", "import", "tokens.csv"], Duration::from_secs(1800))
    }

    /// The latest run's summary.json, and its total API calls.
    fn summary(&self) -> Res<(Value, u64)> {
        let path = self.dir.join("reports/latest/summary.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let calls = v["calls"].as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0);
        Ok((v, calls))
    }

    /// `wxprov run job.toml` against `sim`, which must leave every step done (or skipped):
    /// the process's figures and summary.json's call count.
    fn run_job(&self, sim: &Sim, name: &str, timeout: Duration) -> Res<(Measured, u64)> {
        let m = self.run(Some(sim), name, &["run", "job.toml"], timeout)?;
        let (summary, calls) = self.summary()?;
        let steps = summary["steps"].as_object().ok_or("summary.json has no steps")?;
        let settled: u64 = ["done", "skipped"].iter().filter_map(|k| steps.get(*k)).filter_map(Value::as_u64).sum();
        let all: u64 = steps.values().filter_map(Value::as_u64).sum();
        if settled != all || summary["rows"].as_u64() != Some(self.rows as u64) {
            return Err(
                format!("{name}: not every step ended done: rows {}, steps {:?}", summary["rows"], steps).into()
            );
        }
        Ok((m, calls))
    }
}

/// One line of the closing table.
struct Figure {
    name: String,
    value: String,
    target: String,
    pass: Option<bool>,
}

/// The benchmark's state: where it works and the figures so far.
struct Bench {
    bin: PathBuf,
    root: PathBuf,
    figures: Vec<Figure>,
}

impl Bench {
    fn figure(&mut self, name: &str, value: String, target: &str, pass: Option<bool>) {
        self.figures.push(Figure { name: name.into(), value, target: target.into(), pass });
    }

    fn scenario(&self, name: &str, rows: usize, categories: bool) -> Res<Scenario> {
        Scenario::new(&self.root, name, &self.bin, rows, categories)
    }

    fn print_figures(&self) {
        println!("\n{:<44} {:>30}  {:<16} result", "figure", "value", "goal");
        for f in &self.figures {
            let result = match f.pass {
                Some(true) => "PASS",
                Some(false) => "FAIL",
                None => "",
            };
            println!("{:<44} {:>30}  {:<16} {result}", f.name, f.value, f.target);
        }
    }
}

/// (a) for one sheet size: the first run and the resume, `check` and `plan` on the finished
/// job, and the ledger they leave.
struct ScaleRun {
    rows: usize,
    first: Measured,
    first_calls: CallStats,
    resume: Measured,
    resume_calls: (u64, u64),
    check: Measured,
    plan: Measured,
    scenario: Scenario,
}

impl ScaleRun {
    fn calls_per_second(&self) -> f64 {
        self.first_calls.calls as f64 / secs(self.first.wall)
    }
}

fn scale_one(bench: &Bench, rows: usize) -> Res<ScaleRun> {
    let sc = bench.scenario(&format!("a-scale-{rows}"), rows, false)?;
    let sim = Sim::start(&bench.bin, &sc.dir.join("fixture.json"), 0)?;
    let imp = sc.import_tokens(&sim)?;
    sc.job(1_000_000, 1_000_000, 64)?;
    println!("\n(a) {rows} rows (signature only); tokens import took {:.1} s", secs(imp.wall));
    let sim_loaded_kib = vm_hwm_kib(&sim.child.id().to_string()).unwrap_or(0);
    let (sim_cpu_before, started_ms, busy_before) = (sim.cpu()?, unix_ms(), machine_busy());
    let (first, summary_calls) = sc.run_job(&sim, "first", Duration::from_secs(3600))?;
    let (sim_cpu, ended_ms) = (sim.cpu()?.saturating_sub(sim_cpu_before), unix_ms());
    let busy = machine_busy() - busy_before;
    let first_calls = sim.call_stats()?;
    println!(
        "    first run: {} calls ({summary_calls} in summary.json) in {:.1} s wall = {:.0} calls/s ({:.0} calls/s \
         between the first call and the last); CPU {:.1} s = {:.1} µs a call; peak RSS {:.1} MB (ru_maxrss {} KiB, \
         VmHWM seen {} KiB)",
        first_calls.calls,
        secs(first.wall),
        first_calls.calls as f64 / secs(first.wall),
        first_calls.rate(),
        secs(first.cpu()),
        secs(first.cpu()) * 1e6 / first_calls.calls.max(1) as f64,
        mb(first.peak_kib()),
        first.maxrss_kib,
        first.hwm_kib
    );
    println!(
        "    of its wall: {:.2} s before the first call, {:.2} s after the last; the simulator's CPU {:.1} s = {:.1} µs \
         a call, its peak RSS {:.1} MB ({:.1} MB with the fixture and the tokens, before the run)",
        first_calls.first_ms.saturating_sub(started_ms) as f64 / 1000.0,
        ended_ms.saturating_sub(first_calls.last_ms) as f64 / 1000.0,
        secs(sim_cpu),
        secs(sim_cpu) * 1e6 / first_calls.calls.max(1) as f64,
        mb(vm_hwm_kib(&sim.child.id().to_string()).unwrap_or(0)),
        mb(sim_loaded_kib)
    );
    println!(
        "    the machine's CPU (every process and the kernel) {busy:.1} s = {:.1} µs a call; calls/s in each tenth of \
         the run: {}",
        busy * 1e6 / first_calls.calls.max(1) as f64,
        first_calls.tenths()
    );
    if first_calls.calls != summary_calls {
        return Err(
            format!("the simulator saw {} calls, summary.json counts {summary_calls}", first_calls.calls).into()
        );
    }
    sim.clear_calls()?;
    let (resume, resume_summary_calls) = sc.run_job(&sim, "resume", Duration::from_secs(1200))?;
    let resume_sim_calls = sim.call_stats()?.calls;
    println!(
        "    resume: {:.2} s wall, CPU {:.2} s, {resume_sim_calls} calls at the simulator ({resume_summary_calls} in \
         summary.json); peak RSS {:.1} MB (ru_maxrss {} KiB, VmHWM seen {} KiB); this process's own VmHWM {} KiB",
        secs(resume.wall),
        secs(resume.cpu()),
        mb(resume.peak_kib()),
        resume.maxrss_kib,
        resume.hwm_kib,
        vm_hwm_kib("self").unwrap_or(0)
    );
    let (check, plan) = check_and_plan(&sc, &sim)?;
    Ok(ScaleRun {
        rows,
        first,
        first_calls,
        resume,
        resume_calls: (resume_sim_calls, resume_summary_calls),
        check,
        plan,
        scenario: sc,
    })
}

/// `wxprov check` and `wxprov plan` on the finished job, each measured. The check exits 1:
/// the tokens were imported without their permission sets, so it cannot pass those (every
/// account is still looked up); its sheet and token lines must have counted every row. The
/// plan makes no call (every step is done) and must show every row's signature, kept.
fn check_and_plan(sc: &Scenario, sim: &Sim) -> Res<(Measured, Measured)> {
    let rows = sc.rows;
    let check = sc.run_exiting(Some(sim), "check", &["check", "job.toml"], 1, Duration::from_secs(1800))?;
    let out = std::fs::read_to_string(sc.dir.join("check.out"))?;
    for want in [
        format!("ok    sheet: {rows} rows, all valid\n"),
        format!("ok    refresh tokens: each of the {rows} accounts the rows act on has one\n"),
        format!("FAIL  permission sets: not known for {rows} of {rows} accounts: "),
    ] {
        if !out.contains(&want) {
            return Err(format!("check's output lacks {want:?}:\n{out}").into());
        }
    }
    println!(
        "    check: {:.2} s wall, CPU {:.2} s; peak RSS {:.1} MB (ru_maxrss {} KiB, VmHWM seen {} KiB)",
        secs(check.wall),
        secs(check.cpu()),
        mb(check.peak_kib()),
        check.maxrss_kib,
        check.hwm_kib
    );
    sim.clear_calls()?;
    let plan = sc.run(Some(sim), "plan", &["plan", "job.toml"], Duration::from_secs(1800))?;
    let plan_calls = sim.call_stats()?.calls;
    // The header, a line per row (its signature kept as it is: `skip`), a blank line and the
    // counts.
    let (mut lines, mut kept) = (0usize, 0usize);
    let mut last = String::new();
    for line in BufReader::new(std::fs::File::open(sc.dir.join("plan.out"))?).lines() {
        let line = line?;
        lines += 1;
        let words: Vec<&str> = line.split_whitespace().take(4).collect();
        kept += usize::from(words.get(2..4) == Some(&["signature", "skip"][..]));
        last = line;
    }
    if lines != rows + 3 || kept != rows || last != format!("skip {rows}") || plan_calls != 0 {
        return Err(format!(
            "plan: {lines} lines, {kept} signatures to skip, last {last:?}, {plan_calls} calls (want {} lines, {rows} \
             to skip, 0 calls)",
            rows + 3
        )
        .into());
    }
    println!(
        "    plan: {:.2} s wall, CPU {:.2} s, {plan_calls} calls; peak RSS {:.1} MB (ru_maxrss {} KiB, VmHWM seen {} KiB)",
        secs(plan.wall),
        secs(plan.cpu()),
        mb(plan.peak_kib()),
        plan.maxrss_kib,
        plan.hwm_kib
    );
    Ok((check, plan))
}

/// (a)'s ledger, in bytes: as the runs left it, compacted, and its shares.
struct LedgerSize {
    left: u64,
    total: u64,
    per_thousand_rows: f64,
    per_thousand_calls: f64,
    vacuum_wall: Duration,
    disk_taken: u64,
}

/// The file system's free space, sampled every 5 ms from a thread: how much of it a command
/// took at most while it ran (other writers on the same file system count too).
struct DiskWatch {
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<Res<u64>>,
}

impl DiskWatch {
    fn free_bytes(path: &Path) -> Res<u64> {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
        // SAFETY: statvfs fills the zeroed struct it is given, for a NUL-terminated path.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(st.f_bavail as u64 * st.f_frsize as u64)
    }

    fn start(path: &Path) -> Res<DiskWatch> {
        let path = path.to_path_buf();
        let before = DiskWatch::free_bytes(&path)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let sampler = std::thread::spawn(move || -> Res<u64> {
            let mut least = before;
            while !flag.load(Ordering::Relaxed) {
                least = least.min(DiskWatch::free_bytes(&path)?);
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(before.saturating_sub(least))
        });
        Ok(DiskWatch { stop, sampler })
    }

    /// The most bytes taken beyond what was taken at the start.
    fn stop(self) -> Res<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().map_err(|_| "the disk sampler panicked")?
    }
}

/// The ledger's file as the runs left it, then compacted: what the rows take (a compacted copy
/// with the event log emptied) per thousand rows, what the event log takes per thousand events
/// (one an API call).
fn ledger_size(run: &ScaleRun) -> Res<LedgerSize> {
    let sc = &run.scenario;
    let ledger = sc.ledger();
    let on_disk = |p: &Path| -> u64 {
        ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", p.display())).ok()).map(|m| m.len()).sum()
    };
    let left = on_disk(&ledger);
    let disk = DiskWatch::start(&sc.dir)?;
    let vacuum = sc.run(None, "vacuum", &["ledger", "vacuum", "job.toml"], Duration::from_secs(1800))?;
    let disk_taken = disk.stop()?;
    let total = on_disk(&ledger);
    let count = |conn: &rusqlite::Connection, table: &str| -> Res<u64> {
        Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    let conn = rusqlite::Connection::open(&ledger)?;
    let (rows, steps, events) = (count(&conn, "rows")?, count(&conn, "steps")?, count(&conn, "events")?);
    let without = sc.dir.join("without-events.db");
    conn.execute("VACUUM INTO ?1", [without.to_string_lossy()])?;
    drop(conn);
    let conn = rusqlite::Connection::open(&without)?;
    conn.execute_batch("DELETE FROM events; VACUUM;")?;
    drop(conn);
    let rows_share = std::fs::metadata(&without)?.len();
    std::fs::remove_file(&without)?;
    let per_thousand_rows = rows_share as f64 * 1000.0 / rows.max(1) as f64;
    let per_thousand_calls = total.saturating_sub(rows_share) as f64 * 1000.0 / events.max(1) as f64;
    println!(
        "    ledger: {:.1} MB as the two runs left it; `ledger vacuum` ({:.1} s, peak RSS {:.1} MB, at most {:.1} MB \
         more of the file system taken while it ran) {:.1} MB for {rows} rows, {steps} steps and {events} events; \
         without the events {:.1} MB: {:.0} KiB per thousand rows, {:.0} KiB per thousand calls",
        left as f64 / 1e6,
        secs(vacuum.wall),
        mb(vacuum.peak_kib()),
        disk_taken as f64 / 1e6,
        total as f64 / 1e6,
        rows_share as f64 / 1e6,
        per_thousand_rows / 1024.0,
        per_thousand_calls / 1024.0
    );
    Ok(LedgerSize { left, total, per_thousand_rows, per_thousand_calls, vacuum_wall: vacuum.wall, disk_taken })
}

/// (a) scale: the small and the large sheet, each run and resumed; returns the large one's
/// scenario for (d).
fn part_scale(bench: &mut Bench, large: usize) -> Res<Scenario> {
    let small = scale_one(bench, large / 10)?;
    let small_ledger = ledger_size(&small)?;
    let big = scale_one(bench, large)?;
    let big_ledger = ledger_size(&big)?;
    let goal_kib = 150.0 * MB_KIB;
    for (run, ledger) in [(&small, &small_ledger), (&big, &big_ledger)] {
        let n = run.rows;
        bench.figure(
            &format!("(a) {n}: first run peak RSS"),
            format!("{:.1} MB", mb(run.first.peak_kib())),
            "≤ 150 MB",
            Some(run.first.peak_kib() as f64 <= goal_kib),
        );
        bench.figure(
            &format!("(a) {n}: first run wall, calls/s"),
            format!("{:.1} s, {} calls, {:.0}/s", secs(run.first.wall), run.first_calls.calls, run.calls_per_second()),
            "(reported)",
            None,
        );
        bench.figure(
            &format!("(a) {n}: resume peak RSS"),
            format!("{:.1} MB", mb(run.resume.peak_kib())),
            "≤ 150 MB",
            Some(run.resume.peak_kib() as f64 <= goal_kib),
        );
        let (sim_calls, summary_calls) = run.resume_calls;
        bench.figure(
            &format!("(a) {n}: resume wall, calls"),
            format!("{:.2} s, {sim_calls} calls (summary {summary_calls})", secs(run.resume.wall)),
            if n == large { "≤ 10 s, 0 calls" } else { "0 calls" },
            Some((n != large || secs(run.resume.wall) <= 10.0) && sim_calls == 0 && summary_calls == 0),
        );
        for (what, m) in [("check", &run.check), ("plan", &run.plan)] {
            bench.figure(
                &format!("(a) {n}: {what} peak RSS"),
                format!("{:.1} MB", mb(m.peak_kib())),
                "≤ 150 MB",
                Some(m.peak_kib() as f64 <= goal_kib),
            );
            bench.figure(&format!("(a) {n}: {what} wall"), format!("{:.2} s", secs(m.wall)), "(reported)", None);
        }
        bench.figure(
            &format!("(a) {n}: ledger, compacted (as left)"),
            format!("{:.1} MB ({:.1} MB)", ledger.total as f64 / 1e6, ledger.left as f64 / 1e6),
            "(reported)",
            None,
        );
        bench.figure(
            &format!("(a) {n}: ledger per 1000 rows / calls"),
            format!("{:.0} KiB / {:.0} KiB", ledger.per_thousand_rows / 1024.0, ledger.per_thousand_calls / 1024.0),
            "(reported)",
            None,
        );
        bench.figure(
            &format!("(a) {n}: ledger vacuum: wall, disk taken"),
            format!("{:.1} s, {:.1} MB", secs(ledger.vacuum_wall), ledger.disk_taken as f64 / 1e6),
            "(reported)",
            None,
        );
    }
    let ratio = |a: &Measured, b: &Measured| a.peak_kib() as f64 / b.peak_kib().max(1) as f64;
    let first_ratio = ratio(&big.first, &small.first);
    let resume_ratio = ratio(&big.resume, &small.resume);
    bench.figure(
        "(a) peak RSS large ÷ small: first run",
        format!("{first_ratio:.2}"),
        "≤ 1.3",
        Some(first_ratio <= 1.3),
    );
    bench.figure(
        "(a) peak RSS large ÷ small: resume",
        format!("{resume_ratio:.2}"),
        "≤ 1.3",
        Some(resume_ratio <= 1.3),
    );
    for (what, big, small) in [("check", &big.check, &small.check), ("plan", &big.plan, &small.plan)] {
        let r = ratio(big, small);
        bench.figure(&format!("(a) peak RSS large ÷ small: {what}"), format!("{r:.2}"), "≤ 1.3", Some(r <= 1.3));
    }
    let (big_rate, small_rate) = (big.calls_per_second(), small.calls_per_second());
    bench.figure(
        "(a) calls/s large ÷ small (first run)",
        format!("{:.2} ({big_rate:.0} / {small_rate:.0})", big_rate / small_rate),
        "≥ 1",
        Some(big_rate >= small_rate),
    );
    Ok(big.scenario)
}

/// (b) the realistic regime: 50 ms latency, 100 calls/s; CPU per call and pacing.
fn part_realistic(bench: &mut Bench, rows: usize) -> Res<()> {
    let limit = 100u32;
    let sc = bench.scenario("b-realistic", rows, true)?;
    let sim = Sim::start(&bench.bin, &sc.dir.join("fixture.json"), 50)?;
    sc.import_tokens(&sim)?;
    sc.job(limit, 100_000, 64)?;
    println!("\n(b) {rows} rows, 50 ms latency, calls_per_second = {limit}, concurrency 64 …");
    let (m, summary_calls) = sc.run_job(&sim, "run", Duration::from_secs(1200))?;
    let mut at = Vec::new();
    sim.scan_calls(|t| at.push(t))?;
    at.sort_unstable();
    let stats = CallStats {
        calls: at.len() as u64,
        first_ms: at.first().copied().unwrap_or(0),
        last_ms: at.last().copied().unwrap_or(0),
        per_second: Default::default(),
    };
    let rate = stats.rate();
    let first_second = at.iter().take_while(|&&t| t < stats.first_ms + 1000).count();
    // Steady state: from 1 s after the first call to the last, leaving out the opening burst.
    let after = at.iter().filter(|&&t| t >= stats.first_ms + 1000).count();
    let span_ms = stats.last_ms - stats.first_ms;
    let steady = after.saturating_sub(1) as f64 * 1000.0 / (span_ms.saturating_sub(1000)).max(1) as f64;
    let per_call = secs(m.cpu()) * 1e6 / stats.calls.max(1) as f64;
    println!(
        "    {} calls reached the simulator ({summary_calls} in summary.json) in {:.2} s between the first and the \
         last; run wall {:.2} s; CPU user {:.3} s + sys {:.3} s = {per_call:.1} µs a call; {:.1} voluntary context \
         switches a call; peak RSS {:.1} MB",
        stats.calls,
        span_ms as f64 / 1000.0,
        secs(m.wall),
        secs(m.user),
        secs(m.sys),
        m.waits as f64 / stats.calls.max(1) as f64,
        mb(m.peak_kib())
    );
    println!(
        "    achieved {rate:.2} calls/s = {:.3} × limit; first second {first_second} calls; after it {steady:.2} \
         calls/s = {:.3} × limit",
        rate / limit as f64,
        steady / limit as f64
    );
    bench.figure(
        "(b) CPU per call, 50 ms latency, 100/s",
        format!("{per_call:.1} µs ({} calls)", stats.calls),
        "≤ 150 µs",
        Some(per_call <= 150.0),
    );
    bench.figure(
        "(b) pacing: achieved ÷ limit",
        format!("{:.3} ({rate:.1}/s)", rate / limit as f64),
        "≥ 0.98",
        Some(rate / limit as f64 >= 0.98),
    );
    Ok(())
}

/// `wxprov serve --status-listen` on a scenario's ledger, with a thread fetching its page
/// every second.
struct PageWatcher {
    pid: libc::pid_t,
    started: Instant,
    stop: Arc<AtomicBool>,
    fetcher: std::thread::JoinHandle<Res<Vec<(u16, Duration)>>>,
}

impl PageWatcher {
    fn start(sc: &Scenario) -> Res<PageWatcher> {
        let mut cmd = sc.command(
            None,
            "serve",
            &["serve", "job.toml", "--listen", "127.0.0.1:0", "--status-listen", "127.0.0.1:0"],
        )?;
        let started = Instant::now();
        let mut child = cmd.stdout(Stdio::piped()).spawn()?;
        let pid = child.id() as libc::pid_t;
        let mut out = BufReader::new(child.stdout.take().ok_or("no serve stdout")?);
        drop(child);
        let mut url = None;
        let mut line = String::new();
        while url.is_none() && out.read_line(&mut line)? > 0 {
            url = line.trim().strip_prefix("wxprov serve status page on ").map(str::to_string);
            line.clear();
        }
        let Some(url) = url else {
            // SAFETY: our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            wait_measured(pid, started, Duration::from_secs(10))?;
            return Err("wxprov serve printed no status page URL".into());
        };
        // Its stdout stays open (a closed pipe would fail a later print), drained by the fetcher.
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let fetcher = std::thread::spawn(move || -> Res<Vec<(u16, Duration)>> {
            let _out = out;
            let http = reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build()?;
            let mut fetches = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                let answer = http.get(&url).send()?;
                let status = answer.status().as_u16();
                let body = answer.text()?;
                if status != 200 || !body.trim_end().ends_with("</html>") {
                    return Err(format!("the status page answered {status}: {body:.300}").into());
                }
                fetches.push((status, t.elapsed()));
                std::thread::sleep(Duration::from_secs(1).saturating_sub(t.elapsed()));
            }
            Ok(fetches)
        });
        Ok(PageWatcher { pid, started, stop, fetcher })
    }

    /// Stops the fetching and `serve` (SIGTERM): the fetches' latencies, and serve's figures.
    fn stop(self) -> Res<(Vec<Duration>, Measured)> {
        self.stop.store(true, Ordering::Relaxed);
        let fetches = self.fetcher.join().map_err(|_| "the page fetcher panicked")??;
        // SAFETY: our own child, not yet reaped.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        let serve = wait_measured(self.pid, self.started, Duration::from_secs(30))?;
        Ok((fetches.into_iter().map(|(_, d)| d).collect(), serve))
    }
}

/// One run of (c): its calls per second and CPU (µs) a call.
struct PageRun {
    rate: f64,
    cpu_per_call: f64,
}

/// (c) calls per second of a run with the status page open and fetched every second, and
/// without it, alternately.
fn part_status_page(bench: &mut Bench, rows: usize, pairs: usize) -> Res<()> {
    println!("\n(c) status page: {rows} rows, no latency, no limit, {pairs} runs with the page and {pairs} without …");
    let (mut plain, mut watched) = (Vec::new(), Vec::new());
    for i in 0..pairs * 2 {
        let with_page = (i % 2 == 1) != (i / 2 % 2 == 1);
        let sc = bench.scenario(&format!("c-page-{i}"), rows, false)?;
        let sim = Sim::start(&bench.bin, &sc.dir.join("fixture.json"), 0)?;
        sc.import_tokens(&sim)?;
        sc.job(1_000_000, 1_000_000, 64)?;
        let watcher = with_page.then(|| PageWatcher::start(&sc)).transpose()?;
        let (m, calls) = sc.run_job(&sim, "run", Duration::from_secs(1800))?;
        let rate = calls as f64 / secs(m.wall);
        let cpu_per_call = secs(m.cpu()) * 1e6 / calls.max(1) as f64;
        match watcher {
            Some(w) => {
                let (mut fetches, serve) = w.stop()?;
                fetches.sort();
                let median = fetches.get(fetches.len() / 2).copied().unwrap_or_default();
                let max = fetches.last().copied().unwrap_or_default();
                println!(
                    "    with the page: {calls} calls in {:.1} s = {rate:.0} calls/s, {cpu_per_call:.1} µs CPU a call; \
                     {} fetches, median {:.0} ms, max {:.0} ms; serve's CPU {:.2} s, peak RSS {:.1} MB",
                    secs(m.wall),
                    fetches.len(),
                    secs(median) * 1e3,
                    secs(max) * 1e3,
                    secs(serve.cpu()),
                    mb(serve.peak_kib())
                );
                watched.push(PageRun { rate, cpu_per_call });
            }
            None => {
                println!(
                    "    without:       {calls} calls in {:.1} s = {rate:.0} calls/s, {cpu_per_call:.1} µs CPU a call",
                    secs(m.wall)
                );
                plain.push(PageRun { rate, cpu_per_call });
            }
        }
    }
    let mean = |v: &[PageRun], f: fn(&PageRun) -> f64| v.iter().map(f).sum::<f64>() / v.len().max(1) as f64;
    let list = |v: &[PageRun]| v.iter().map(|r| format!("{:.0}", r.rate)).collect::<Vec<_>>().join(", ");
    let rate: fn(&PageRun) -> f64 = |r| r.rate;
    let cpu: fn(&PageRun) -> f64 = |r| r.cpu_per_call;
    bench.figure(
        "(c) calls/s without the page",
        format!("{} (mean {:.0})", list(&plain), mean(&plain, rate)),
        "",
        None,
    );
    bench.figure(
        "(c) calls/s with the page fetched 1/s",
        format!("{} (mean {:.0})", list(&watched), mean(&watched, rate)),
        "",
        None,
    );
    bench.figure(
        "(c) with ÷ without: calls/s, CPU a call",
        format!(
            "{:.2}, {:.2} ({:.1} / {:.1} µs)",
            mean(&watched, rate) / mean(&plain, rate),
            mean(&watched, cpu) / mean(&plain, cpu),
            mean(&watched, cpu),
            mean(&plain, cpu)
        ),
        "(reported)",
        None,
    );
    Ok(())
}

/// (d) `wxprov status` on a ledger of a million steps: `scale`'s, or one made here.
fn part_status_wall(bench: &mut Bench, scale: Option<Scenario>, rows: usize, repeat: usize) -> Res<()> {
    let sc = match scale {
        Some(sc) => sc,
        None => {
            let sc = bench.scenario("d-status", rows, false)?;
            let sim = Sim::start(&bench.bin, &sc.dir.join("fixture.json"), 0)?;
            sc.import_tokens(&sim)?;
            sc.job(1_000_000, 1_000_000, 64)?;
            println!("\n(d) a {rows}-row run to make the ledger …");
            sc.run_job(&sim, "first", Duration::from_secs(3600))?;
            sc
        }
    };
    let conn = rusqlite::Connection::open(sc.ledger())?;
    let steps: u64 = conn.query_row("SELECT count(*) FROM steps", [], |r| r.get(0))?;
    drop(conn);
    println!("\n(d) `wxprov status` on a ledger of {steps} steps, {repeat} times …");
    let mut walls = Vec::new();
    for i in 0..repeat {
        let m = sc.run(None, &format!("status-{i}"), &["status", "job.toml"], Duration::from_secs(120))?;
        let out = std::fs::read_to_string(sc.dir.join(format!("status-{i}.out")))?;
        if !out.contains(&steps.to_string()) {
            return Err(format!("status does not show the {steps} steps:\n{out}").into());
        }
        println!("    {:.3} s wall, CPU {:.3} s, peak RSS {:.1} MB", secs(m.wall), secs(m.cpu()), mb(m.peak_kib()));
        walls.push(secs(m.wall));
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    bench.figure(
        &format!("(d) status wall, {steps} steps"),
        format!("{median:.2} s ({:.2}–{:.2})", walls[0], walls[walls.len() - 1]),
        "≤ 1 s",
        Some(median <= 1.0),
    );
    Ok(())
}

/// A fresh (e) run with `wxprov run` under `valgrind --tool=callgrind`: the instructions it
/// executed (callgrind's `summary:` line) and the calls the simulator received.
fn callgrind_run(bench: &Bench, rows: usize) -> Res<(u64, u64)> {
    let sc = bench.scenario("e-callgrind", rows, true)?;
    let sim = Sim::start(&bench.bin, &sc.dir.join("fixture.json"), 0)?;
    sc.import_tokens(&sim)?;
    sc.job(1_000_000, 1_000_000, 64)?;
    println!("    callgrind: one more fresh run under valgrind …");
    let out = sc.dir.join("callgrind.out");
    let run = sc.command(Some(&sim), "callgrind", &["run", "job.toml"])?;
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind").arg(format!("--callgrind-out-file={}", out.display())).arg(run.get_program());
    cmd.args(run.get_args()).current_dir(&sc.dir).stdin(Stdio::null());
    for (key, value) in run.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.stdout(Stdio::null()).stderr(std::fs::File::create(sc.dir.join("callgrind.err"))?);
    let m = run_measured(cmd, Duration::from_secs(1800))?;
    if m.code != 0 {
        return Err(format!("wxprov run under valgrind exited {} (see {})", m.code, sc.dir.display()).into());
    }
    let calls = sim.call_stats()?.calls;
    let text = std::fs::read_to_string(&out)?;
    let instructions = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .ok_or("callgrind's output has no summary line")?;
    println!("    callgrind: {instructions} instructions, {calls} calls");
    Ok((instructions, calls))
}

/// (e) overhead: `repeat` fresh runs (a new ledger and simulator each) with no latency and
/// no limit, the median CPU per call.
fn part_overhead(bench: &mut Bench, rows: usize, repeat: usize) -> Res<()> {
    println!("\n(e) overhead: {rows} rows, no latency, no limit, {repeat} times …");
    let (mut per_calls, mut nets) = (Vec::new(), Vec::new());
    for i in 1..=repeat {
        let sc = bench.scenario(&format!("e-overhead-{i}"), rows, true)?;
        let sim = Sim::start(&bench.bin, &sc.dir.join("fixture.json"), 0)?;
        sc.import_tokens(&sim)?;
        sc.job(1_000_000, 1_000_000, 64)?;
        let (m, summary_calls) = sc.run_job(&sim, "run", Duration::from_secs(300))?;
        let calls = sim.call_stats()?.calls;
        let per_call = secs(m.cpu()) * 1e6 / calls.max(1) as f64;
        // The fixed cost: the finished job again (reads the manifest and ledger, writes
        // reports, no call).
        let (again, again_calls) = sc.run_job(&sim, "again", Duration::from_secs(120))?;
        let net = secs(m.cpu().saturating_sub(again.cpu())) * 1e6 / calls.max(1) as f64;
        println!(
            "    {i}: {calls} calls ({summary_calls} in summary.json) in {:.2} s wall = {:.0} calls/s; CPU user {:.3} \
             s + sys {:.3} s = {per_call:.1} µs a call; fixed cost (the finished job again, {again_calls} calls) \
             {:.3} s, net of it {net:.1} µs a call",
            secs(m.wall),
            calls as f64 / secs(m.wall),
            secs(m.user),
            secs(m.sys),
            secs(again.cpu())
        );
        per_calls.push(per_call);
        nets.push(net);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (lo, hi) = (per_calls.iter().copied().fold(f64::MAX, f64::min), per_calls.iter().copied().fold(0.0, f64::max));
    let per_call = median(&mut per_calls);
    bench.figure(
        "(e) CPU per call, no latency, median",
        format!("{per_call:.1} µs ({lo:.1}–{hi:.1})"),
        "≤ 50 µs",
        Some(per_call <= 50.0),
    );
    bench.figure("    net of the fixed cost, median", format!("{:.1} µs", median(&mut nets)), "", None);
    if std::env::var_os("BENCH_CALLGRIND").is_some() {
        let (instructions, calls) = callgrind_run(bench, rows)?;
        bench.figure(
            "(e) instructions, callgrind",
            format!("{:.1} M ({:.0}/call)", instructions as f64 / 1e6, instructions as f64 / calls.max(1) as f64),
            "",
            None,
        );
    }
    Ok(())
}

fn main() -> Res<()> {
    let bin = wxprov_bin()?;
    let parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "abcd".into());
    let scale_rows = env_num("BENCH_SCALE_ROWS", 1_000_000);
    let rows = env_num("BENCH_ROWS", 2000);
    let repeat = env_num("BENCH_REPEAT", 3).max(1);
    let tmp = tempfile::Builder::new().prefix("wxprov-bench-run-").tempdir()?;
    let version = Command::new(&bin).arg("--version").output()?;
    println!(
        "{} ({})\ntemp folder: {}\nload average at the start: {}",
        bin.display(),
        String::from_utf8_lossy(&version.stdout).trim(),
        tmp.path().display(),
        load_average()
    );
    let mut bench = Bench { bin, root: tmp.path().to_path_buf(), figures: Vec::new() };
    let started = Instant::now();

    let scale = if parts.contains('a') { Some(part_scale(&mut bench, scale_rows)?) } else { None };
    if parts.contains('b') {
        part_realistic(&mut bench, rows)?;
    }
    if parts.contains('c') {
        part_status_page(&mut bench, env_num("BENCH_PAGE_ROWS", 100_000), env_num("BENCH_PAGE_PAIRS", 2).max(1))?;
    }
    if parts.contains('d') {
        part_status_wall(&mut bench, scale, scale_rows, repeat)?;
    }
    if parts.contains('e') {
        part_overhead(&mut bench, rows, repeat)?;
    }

    bench.print_figures();
    println!("(benchmark took {:.0} s; load average at the end: {})", secs(started.elapsed()), load_average());
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept {}", tmp.keep().display());
    }
    Ok(())
}
