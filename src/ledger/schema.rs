//! The ledger's schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Each migration moves the schema one version up inside a transaction; existing data is
//! kept. A ledger newer than this binary is refused rather than misread.

use rusqlite::Connection;

use super::LedgerError;

/// The schema version this binary writes.
pub(super) const VERSION: i64 = 12;

const MIGRATIONS: &[&str] = &[
    // 1: tokens, media, tickets, the call log and a small cache.
    r#"
    CREATE TABLE tokens (
        appid             TEXT PRIMARY KEY,
        kind              TEXT NOT NULL CHECK (kind IN ('component', 'authorizer')),
        refresh_token     TEXT,
        access_token      TEXT,
        access_expires_at INTEGER,
        source            TEXT NOT NULL,
        imported_at       INTEGER NOT NULL,
        refreshed_at      INTEGER
    );
    CREATE TABLE media (
        sha256     TEXT NOT NULL,
        appid      TEXT NOT NULL,
        media_id   TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (sha256, appid)
    );
    CREATE TABLE tickets (
        kind        TEXT NOT NULL,
        account     TEXT NOT NULL,
        value       TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        used_at     INTEGER,
        PRIMARY KEY (kind, account, value)
    );
    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        at_ms       INTEGER NOT NULL,
        run_id      TEXT,
        appid       TEXT,
        api         TEXT NOT NULL,
        errcode     INTEGER,
        duration_ms INTEGER NOT NULL,
        outcome     TEXT NOT NULL
    );
    CREATE INDEX events_run ON events (run_id);
    CREATE TABLE cache (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        fetched_at INTEGER NOT NULL
    );
    "#,
    // 2: the runner: runs, rows, steps, registrations, audit and callback events, quota use.
    r#"
    CREATE TABLE runs (
        id          TEXT PRIMARY KEY,
        command     TEXT NOT NULL,
        job         TEXT NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,
        rows        INTEGER,
        calls       INTEGER,
        exit_code   INTEGER
    );
    CREATE TABLE rows (
        identity       TEXT PRIMARY KEY,
        appid          TEXT,
        official_appid TEXT,
        line           INTEGER NOT NULL,
        last_run       TEXT,
        updated_at     INTEGER NOT NULL
    );
    CREATE TABLE steps (
        identity     TEXT NOT NULL,
        kind         TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN
                     ('pending', 'done', 'skipped', 'in_review', 'waiting', 'deferred', 'failed')),
        input_hash   TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        errcode      INTEGER,
        message      TEXT,
        hint         TEXT,
        not_before   INTEGER,
        audit_id     INTEGER,
        started_api  TEXT,
        started_at   INTEGER,
        started_info TEXT,
        run_id       TEXT,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (identity, kind)
    );
    CREATE INDEX steps_state ON steps (state);
    CREATE TABLE registrations (
        official_appid     TEXT NOT NULL,
        ticket             TEXT NOT NULL,
        appid              TEXT,
        authorization_code TEXT,
        sent_at            INTEGER NOT NULL,
        registered_at      INTEGER,
        exchanged_at       INTEGER,
        PRIMARY KEY (official_appid, ticket)
    );
    CREATE TABLE audit_events (
        id          INTEGER PRIMARY KEY,
        appid       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        ret         INTEGER NOT NULL,
        nickname    TEXT,
        reason      TEXT,
        received_at INTEGER NOT NULL,
        applied_at  INTEGER
    );
    CREATE TABLE callback_events (
        id          INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        path        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        appid       TEXT,
        outcome     TEXT NOT NULL,
        detail      TEXT
    );
    CREATE TABLE quota_use (
        appid TEXT NOT NULL,
        api   TEXT NOT NULL,
        day   TEXT NOT NULL,
        calls INTEGER NOT NULL,
        PRIMARY KEY (appid, api, day)
    );
    "#,
    // 3: `steps` rebuilt with its state check written as comparisons. SQLite checks an `IN`
    // list of more than two values through a temporary table built for every row written —
    // a tenth of the run's instructions in the overhead benchmark (README, "run (b)").
    // `quota_use` becomes a view of the event log, which holds the same calls: counting
    // them twice, row by row, cost as much again as logging them.
    r#"
    CREATE TABLE steps_v3 (
        identity     TEXT NOT NULL,
        kind         TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state = 'pending' OR state = 'done' OR state = 'skipped'
                     OR state = 'in_review' OR state = 'waiting' OR state = 'deferred' OR state = 'failed'),
        input_hash   TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        errcode      INTEGER,
        message      TEXT,
        hint         TEXT,
        not_before   INTEGER,
        audit_id     INTEGER,
        started_api  TEXT,
        started_at   INTEGER,
        started_info TEXT,
        run_id       TEXT,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (identity, kind)
    );
    INSERT INTO steps_v3 (identity, kind, state, input_hash, attempts, errcode, message, hint, not_before,
                          audit_id, started_api, started_at, started_info, run_id, updated_at)
        SELECT identity, kind, state, input_hash, attempts, errcode, message, hint, not_before,
               audit_id, started_api, started_at, started_info, run_id, updated_at FROM steps;
    DROP TABLE steps;
    ALTER TABLE steps_v3 RENAME TO steps;
    CREATE INDEX steps_state ON steps (state);
    DROP TABLE quota_use;
    -- Calls that reached WeChat (an errcode, 0 included), per appid, API and Beijing day.
    CREATE VIEW quota_use (appid, api, day, calls) AS
        SELECT COALESCE(appid, ''), api, date(at_ms / 1000, 'unixepoch', '+8 hours'), count(*)
          FROM events
         WHERE errcode IS NOT NULL
         GROUP BY 1, 2, 3;
    "#,
    // 4: no index that costs more than it gives. Every call and every step write kept these
    // two up to date: a tenth of a run's instructions. Nothing reads `events_run`; only
    // `status` read `steps_state`, and it now scans `steps` (a fraction of a second for a
    // million steps). Ops staff who query the call log by run can index it themselves.
    r#"
    DROP INDEX IF EXISTS events_run;
    DROP INDEX IF EXISTS steps_state;
    "#,
    // 5: the callback receiver's memory across restarts (DESIGN §7): the `(timestamp, nonce)`
    // of every push taken, kept for twice `--max-skew` so a replay is refused after a restart
    // too (pruned by `seen_at`, hence its index); and the key of the HMAC `state` that
    // `links` puts in each `redirect_uri` and `serve` verifies, created on first use.
    r#"
    CREATE TABLE push_nonces (
        timestamp TEXT NOT NULL,
        nonce     TEXT NOT NULL,
        seen_at   INTEGER NOT NULL,
        PRIMARY KEY (timestamp, nonce)
    );
    CREATE INDEX push_nonces_seen ON push_nonces (seen_at);
    CREATE TABLE link_key (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        key        BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
    "#,
    // 6: the `blocked` step state (DESIGN §4: waiting for something outside the sheet).
    // SQLite cannot change a CHECK in place: `steps` is rebuilt as in v3, rows kept, with
    // the check still written as comparisons and no index (v4).
    r#"
    CREATE TABLE steps_v6 (
        identity     TEXT NOT NULL,
        kind         TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state = 'pending' OR state = 'done' OR state = 'skipped'
                     OR state = 'in_review' OR state = 'waiting' OR state = 'deferred' OR state = 'blocked'
                     OR state = 'failed'),
        input_hash   TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        errcode      INTEGER,
        message      TEXT,
        hint         TEXT,
        not_before   INTEGER,
        audit_id     INTEGER,
        started_api  TEXT,
        started_at   INTEGER,
        started_info TEXT,
        run_id       TEXT,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (identity, kind)
    );
    INSERT INTO steps_v6 (identity, kind, state, input_hash, attempts, errcode, message, hint, not_before,
                          audit_id, started_api, started_at, started_info, run_id, updated_at)
        SELECT identity, kind, state, input_hash, attempts, errcode, message, hint, not_before,
               audit_id, started_api, started_at, started_info, run_id, updated_at FROM steps;
    DROP TABLE steps;
    ALTER TABLE steps_v6 RENAME TO steps;
    "#,
    // 7: how each run ended (DESIGN §1, `status`): `running` until it ends, then `finished`,
    // `interrupted` (SIGINT/SIGTERM) or `failed` (it could not proceed), with the reason.
    // Runs from before that ended are `finished`; one that never ended stays `running`,
    // which `status` tells from a live one by the ledger's lock.
    r#"
    ALTER TABLE runs ADD COLUMN status TEXT NOT NULL DEFAULT 'running'
        CHECK (status = 'running' OR status = 'finished' OR status = 'interrupted' OR status = 'failed');
    ALTER TABLE runs ADD COLUMN reason TEXT;
    UPDATE runs SET status = 'finished' WHERE finished_at IS NOT NULL;
    "#,
    // 8: the permission sets (`func_info`) each authorizer granted the platform, as WeChat
    // last told them (api_query_auth, api_get_authorizer_info, an import): what `check`
    // compares with the sets the sheet's steps need. Ids as text, `1,3,17`, for sqlite3.
    r#"
    CREATE TABLE permissions (
        appid      TEXT PRIMARY KEY,
        func_ids   TEXT NOT NULL,
        source     TEXT NOT NULL,
        learned_at INTEGER NOT NULL
    );
    "#,
    // 9: what decides when a `blocked` step is tried again (DESIGN §4): when a run last tried
    // each step (`tried_at`, Unix ms), and when each refresh token was last stored from
    // outside a token refresh — imported, recovered, a registration's, pushed to `serve`
    // (`stored_at`, Unix ms). A blocked step is tried again once a token of its row's
    // accounts was stored after it was tried, else on the next Beijing day. Tokens stored
    // before keep their first-stored time; steps tried before have none (tried again once).
    r#"
    ALTER TABLE steps ADD COLUMN tried_at INTEGER;
    ALTER TABLE tokens ADD COLUMN stored_at INTEGER;
    UPDATE tokens SET stored_at = imported_at * 1000 WHERE refresh_token IS NOT NULL;
    "#,
    // 10: a run keeps its counts, not a snapshot of every row (#13): `runs.steps`, the steps
    // per state at its end as summary.json has them (`{"done": 999998, "failed": 2}`), and
    // `rows.last_run` goes — every run rewrote every row of the sheet to set it, a million
    // writes for a rerun that changes nothing. A row's record is now written only when it
    // changes (a new row, its appid, official account or line).
    r#"
    ALTER TABLE runs ADD COLUMN steps TEXT;
    ALTER TABLE rows DROP COLUMN last_run;
    "#,
    // 11: what lets the prune at the end of every run (upkeep.rs) read only the events it
    // deletes, without an index on their time (which cost every event a second B-tree
    // insert, half again the cost of writing it): the newest time among the events written
    // in order (`events_clock`, one row), and the events written more than
    // `events::ORDER_SLACK_MS` (600000, ten minutes) older than it (`events_late`: a clock
    // set back, a run's batch written after `serve`'s newer calls). The events already
    // written are sorted into the two here.
    r#"
    CREATE TABLE events_clock (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        newest_ms INTEGER NOT NULL
    );
    CREATE TABLE events_late (id INTEGER PRIMARY KEY);
    INSERT INTO events_late (id)
        SELECT id FROM (SELECT id, at_ms, max(at_ms) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING
                                                           AND 1 PRECEDING) AS newest FROM events)
         WHERE at_ms < newest - 600000;
    INSERT INTO events_clock (id, newest_ms) SELECT 1, max(at_ms) FROM events HAVING count(*) > 0;
    "#,
    // 12: a run's finished rows (#13's chart of rows finished per run): `rows_finished`, the
    // rows every step of which was done or skipped at its end, and `rows_finished_now`, those
    // of them it finished. Runs before have neither (NULL).
    r#"
    ALTER TABLE runs ADD COLUMN rows_finished INTEGER;
    ALTER TABLE runs ADD COLUMN rows_finished_now INTEGER;
    "#,
];

