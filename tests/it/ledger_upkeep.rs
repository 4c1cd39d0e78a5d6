//! Ledger upkeep (#13 item 3; DESIGN §1, §2): a run prunes the event log to the job's
//! `keep_events_days` (default 180) as it ends — every event younger than that is kept and
//! every older one deleted, by the event's own time — and `wxprov ledger vacuum` prunes and
//! compacts the file, saying how big it was before and after. Events are made by real runs
//! against the simulator, then aged by SQL on the test's own connection; each age is an hour
//! from its boundary, so the seconds a run takes do not matter (the boundary itself, an event
//! exactly as old as the setting, is kept: the ledger's unit test).

use std::path::Path;

use crate::harness::{Sim, Workspace};
use crate::run::{job, CONFIGURED};

const HOUR_MS: i64 = 60 * 60 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

/// A job for one configured row that asks for a new signature, with `top` lines at the top of
/// the job file (before its tables).
fn upkeep_job(ws: &Workspace, top: &str) -> String {
    let name = job(ws, &format!("appid,signature\n{CONFIGURED},提供好用的在线工具。\n"));
    let file = ws.path().join(&name);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{top}{text}")).unwrap();
    name
}

/// The configured row's refresh token, imported (the ledger is created then).
fn import_token(ws: &Workspace) {
    ws.write("tokens.csv", format!("{CONFIGURED},refreshtoken@@@mp-configured-0002\n"));
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
}

/// Every event in the ledger: (id, at_ms), by id.
fn events(ws: &Workspace) -> Vec<(i64, i64)> {
    let rows = ws.query("SELECT id, at_ms FROM events ORDER BY id");
    rows.iter().map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap())).collect()
}

/// Makes the event `id` `ms` milliseconds old.
fn age(ws: &Workspace, id: i64, ms: i64) {
    let conn = rusqlite::Connection::open(ws.ledger()).unwrap();
    conn.execute("UPDATE events SET at_ms = ?1 WHERE id = ?2", [now_ms() - ms, id]).unwrap();
}

/// Bytes of the ledger file and its write-ahead log.
fn size_on_disk(ledger: &Path) -> u64 {
    let wal = format!("{}-wal", ledger.display());
    [ledger, Path::new(&wal)].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
}

#[test]
fn a_run_keeps_every_event_younger_than_keep_events_days_and_nothing_else() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let plain = upkeep_job(&ws, "");
    import_token(&ws);
    ws.test_on(&sim).args(["run", &plain]).run();
    let first = events(&ws);
    assert!(first.len() >= 5, "the run made too few calls to age: {first:?}");
    // An hour either side of the default's 180 days and of 10 days; the rest stay as made.
    let ages = [180 * DAY_MS + HOUR_MS, 180 * DAY_MS - HOUR_MS, 10 * DAY_MS + HOUR_MS, 10 * DAY_MS - HOUR_MS];
    let ids: Vec<i64> = first.iter().map(|(id, _)| *id).collect();
    for (id, ms) in ids.iter().zip(ages) {
        age(&ws, *id, ms);
    }
    let aged = events(&ws);
    let last_aged = ids[ids.len() - 1];
    let old =
        |now: &[(i64, i64)]| -> Vec<(i64, i64)> { now.iter().filter(|(id, _)| *id <= last_aged).copied().collect() };

    // No `keep_events_days`: 180 days. Only the event older than that goes.
    let ran = ws.test_on(&sim).args(["run", &plain]).run();
    assert!(ran.stderr.contains("pruned 1 event older than 180 days from the event log"), "{}", ran.stderr);
    assert_eq!(old(&events(&ws)), aged[1..]);

    // 10 days: the 180-day-old event and the one just over 10 days go too; the one just under
    // 10 days, those the first run made and whatever the second run made stay.
    let ten = upkeep_job(&ws, "keep_events_days = 10\n");
    let before = events(&ws);
    let ran = ws.test_on(&sim).args(["run", &ten]).run();
    assert!(ran.stderr.contains("pruned 2 events older than 10 days from the event log"), "{}", ran.stderr);
    let kept: Vec<(i64, i64)> = before.iter().filter(|(id, _)| ![ids[1], ids[2]].contains(id)).copied().collect();
    assert_eq!(events(&ws)[..kept.len()], kept[..]);
    assert!(events(&ws)[kept.len()..].iter().all(|(id, _)| *id > before.last().unwrap().0), "only new events after");

    // A run with nothing old prunes nothing and says nothing about it.
    let ran = ws.test_on(&sim).args(["run", &ten]).run();
    assert!(!ran.stderr.contains("pruned"), "{}", ran.stderr);
}

