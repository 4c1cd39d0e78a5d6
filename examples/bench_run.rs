//! Benchmark: the release `wxprov run` against `wxprov sim` on loopback, as separate processes,
//! with the figures the issue asks for:
//!
//! - (a) pacing: N rows (2,000) through the simulator with 50 ms latency under
//!   `calls_per_second = 100` (per-appid limit high, concurrency 64). The achieved rate comes
//!   from the simulator's call log (`GET /__sim/calls`, `at_ms` = when each call arrived):
//!   `(calls − 1) / (last at_ms − first at_ms)`, so start-up (ledger, manifest, process) is not
//!   counted. Target: achieved ÷ limit ≥ 0.98.
//! - (b) overhead: the same rows, no latency, no effective limit (`calls_per_second =
//!   1000000`): CPU time (user + sys) of the `wxprov run` process per API call. Target ≤ 50 µs.
//!   The simulator is a separate process started before, and the run is reaped with
//!   `wait4(pid)`, whose rusage is that child's alone (plus its own reaped children: none);
//!   the `getrusage(RUSAGE_CHILDREN)` difference around the same wait is printed as a check
//!   (no other child is reaped in between). Also shown: the fixed cost (a run of the finished
//!   job, which makes no call) and the per-call figure net of it. Repeated `BENCH_REPEAT`
//!   times from scratch; the figure is the median, with the lowest and highest.
//! - (c) resume: a finished 100,000-row job run again: wall time (spawn to exit; target ≤ 3 s)
//!   and API calls (must be 0: the simulator's call log, cleared after the first run, stays
//!   empty, and summary.json counts no call).
//! - (d) peak memory of the `wxprov run` process in (c): `ru_maxrss` from `wait4`, and VmHWM
//!   sampled from `/proc/PID/status` every 5 ms while it runs (a lower bound; `ru_maxrss` can
//!   include this process's own peak when the child was started with vfork, so this process
//!   keeps itself small and prints its own VmHWM for comparison).
//! - (e) the ledger's size after (c), compacted with `wxprov ledger vacuum`: per thousand rows
//!   (a compacted copy with its event log emptied) and per thousand calls (the rest, over the
//!   events the log holds).
//!
//! The first run of the 100k job (to make it finished) is timed too: no latency, no limit,
//! concurrency 64. Rows are fast-registered mini-programs (`wx` + 16 hex) from a generated
//! fixture; each asks for a new signature (and for (a)/(b) a category by id, `287/612`), so a
//! row makes 3 calls (authorizer token, getaccountbasicinfo, modifysignature) or 5 (plus
//! getcategory and addcategory). Refresh tokens reach the ledger with `wxprov tokens import`.
//!
//! Run (about 3 minutes on 2 cores, most of it (a): 14,000 calls at 100/s):
//!
//! ```sh
//! cargo build --release --bin wxprov --example bench_run && target/release/examples/bench_run
//! ```
//!
//! Environment: `BENCH_ROWS` (2000), `BENCH_REPEAT` (5: fresh runs of (b), whose median is the
//! figure; one run lasts half a second, too short to stand for the machine),
//! `BENCH_RESUME_ROWS` (100000), `BENCH_CATEGORIES` (1: the (a)/(b) rows also ask for a
//! category; 0: signature only), `BENCH_KEEP=1` keeps the temp folder, `WXPROV_BIN` the binary
//! (default: `wxprov` beside `examples/`), `BENCH_PARTS` which parts run (`abc`, the default:
//! (a), (b), and (c) with (d) and (e)), `BENCH_CALLGRIND=1` one more fresh (b) run under
//! `valgrind --tool=callgrind`, whose instruction count does not move with the machine's load
//! (the figure to compare two builds by; a minute or two).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const EXAMPLE_FIXTURE: &str = include_str!("../crates/wechat-sim/fixtures/example.json");

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

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// User + sys CPU of every reaped child of this process.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    tv(ru.ru_utime) + tv(ru.ru_stime)
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
    /// `getrusage(RUSAGE_CHILDREN)` after − before: the same CPU, measured the other way.
    children_delta: Duration,
}

