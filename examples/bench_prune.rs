//! Benchmark: the event log's prune at the end of every run (`Ledger::prune_events`) on a
//! ledger of 3,000,000 events, side by side in one run with the prune before schema v11
//! (`DELETE FROM events WHERE at_ms < ?`, which read the whole log) and with the other way
//! to make it cheap, an index on `at_ms`; and what each costs where every call pays: writing
//! the events as a run does (64 a batch, as the call log hands them over) and the bytes in
//! the compacted file. Run:
//!
//! ```sh
//! cargo run --release --example bench_prune [EVENTS]
//! ```
//!
//! Three ledgers get the same events: `v11`, written by `Ledger::record_calls` (which notes
//! the late events, `events.rs`) and pruned by `Ledger::prune_events`; `before`, the same
//! file format written by v10's insert alone and pruned by v10's statement; `indexed`, like
//! `before` with `CREATE INDEX events_at ON events (at_ms)`. The events are a run's calls:
//! three APIs a row, one appid a row, one run id, 30,000 calls a second (bench_run's (a)
//! rate), written to the three in turn in chunks of 100,000 so the machine's load falls on
//! all alike. Then each is compacted and pruned to 180 days, in turn, three times: nothing is
//! old enough, as at the end of a resume (the median is shown); then once each with the
//! clock moved so that the first tenth of the events is older than the setting (deleted).

use std::time::{Duration, Instant};

use rusqlite::params;
use wxprov::ledger::{compact, CallEvent, Ledger};

const CHUNK: usize = 100_000;
const BATCH: usize = 64;
const KEEP_DAYS: u32 = 180;
const DAY_MS: i64 = 86_400_000;
const APIS: [&str; 3] = [
    "/cgi-bin/component/api_authorizer_token",
    "/cgi-bin/account/getaccountbasicinfo",
    "/cgi-bin/account/modifysignature",
];

/// Event `i` of the run that started at `start_ms`.
fn event(i: usize, start_ms: i64) -> CallEvent {
    CallEvent {
        at_ms: start_ms + (i / 30) as i64,
        run_id: Some("20261203-081600.123-ab12".into()),
        appid: Some(format!("wx{:016x}", i / 3)),
        api: APIS[i % 3].into(),
        errcode: Some(0),
        duration_ms: 3,
        outcome: "ok".into(),
    }
}

/// CPU (user + system) this process has used so far.
fn cpu() -> Duration {
    // SAFETY: getrusage only fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// How a ledger of the benchmark is written and pruned.
#[derive(Clone, Copy, PartialEq)]
enum Way {
    V11,
    Before,
    Indexed,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::V11 => "v11",
            Way::Before => "before",
            Way::Indexed => "indexed",
        }
    }

    /// One batch of events, queued as the call log queues it.
    fn record(self, ledger: &Ledger, events: Vec<CallEvent>) {
        if self == Way::V11 {
            return ledger.record_calls(events);
        }
        // v10's `record_calls`: the insert alone, in the job's savepoint.
        ledger.call_later(move |c| {
            c.execute_batch("SAVEPOINT job")?;
            let mut stmt = c.prepare_cached(
                "INSERT INTO events (at_ms, run_id, appid, api, errcode, duration_ms, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for e in events {
                stmt.execute(params![e.at_ms, e.run_id, e.appid, e.api, e.errcode, e.duration_ms, e.outcome])?;
            }
            c.execute_batch("RELEASE job")?;
            Ok(())
        });
    }

    async fn prune(self, ledger: &Ledger, now_ms: i64) -> (Duration, u64) {
        let started = Instant::now();
        let deleted = if self == Way::V11 {
            ledger.prune_events(KEEP_DAYS, now_ms).await.expect("prune")
        } else {
            let cutoff = now_ms - i64::from(KEEP_DAYS) * DAY_MS;
            let deleted = ledger
                .call(move |c| Ok(c.prepare_cached("DELETE FROM events WHERE at_ms < ?1")?.execute([cutoff])?))
                .await
                .expect("prune");
            deleted as u64
        };
        (started.elapsed(), deleted)
    }
}