#[test]
fn ledger_vacuum_prunes_compacts_and_says_how_big_the_file_was() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let plain = upkeep_job(&ws, "");
    import_token(&ws);
    ws.test_on(&sim).args(["run", &plain]).run();
    let made = events(&ws);
    // Five thousand copies of the run's first event, 200 days old: a log to prune.
    {
        let conn = rusqlite::Connection::open(ws.ledger()).unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
             INSERT INTO events (at_ms, run_id, appid, api, errcode, duration_ms, outcome)
             SELECT ?1, e.run_id, e.appid, e.api, e.errcode, e.duration_ms, e.outcome
               FROM n, (SELECT * FROM events ORDER BY id LIMIT 1) e",
            [now_ms() - 200 * DAY_MS],
        )
        .unwrap();
    }
    let before = size_on_disk(&ws.ledger());

    let ran = ws.test().args(["ledger", "vacuum", &plain]).run();
    let after = size_on_disk(&ws.ledger());
    assert_eq!(
        ran.stdout,
        format!(
            "ledger: {}\nevents pruned: 5000 (older than 180 days)\nsize before: {before} bytes\nsize after: {after} \
             bytes\n",
            ws.ledger().display()
        )
    );
    assert!(after < before, "compacted: {before} → {after} bytes");
    let wal = std::fs::metadata(format!("{}-wal", ws.ledger().display()));
    assert!(wal.map_or(true, |m| m.len() == 0), "the WAL is folded back into the file");
    assert_eq!(events(&ws), made, "the run's own events are kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ws.ledger()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "still private");
    }
    // The ledger still works: the job is finished, and a run says so.
    ws.test_on(&sim).args(["run", &plain]).run();
    assert_eq!(ws.query("SELECT state FROM steps"), [["done"]]);
}

#[test]
fn ledger_vacuum_refuses_a_missing_ledger_a_held_one_and_a_bad_setting() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let plain = upkeep_job(&ws, "");
    let ran = ws.test().args(["ledger", "vacuum"]).status(1).run();
    assert_eq!(
        ran.stderr,
        format!(
            "error: the ledger {} does not exist (check --ledger, WXPROV_LEDGER or the job file's `ledger`)\n",
            ws.ledger().display()
        )
    );
    assert!(!ws.ledger().exists() && !Path::new(&format!("{}.lock", ws.ledger().display())).exists());

    // While a run holds the ledger: exit 5, nothing pruned.
    import_token(&ws);
    ws.test_on(&sim).args(["run", &plain]).run();
    let first = events(&ws)[0].0;
    age(&ws, first, 365 * DAY_MS);
    let made = events(&ws);
    let lock = std::fs::File::open(format!("{}.lock", ws.ledger().display())).unwrap();
    lock.lock().unwrap();
    let ran = ws.test().args(["ledger", "vacuum", &plain]).status(5).run();
    assert_eq!(
        ran.stderr,
        format!("error: another wxprov run holds the ledger {}; wait for it to finish\n", ws.ledger().display())
    );
    assert_eq!(ran.stdout, "");
    assert_eq!(events(&ws), made);
    drop(lock);

    // keep_events_days = 0 is a usage error naming the key, for `run` and `ledger vacuum` alike.
    let zero = upkeep_job(&ws, "keep_events_days = 0\n");
    for args in [["run", &zero].as_slice(), ["ledger", "vacuum", &zero].as_slice()] {
        let ran = ws.test_on(&sim).args(args).status(2).run();
        assert_eq!(
            ran.stderr,
            "error: keep_events_days 0 from the job file's `keep_events_days`: must be at least 1 (today's calls \
             count against WeChat's daily quotas)\n"
        );
    }
    assert_eq!(events(&ws), made);
}