impl Measured {
    fn cpu(&self) -> Duration {
        self.user + self.sys
    }
}

/// Spawns `cmd`, polls it (VmHWM) until it exits, reaps it with `wait4` for its own rusage.
/// Killed after `timeout`.
fn run_measured(mut cmd: Command, timeout: Duration) -> Res<Measured> {
    let before = children_cpu();
    let started = Instant::now();
    let child: Child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let pid_s = pid.to_string();
    // Reaped below with wait4, never through `child` (dropping a Child neither waits nor kills).
    drop(child);
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
                children_delta: children_cpu().saturating_sub(before),
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
        let http = reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(120)).build()?;
        Ok(Sim { child, url, http })
    }

    fn calls(&self) -> Res<Vec<Value>> {
        let v: Value = self.http.get(format!("{}/__sim/calls", self.url)).send()?.error_for_status()?.json()?;
        Ok(v.as_array().cloned().unwrap_or_default())
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
    /// mini-programs), `tokens.csv` and `manifest.csv`.
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

    /// `wxprov ARGS` in this folder against `sim`, output to `NAME.out` / `NAME.err`.
    fn command(&self, sim: &Sim, name: &str, args: &[&str]) -> Res<Command> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).current_dir(&self.dir).stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("WXPROV_") {
                cmd.env_remove(key);
            }
        }
        let s = |k: &str| self.component[k].as_str().unwrap_or_default().to_string();
        cmd.env("NO_COLOR", "1")
            .env("WXPROV_LEDGER", self.dir.join("wxprov.db"))
            .env("WXPROV_API_BASE", &sim.url)
            .env("WXPROV_COMPONENT_APPID", s("appid"))
            .env("WXPROV_COMPONENT_SECRET", s("secret"))
            .env("WXPROV_COMPONENT_VERIFY_TICKET", s("verify_ticket"))
            .stdout(std::fs::File::create(self.dir.join(format!("{name}.out")))?)
            .stderr(std::fs::File::create(self.dir.join(format!("{name}.err")))?);
        Ok(cmd)
    }

    /// Runs `wxprov ARGS`, measured; fails unless it exits 0.
    fn run(&self, sim: &Sim, name: &str, args: &[&str], timeout: Duration) -> Res<Measured> {
        let m = run_measured(self.command(sim, name, args)?, timeout)
            .map_err(|e| format!("wxprov {} ({name}): {e}", args.join(" ")))?;
        if m.code != 0 {
            let err = std::fs::read_to_string(self.dir.join(format!("{name}.err"))).unwrap_or_default();
            let tail: String =
                err.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            return Err(format!("wxprov {} ({name}) exited {}:\n{tail}", args.join(" "), m.code).into());
        }
        Ok(m)
    }

    fn import_tokens(&self, sim: &Sim) -> Res<Measured> {
        self.run(sim, "import", &["tokens", "import", "tokens.csv"], Duration::from_secs(600))
    }

    /// The latest run's summary.json, and its total API calls.
    fn summary(&self) -> Res<(Value, u64)> {
        let path = self.dir.join("reports/latest/summary.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let calls = v["calls"].as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0);
        Ok((v, calls))
    }

    /// Every step done (or skipped) in the latest run.
    fn check_all_done(&self, summary: &Value) -> Res<()> {
        let steps = summary["steps"].as_object().ok_or("summary.json has no steps")?;
        let settled: u64 = ["done", "skipped"].iter().filter_map(|k| steps.get(*k)).filter_map(Value::as_u64).sum();
        let all: u64 = steps.values().filter_map(Value::as_u64).sum();
        if settled != all || summary["rows"].as_u64() != Some(self.rows as u64) {
            return Err(format!("not every step ended done: rows {}, steps {:?}", summary["rows"], steps).into());
        }
        Ok(())
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

struct Figure {
    name: String,
    value: String,
    target: String,
    pass: Option<bool>,
}

fn figure(name: &str, value: String, target: &str, pass: Option<bool>) -> Figure {
    Figure { name: name.into(), value, target: target.into(), pass }
}

/// A fresh (b) run with `wxprov run` under `valgrind --tool=callgrind`: the instructions it
/// executed (callgrind's `summary:` line) and the calls the simulator received.
fn callgrind_run(root: &Path, bin: &Path, rows: usize, categories: bool) -> Res<(u64, u64)> {
    let sc = Scenario::new(root, "b-callgrind", bin, rows, categories)?;
    let sim = Sim::start(bin, &sc.dir.join("fixture.json"), 0)?;
    sc.import_tokens(&sim)?;
    sc.job(1_000_000, 1_000_000, 64)?;
    println!("    callgrind: one more fresh run under valgrind …");
    let out = sc.dir.join("callgrind.out");
    let run = sc.command(&sim, "callgrind", &["run", "job.toml"])?;
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
    let (summary, _) = sc.summary()?;
    sc.check_all_done(&summary)?;
    let calls = sim.calls()?.len() as u64;
    let text = std::fs::read_to_string(&out)?;
    let instructions = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .ok_or("callgrind's output has no summary line")?;
    println!("    callgrind: {instructions} instructions, {calls} calls");
    Ok((instructions, calls))
}

fn main() -> Res<()> {
    let bin = wxprov_bin()?;
    let rows = env_num("BENCH_ROWS", 2000);
    let resume_rows = env_num("BENCH_RESUME_ROWS", 100_000);
    let categories = env_num("BENCH_CATEGORIES", 1) != 0;
    let parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "abc".into());
    let tmp = tempfile::Builder::new().prefix("wxprov-bench-run-").tempdir()?;
    let root = tmp.path().to_path_buf();
    println!("wxprov: {}\ntemp folder: {}", bin.display(), root.display());
    let bench_started = Instant::now();
    let mut figures = Vec::new();

    // (a) pacing.
    if parts.contains('a') {
        let limit = 100u32;
        let sc = Scenario::new(&root, "a-pacing", &bin, rows, categories)?;
        let sim = Sim::start(&bin, &sc.dir.join("fixture.json"), 50)?;
        sc.import_tokens(&sim)?;
        sc.job(limit, 100_000, 64)?;
        println!("\n(a) pacing: {rows} rows, 50 ms latency, calls_per_second = {limit}, concurrency 64 …");
        let m = sc.run(&sim, "run", &["run", "job.toml"], Duration::from_secs(400))?;
        let (summary, summary_calls) = sc.summary()?;
        sc.check_all_done(&summary)?;
        let mut at: Vec<u64> = sim.calls()?.iter().filter_map(|c| c["at_ms"].as_u64()).collect();
        at.sort_unstable();
        let n = at.len();
        let span_ms = at.last().copied().unwrap_or(0).saturating_sub(at.first().copied().unwrap_or(0));
        let rate = (n.saturating_sub(1)) as f64 * 1000.0 / span_ms.max(1) as f64;
        let first_second = at.iter().take_while(|&&t| t < at[0] + 1000).count();
        // Steady state: from 1 s after the first call to the last, leaving out the opening burst.
        let after = at.iter().filter(|&&t| t >= at[0] + 1000).count();
        let steady = after.saturating_sub(1) as f64 * 1000.0 / (span_ms.saturating_sub(1000)).max(1) as f64;
        println!(
            "    {n} calls reached the simulator ({summary_calls} in summary.json) in {:.2} s between the first and \
             the last; run wall {:.2} s",
            span_ms as f64 / 1000.0,
            secs(m.wall)
        );
        println!(
            "    achieved {rate:.2} calls/s = {:.3} × limit; first second {first_second} calls; after it {steady:.2} \
             calls/s = {:.3} × limit",
            rate / limit as f64,
            steady / limit as f64
        );
        figures.push(figure(
            "(a) pacing: achieved ÷ limit",
            format!("{:.3} ({rate:.1}/s)", rate / limit as f64),
            "≥ 0.98",
            Some(rate / limit as f64 >= 0.98),
        ));
    }

    // (b) overhead: `BENCH_REPEAT` fresh runs (a new ledger and simulator each), the median.
    if parts.contains('b') {
        let repeat = env_num("BENCH_REPEAT", 5).max(1);
        println!("\n(b) overhead: the same {rows} rows, no latency, no limit, {repeat} times …");
        let (mut per_calls, mut nets) = (Vec::new(), Vec::new());
        for i in 1..=repeat {
            let sc = Scenario::new(&root, &format!("b-overhead-{i}"), &bin, rows, categories)?;
            let sim = Sim::start(&bin, &sc.dir.join("fixture.json"), 0)?;
            sc.import_tokens(&sim)?;
            sc.job(1_000_000, 1_000_000, 64)?;
            let m = sc.run(&sim, "run", &["run", "job.toml"], Duration::from_secs(300))?;
            let (summary, summary_calls) = sc.summary()?;
            sc.check_all_done(&summary)?;
            let calls = sim.calls()?.len() as u64;
            let per_call = m.cpu().as_secs_f64() * 1e6 / calls.max(1) as f64;
            // The fixed cost: the finished job again (reads the manifest and ledger, writes
            // reports, no call).
            let again = sc.run(&sim, "again", &["run", "job.toml"], Duration::from_secs(120))?;
            let (_, again_calls) = sc.summary()?;
            let net = (m.cpu().saturating_sub(again.cpu())).as_secs_f64() * 1e6 / calls.max(1) as f64;
            println!(
                "    {i}: {calls} calls ({summary_calls} in summary.json) in {:.2} s wall = {:.0} calls/s; wxprov CPU \
                 user {:.3} s + sys {:.3} s = {per_call:.1} µs per call (RUSAGE_CHILDREN delta {:.3} s); peak RSS {} \
                 KiB; fixed cost (the finished job again, {again_calls} calls) {:.3} s, net of it {net:.1} µs per call",
                secs(m.wall),
                calls as f64 / secs(m.wall),
                secs(m.user),
                secs(m.sys),
                secs(m.children_delta),
                m.maxrss_kib,
                secs(again.cpu())
            );
            per_calls.push(per_call);
            nets.push(net);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (lo, hi) =
            (per_calls.iter().copied().fold(f64::MAX, f64::min), per_calls.iter().copied().fold(0.0, f64::max));
        let per_call = median(&mut per_calls);
        figures.push(figure(
            "(b) CPU per API call (user+sys), median",
            format!("{per_call:.1} µs ({lo:.1}–{hi:.1})"),
            "≤ 50 µs",
            Some(per_call <= 50.0),
        ));
        figures.push(figure("    net of the fixed cost, median", format!("{:.1} µs", median(&mut nets)), "", None));
        if std::env::var_os("BENCH_CALLGRIND").is_some() {
            let (instructions, calls) = callgrind_run(&root, &bin, rows, categories)?;
            figures.push(figure(
                "(b) instructions, callgrind",
                format!("{:.1} M ({:.0}/call)", instructions as f64 / 1e6, instructions as f64 / calls.max(1) as f64),
                "",
                None,
            ));
        }
    }

    // (c), (d): a finished 100k-row job run again.
    if parts.contains('c') {
        let sc = Scenario::new(&root, "c-resume", &bin, resume_rows, false)?;
        let sim = Sim::start(&bin, &sc.dir.join("fixture.json"), 0)?;
        let imp = sc.import_tokens(&sim)?;
        println!("\n(c) resume: {resume_rows} rows (signature only); tokens import took {:.2} s", secs(imp.wall));
        sc.job(1_000_000, 1_000_000, 64)?;
        let first = sc.run(&sim, "first", &["run", "job.toml"], Duration::from_secs(900))?;
        let (summary, first_calls) = sc.summary()?;
        sc.check_all_done(&summary)?;
        println!(
            "    first run: {first_calls} calls in {:.2} s wall = {:.0} calls/s ({:.1} µs CPU per call, peak RSS {} KiB)",
            secs(first.wall),
            first_calls as f64 / secs(first.wall),
            first.cpu().as_secs_f64() * 1e6 / first_calls.max(1) as f64,
            first.maxrss_kib
        );
        figures.push(figure(
            "first 100k run: wall",
            format!("{:.1} s, {:.0} calls/s", secs(first.wall), first_calls as f64 / secs(first.wall)),
            "",
            None,
        ));
        sim.clear_calls()?;
        let own_hwm = vm_hwm_kib("self").unwrap_or(0);
        let m = sc.run(&sim, "resume", &["run", "job.toml"], Duration::from_secs(120))?;
        let (summary, summary_calls) = sc.summary()?;
        sc.check_all_done(&summary)?;
        let sim_calls = sim.calls()?.len();
        println!(
            "    resume: {:.3} s wall, CPU {:.3} s; API calls: {sim_calls} at the simulator, {summary_calls} in \
             summary.json",
            secs(m.wall),
            secs(m.cpu())
        );
        println!(
            "(d) peak memory of that run: ru_maxrss {} KiB, VmHWM seen {} KiB (this process's own VmHWM {own_hwm} KiB)",
            m.maxrss_kib, m.hwm_kib
        );
        figures.push(figure(
            "(c) resume wall time",
            format!("{:.2} s", secs(m.wall)),
            "≤ 3 s",
            Some(secs(m.wall) <= 3.0),
        ));
        figures.push(figure(
            "(c) resume API calls",
            format!("{sim_calls} (summary {summary_calls})"),
            "= 0",
            Some(sim_calls == 0 && summary_calls == 0),
        ));
        figures.push(figure(
            "(d) resume peak memory",
            format!("{:.1} MiB", m.maxrss_kib.max(m.hwm_kib) as f64 / 1024.0),
            "(reported)",
            None,
        ));

        // (e) the ledger's size once compacted, split into what the rows take and what the
        // event log takes: a copy without the events, compacted too, is the rows' share.
        let vacuum = sc.run(&sim, "vacuum", &["ledger", "vacuum", "job.toml"], Duration::from_secs(300))?;
        let out = std::fs::read_to_string(sc.dir.join("vacuum.out"))?;
        let total: u64 = out
            .lines()
            .find_map(|l| l.strip_prefix("size after: ")?.strip_suffix(" bytes")?.parse().ok())
            .ok_or("ledger vacuum printed no size")?;
        let ledger = sc.dir.join("wxprov.db");
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
        let per_thousand_rows = rows_share as f64 * 1000.0 / rows.max(1) as f64;
        let per_thousand_calls = total.saturating_sub(rows_share) as f64 * 1000.0 / events.max(1) as f64;
        println!(
            "(e) the ledger compacted (`ledger vacuum`, {:.2} s): {total} bytes for {rows} rows, {steps} steps and \
             {events} events; without the events {rows_share} bytes: {:.0} KiB per thousand rows, {:.0} KiB per \
             thousand calls",
            secs(vacuum.wall),
            per_thousand_rows / 1024.0,
            per_thousand_calls / 1024.0
        );
        figures.push(figure(
            "(e) ledger per thousand rows",
            format!("{:.0} KiB", per_thousand_rows / 1024.0),
            "(reported)",
            None,
        ));
        figures.push(figure(
            "(e) ledger per thousand calls",
            format!("{:.0} KiB", per_thousand_calls / 1024.0),
            "(reported)",
            None,
        ));
    }

    println!("\n{:<34} {:>24}  {:<11} result", "figure", "value", "target");
    for f in &figures {
        let result = match f.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "",
        };
        println!("{:<34} {:>24}  {:<11} {result}", f.name, f.value, f.target);
    }
    println!("(benchmark took {:.0} s)", secs(bench_started.elapsed()));
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept {}", tmp.keep().display());
    }
    Ok(())
}