/// Brings the schema up to [`VERSION`].
pub(super) fn migrate(conn: &mut Connection, shown_path: &str) -> Result<(), LedgerError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(LedgerError::TooNew { path: shown_path.to_string(), found, known: VERSION });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrading_from_version_1_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO tokens (appid, kind, refresh_token, source, imported_at)
                 VALUES ('wx1111111111111111', 'authorizer', 'r1', 'import', 1)",
                [],
            )
            .unwrap();
        }
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, "old.db").unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, VERSION);
        let refresh: String = conn.query_row("SELECT refresh_token FROM tokens", [], |r| r.get(0)).unwrap();
        assert_eq!(refresh, "r1");
        conn.execute(
            "INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('a', 'avatar', 'done', 'h', 1)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn upgrading_from_version_2_keeps_steps_and_their_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(MIGRATIONS[1]).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute(
                "INSERT INTO steps (identity, kind, state, input_hash, attempts, message, started_api, updated_at)
                 VALUES ('wx1111111111111111', 'signature', 'pending', 'h1', 2, 'm', 'modifysignature', 7)",
                [],
            )
            .unwrap();
        }
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, "v2.db").unwrap();
        let kept: (String, String, i64, String, i64) = conn
            .query_row("SELECT state, input_hash, attempts, started_api, updated_at FROM steps", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap();
        assert_eq!(kept, ("pending".into(), "h1".into(), 2, "modifysignature".into(), 7));
        let bad = conn.execute(
            "INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('a', 'avatar', 'finished', 'h', 1)",
            [],
        );
        assert!(bad.is_err(), "a state outside DESIGN §4 must be refused");
        let indexes: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name IN ('steps_state', 'events_run')", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(indexes, 0, "v4 drops both indexes");
        let quota_use: String =
            conn.query_row("SELECT type FROM sqlite_master WHERE name = 'quota_use'", [], |r| r.get(0)).unwrap();
        assert_eq!(quota_use, "view");
    }

    #[test]
    fn upgrading_from_version_5_keeps_steps_and_takes_blocked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..5] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 5).unwrap();
            conn.execute(
                "INSERT INTO steps (identity, kind, state, input_hash, attempts, errcode, message, hint, not_before,
                                    audit_id, started_api, started_at, started_info, run_id, updated_at)
                 VALUES ('wx1111111111111111', 'nickname', 'in_review', 'h1', 3, 91019, 'm', 'hint', 11,
                         42, 'setnickname', 12, '{}', 'run-1', 7)",
                [],
            )
            .unwrap();
            let blocked = conn.execute(
                "INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('a', 'avatar', 'blocked', 'h', 1)",
                [],
            );
            assert!(blocked.is_err(), "v5 does not know `blocked`");
        }
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, "v5.db").unwrap();
        use rusqlite::types::Value::{Integer as I, Text as T};
        let kept: Vec<rusqlite::types::Value> = conn
            .query_row(
                "SELECT identity, kind, state, input_hash, attempts, errcode, message, hint, not_before, audit_id,
                        started_api, started_at, started_info, run_id, updated_at FROM steps",
                [],
                |r| (0..15).map(|i| r.get(i)).collect(),
            )
            .unwrap();
        let t = |s: &str| T(s.to_string());
        let want = [
            t("wx1111111111111111"),
            t("nickname"),
            t("in_review"),
            t("h1"),
            I(3),
            I(91019),
            t("m"),
            t("hint"),
            I(11),
            I(42),
            t("setnickname"),
            I(12),
            t("{}"),
            t("run-1"),
            I(7),
        ];
        assert_eq!(kept, want);
        conn.execute(
            "INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('a', 'avatar', 'blocked', 'h', 1)",
            [],
        )
        .unwrap();
        let bad = conn.execute(
            "INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('b', 'avatar', 'stuck', 'h', 1)",
            [],
        );
        assert!(bad.is_err(), "a state outside DESIGN §4 must be refused");
        let indexes: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'steps_state'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(indexes, 0, "no index comes back");
    }

    /// `quota_use` counts the logged calls that reached WeChat per appid, API and Beijing day.
    #[test]
    fn quota_use_counts_calls_that_reached_wechat_by_beijing_day() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        // 2026-11-20 15:59:59 UTC is 23:59:59 in Beijing; one second later it is the 21st there.
        let before_midnight = 1_795_190_399_000_i64;
        for (at_ms, appid, errcode) in [
            (before_midnight, Some("wxa"), Some(0)),
            (before_midnight + 1000, Some("wxa"), Some(0)),
            (before_midnight + 2000, Some("wxa"), Some(45009)),
            (before_midnight + 3000, Some("wxa"), None), // a dropped connection: never reached WeChat
            (before_midnight + 4000, None, Some(0)),
        ] {
            conn.execute(
                "INSERT INTO events (at_ms, appid, api, errcode, duration_ms, outcome) VALUES (?1, ?2, '/x', ?3, 1, 'ok')",
                rusqlite::params![at_ms, appid, errcode],
            )
            .unwrap();
        }
        let mut stmt = conn.prepare("SELECT appid, api, day, calls FROM quota_use ORDER BY appid, day").unwrap();
        let rows: Vec<(String, String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let row = |appid: &str, day: &str, calls| (appid.to_string(), "/x".to_string(), day.to_string(), calls);
        assert_eq!(rows, [row("", "2026-11-21", 1), row("wxa", "2026-11-20", 1), row("wxa", "2026-11-21", 2)]);
    }

    /// Writing a step must not build a temporary table (what an `IN` list check costs).
    #[test]
    fn writing_a_step_builds_no_temporary_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        let mut stmt = conn
            .prepare(
                "EXPLAIN INSERT OR REPLACE INTO steps (identity, kind, state, input_hash, updated_at)
                 VALUES ('a', 'avatar', 'done', 'h', 1)",
            )
            .unwrap();
        let opcodes: Vec<String> = stmt.query_map([], |r| r.get(1)).unwrap().map(Result::unwrap).collect();
        assert!(opcodes.iter().any(|op| op == "Insert"), "{opcodes:?}");
        assert!(!opcodes.iter().any(|op| op == "OpenEphemeral"), "{opcodes:?}");
    }

    /// v7: runs that ended before it are `finished`, one that never ended `running`.
    #[test]
    fn upgrading_to_version_7_gives_every_run_a_status() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS[..6].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO runs (id, command, job, started_at, finished_at, exit_code) VALUES ('a', 'run', 'j', 1, 2, 0);
             INSERT INTO runs (id, command, job, started_at) VALUES ('b', 'run', 'j', 3);",
        )
        .unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        let mut stmt = conn.prepare("SELECT id, status, reason IS NULL FROM runs ORDER BY id").unwrap();
        let runs: Vec<(String, String, bool)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
        assert_eq!(runs, [("a".into(), "finished".into(), true), ("b".into(), "running".into(), true)]);
        let bad = conn.execute("UPDATE runs SET status = 'crashed' WHERE id = 'a'", []);
        assert!(bad.is_err(), "a status outside the four is refused");
    }

    /// v9: a stored refresh token's `stored_at` is its first-stored time; steps have no
    /// `tried_at` yet.
    #[test]
    fn upgrading_to_version_9_dates_stored_tokens() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS[..8].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO tokens (appid, kind, refresh_token, source, imported_at) VALUES ('a', 'authorizer', 'r', 'import', 5);
             INSERT INTO tokens (appid, kind, access_token, source, imported_at) VALUES ('c', 'component', 't', 'refresh', 6);
             INSERT INTO steps (identity, kind, state, input_hash, updated_at) VALUES ('a', 'avatar', 'blocked', 'h', 1);",
        )
        .unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        let mut stmt = conn.prepare("SELECT appid, stored_at FROM tokens ORDER BY appid").unwrap();
        let tokens: Vec<(String, Option<i64>)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
        assert_eq!(tokens, [("a".into(), Some(5000)), ("c".into(), None)]);
        let tried: Option<i64> = conn.query_row("SELECT tried_at FROM steps", [], |r| r.get(0)).unwrap();
        assert_eq!(tried, None);
    }

    /// The events already written are sorted as `record_calls` sorts new ones: late when more
    /// than the slack older than the newest written before them in order.
    #[test]
    fn upgrading_to_version_11_lists_the_late_events() {
        assert!(MIGRATIONS[10].contains(&format!("newest - {}", super::super::events::ORDER_SLACK_MS)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v10.db");
        let hour = 3_600_000;
        let t = 1_800_000_000_000;
        {
            let conn = Connection::open(&path).unwrap();
            for m in &MIGRATIONS[..10] {
                conn.execute_batch(m).unwrap();
            }
            conn.pragma_update(None, "user_version", 10).unwrap();
            for at in [t, t + hour, t - 1000, t + hour - 1000, t + 2 * hour, t + hour + 1] {
                conn.execute("INSERT INTO events (at_ms, api, duration_ms, outcome) VALUES (?1, '/x', 1, 'ok')", [at])
                    .unwrap();
            }
        }
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, "v10.db").unwrap();
        let late: Vec<i64> = conn
            .prepare("SELECT id FROM events_late")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(late, [3, 6]);
        let newest: i64 = conn.query_row("SELECT newest_ms FROM events_clock", [], |r| r.get(0)).unwrap();
        assert_eq!(newest, t + 2 * hour);
        // An empty log has no newest time yet.
        let empty = dir.path().join("empty.db");
        let mut conn = Connection::open(&empty).unwrap();
        migrate(&mut conn, "empty.db").unwrap();
        let rows: i64 = conn.query_row("SELECT count(*) FROM events_clock", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 0);
    }

    #[test]
    fn a_newer_ledger_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("new.db")).unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1).unwrap();
        assert!(matches!(migrate(&mut conn, "new.db"), Err(LedgerError::TooNew { .. })));
    }
}