/// Writes events `from..to` in the call log's batches and waits for their commit: the wall
/// time and the CPU it took.
async fn write(way: Way, ledger: &Ledger, from: usize, to: usize, start_ms: i64) -> (Duration, Duration) {
    let (started, cpu_before) = (Instant::now(), cpu());
    let mut i = from;
    while i < to {
        let end = (i + BATCH).min(to);
        way.record(ledger, (i..end).map(|i| event(i, start_ms)).collect());
        i = end;
    }
    ledger.flush().await.expect("flush");
    (started.elapsed(), cpu().saturating_sub(cpu_before))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3_000_000);
    let dir = tempfile::tempdir()?;
    let ways = [Way::V11, Way::Before, Way::Indexed];
    let paths: Vec<_> = ways.iter().map(|w| dir.path().join(format!("{}.db", w.name()))).collect();
    let mut ledgers = Vec::new();
    for (way, path) in ways.iter().zip(&paths) {
        let ledger = Ledger::open(path)?;
        if *way == Way::Indexed {
            ledger.call(|c| Ok(c.execute_batch("CREATE INDEX events_at ON events (at_ms)")?)).await?;
        }
        ledgers.push(ledger);
    }
    let start_ms = wxprov::ledger::now_millis();

    let mut written = [(Duration::ZERO, Duration::ZERO); 3];
    let mut from = 0;
    while from < events {
        let to = (from + CHUNK).min(events);
        for (k, way) in ways.iter().enumerate() {
            let (wall, cpu) = write(*way, &ledgers[k], from, to, start_ms).await;
            written[k] = (written[k].0 + wall, written[k].1 + cpu);
        }
        from = to;
    }
    let per_event = |d: Duration| d.as_secs_f64() * 1e6 / events as f64;
    println!("{events} events written, 64 a batch: wall, CPU (user + system), CPU an event, beside before's");
    for (k, way) in ways.iter().enumerate() {
        let (wall, cpu) = written[k];
        println!(
            "  {:<8} {:>6.2} s  {:>6.2} s  {:.3} µs  {:+.3} µs ({:+.1} %)",
            way.name(),
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            per_event(cpu),
            per_event(cpu) - per_event(written[1].1),
            (cpu.as_secs_f64() / written[1].1.as_secs_f64() - 1.0) * 100.0
        );
    }
    drop(ledgers);

    let per_thousand = |bytes: u64| bytes as f64 / 1024.0 / (events as f64 / 1000.0);
    let mut sizes = Vec::new();
    for path in &paths {
        sizes.push(compact(path)?);
    }
    println!("compacted: MiB, KiB per thousand events, beside before's");
    for (k, way) in ways.iter().enumerate() {
        println!(
            "  {:<8} {:>7.1}  {:>6.1}  {:+.1}",
            way.name(),
            sizes[k] as f64 / 1024.0 / 1024.0,
            per_thousand(sizes[k]),
            per_thousand(sizes[k]) - per_thousand(sizes[1])
        );
    }

    let mut ledgers = Vec::new();
    for path in &paths {
        ledgers.push(Ledger::open(path)?);
    }
    let now = wxprov::ledger::now_millis();
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..3 {
        for (k, way) in ways.iter().enumerate() {
            let (t, deleted) = way.prune(&ledgers[k], now).await;
            assert_eq!(deleted, 0);
            times[k].push(t);
        }
    }
    println!("prune to {KEEP_DAYS} days, nothing old enough (as a resume ends): median of 3 (min .. max)");
    for (k, way) in ways.iter().enumerate() {
        times[k].sort();
        println!("  {:<8} {:>10.3?} ({:.3?} .. {:.3?})", way.name(), times[k][1], times[k][0], times[k][2]);
    }

    // The clock past the first tenth of the events: the event `events / 10` is the oldest kept.
    let later = event(events / 10, start_ms).at_ms + i64::from(KEEP_DAYS) * DAY_MS;
    println!("prune to {KEEP_DAYS} days, the first tenth old enough:");
    let mut left = Vec::new();
    // Last first this time: the first ledger's delete ran first above.
    for (k, way) in ways.iter().enumerate().rev() {
        let (t, deleted) = way.prune(&ledgers[k], later).await;
        println!("  {:<8} {:>10.3?} ({deleted} deleted)", way.name(), t);
        let kept: (i64, i64) = ledgers[k]
            .call(|c| Ok(c.query_row("SELECT count(*), min(at_ms) FROM events", [], |r| Ok((r.get(0)?, r.get(1)?)))?))
            .await?;
        left.push(kept);
    }
    assert!(left.iter().all(|&l| l == left[0]), "all three keep the same events: {left:?}");
    assert_eq!(left[0].1, later - i64::from(KEEP_DAYS) * DAY_MS, "the oldest kept is exactly as old as the setting");
    Ok(())
}
