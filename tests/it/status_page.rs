//! The status page (`serve --status-listen`, #13 item 5, DESIGN §7), read from a real ledger:
//! two runs against the simulator leave a row done, one blocked (no refresh token), one in
//! WeChat's audit and then rejected with a reason that quotes the sheet's name —
//! `<script>alert(1)</script>`. The page's counts per state are the ledger's, its chart has a
//! bar per run (the rows it finished, in front of the rows it saw), the script is shown as
//! text, nothing secret is in it, a wrong `Host` is refused, and off loopback it will not
//! start without WXPROV_STATUS_TOKEN and then asks for it by HTTP Basic auth, refusing (429)
//! an address that guessed wrong ten times. In headless
//! Chromium it renders the ledger's numbers, paints its chart, and reloads itself: a browser
//! left on it shows what the ledger says next.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine;
use serde_json::json;

use crate::harness::{Serve, Sim, Workspace};
use crate::run::{job, CONFIGURED, FRESH};

/// A mini-program of the example fixture whose refresh token the test does not import.
const NO_TOKEN: &str = "wxa1b2c3d4e5f60102";

/// What the sheet asks for the name, and what WeChat's rejection quotes.
const SCRIPT: &str = "<script>alert(1)</script>";

const STATUS_TOKEN: &str = "st4tus-t0ken-for-the-page";

/// A ledger of two runs: FRESH's signature done, NO_TOKEN's blocked, CONFIGURED's name sent to
/// the audit in the first run and rejected before the second.
fn fleet(sim: &Sim, ws: &Workspace) -> String {
    let job = job(
        ws,
        &format!(
            "appid,nickname,signature\n{FRESH},,提供好用的在线工具。\n{CONFIGURED},{SCRIPT},\n{NO_TOKEN},,提供好用的在线工具。\n"
        ),
    );
    ws.write(
        "tokens.csv",
        format!("{FRESH},refreshtoken@@@mp-fresh-0001\n{CONFIGURED},refreshtoken@@@mp-configured-0002\n"),
    );
    ws.test().args(["tokens", "import", "tokens.csv"]).run();
    ws.test_on(sim).args(["run", &job]).status(3).run();
    sim.post("/__sim/audit", json!({"appid": CONFIGURED, "result": 2, "reason": format!("名称“{SCRIPT}”不符合规范")}));
    ws.test_on(sim).args(["run", &job]).status(3).run();
    job
}

/// One GET of `/` from the page at `addr` with `host` as the `Host` header and `auth` (user,
/// password) by Basic auth: the status and the body. Written by hand so that the `Host`
/// is exactly what the test says.
fn get(addr: &str, host: &str, auth: Option<(&str, &str)>) -> (u16, String) {
    let (status, _head, body) = exchange(addr, host, auth);
    (status, body)
}

/// [`get`], with the answer's status line and headers.
fn exchange(addr: &str, host: &str, auth: Option<(&str, &str)>) -> (u16, String, String) {
    exchange_on(TcpStream::connect(addr).expect("connect to the status page"), "/", host, auth)
}

/// A connection to `addr` from the local address `from` (127.0.0.1 is who connects to a
/// loopback address otherwise).
fn connect_from(from: &str, addr: &str) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(from.parse().unwrap()).unwrap();
        socket.connect(addr.parse().unwrap()).await.expect("connect to the status page").into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
}

/// [`exchange`] on a connection made.
fn exchange_on(mut stream: TcpStream, path: &str, host: &str, auth: Option<(&str, &str)>) -> (u16, String, String) {
    let auth = auth
        .map(|(user, password)| {
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Authorization: Basic {pair}\r\n")
        })
        .unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// `http://127.0.0.1:PORT/` → `127.0.0.1:PORT`.
fn host_of(url: &str) -> String {
    url.trim_start_matches("http://").trim_end_matches('/').to_string()
}

/// The page's steps table: (kind, state) → count, for the counts above zero.
pub fn page_counts(html: &str) -> BTreeMap<(String, String), i64> {
    let doc = scraper::Html::parse_document(html);
    let cells = scraper::Selector::parse("td[data-kind][data-state]").unwrap();
    doc.select(&cells)
        .map(|td| {
            let v = td.value();
            let n: i64 = td.text().collect::<String>().trim().parse().expect("a count");
            ((v.attr("data-kind").unwrap().to_string(), v.attr("data-state").unwrap().to_string()), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The ledger's steps: (kind, state) → count.
pub fn ledger_counts(ws: &Workspace) -> BTreeMap<(String, String), i64> {
    ws.query("SELECT kind, state, count(*) FROM steps GROUP BY kind, state")
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().unwrap()))
        .collect()
}

/// The chart's bars: (run id, value), oldest first.
fn bars(html: &str) -> Vec<(String, i64)> {
    rects(html, "bar", "data-value")
}

/// The paler bars behind them, the rows each run saw: (run id, value), oldest first.
fn wholes(html: &str) -> Vec<(String, i64)> {
    rects(html, "whole", "data-whole")
}

fn rects(html: &str, class: &str, value: &str) -> Vec<(String, i64)> {
    let doc = scraper::Html::parse_document(html);
    let bar = scraper::Selector::parse(&format!("svg rect.{class}")).unwrap();
    doc.select(&bar)
        .map(|r| (r.value().attr("data-run").unwrap().to_string(), r.value().attr(value).unwrap().parse().unwrap()))
        .collect()
}

/// The page's title, as a browser's tab shows it.
fn title(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let title = scraper::Selector::parse("head title").unwrap();
    doc.select(&title).next().expect("a title").text().collect()
}

/// The title of the fleet the test built, and of the same with its blocked row done.
const TITLE: &str = "wxprov 状态 status · 失败 1 failed · 受阻 1 blocked";
const TITLE_UNBLOCKED: &str = "wxprov 状态 status · 失败 1 failed · 受阻 0 blocked";

/// The calls table: (Beijing day, API) → calls, and API → the daily limit shown.
fn page_calls(html: &str) -> (BTreeMap<(String, String), i64>, BTreeMap<String, String>) {
    let doc = scraper::Html::parse_document(html);
    let cells = scraper::Selector::parse("td[data-api][data-day]").unwrap();
    let calls = doc
        .select(&cells)
        .filter_map(|td| {
            let text = td.text().next()?.trim().to_string();
            let v = td.value();
            Some(((v.attr("data-day")?.to_string(), v.attr("data-api")?.to_string()), text.parse().ok()?))
        })
        .collect();
    let limits = scraper::Selector::parse("td[data-limit]").unwrap();
    let limits = doc
        .select(&limits)
        .map(|td| {
            (td.value().attr("data-limit").unwrap().to_string(), td.text().collect::<String>().trim().to_string())
        })
        .collect();
    (calls, limits)
}

/// The text of the rows of the table of `state` (`failed`, `blocked`).
fn rows_of(html: &str, state: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let rows = scraper::Selector::parse(&format!("tr.{state}")).unwrap();
    doc.select(&rows).map(|r| r.text().collect::<Vec<_>>().join("|")).collect()
}

#[test]
fn the_page_shows_the_ledger_escaped_and_without_secrets() {
    let sim = Sim::start();
    let ws = Workspace::new();
    fleet(&sim, &ws);
    let serve = Serve::start_with(&ws, &[], &["--status-listen", "127.0.0.1:0"]);
    let url = serve.status_url.clone().expect("the status page's URL");
    let host = host_of(&url);
    let (status, html) = get(&host, &host, None);
    assert_eq!(status, 200, "{html}");

    let ledger = ledger_counts(&ws);
    assert_eq!(page_counts(&html), ledger);
    let want: BTreeMap<(String, String), i64> =
        [("nickname", "failed"), ("signature", "blocked"), ("signature", "done")]
            .into_iter()
            .map(|(k, s)| ((k.to_string(), s.to_string()), 1))
            .collect();
    assert_eq!(ledger, want, "the fleet the test built");

    // Run 1 finished FRESH's row (its one step done) of the 3 it saw; run 2 finished none.
    let runs = ws.query("SELECT id, rows_finished_now, rows, rows_finished FROM runs ORDER BY started_at, id");
    let column =
        |i: usize| -> Vec<(String, i64)> { runs.iter().map(|r| (r[0].clone(), r[i].parse().unwrap())).collect() };
    assert_eq!(column(1).iter().map(|(_, n)| *n).collect::<Vec<_>>(), [1, 0], "rows each run finished");
    assert_eq!(column(2).iter().map(|(_, n)| *n).collect::<Vec<_>>(), [3, 3], "rows each run saw");
    assert_eq!(column(3).iter().map(|(_, n)| *n).collect::<Vec<_>>(), [1, 1], "rows finished at each run's end");
    assert_eq!(bars(&html), column(1), "one bar per run, oldest first, its height the rows the run finished");
    assert_eq!(wholes(&html), column(2), "behind each, the rows the run saw");
    assert_eq!(title(&html), TITLE);

    // The calls that reached WeChat per Beijing day and API, as the event log has them, and
    // the daily limit quota/get stated (the fixture's 500 for modifysignature).
    let logged: BTreeMap<(String, String), i64> = ws
        .query(
            "SELECT date(at_ms / 1000, 'unixepoch', '+8 hours'), api, count(*) FROM events
              WHERE errcode IS NOT NULL GROUP BY 1, 2",
        )
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().unwrap()))
        .collect();
    let (calls, limits) = page_calls(&html);
    assert!(logged.keys().any(|(_, api)| api == "/cgi-bin/account/modifysignature"), "{logged:?}");
    assert_eq!(calls, logged);
    assert_eq!(limits.get("/cgi-bin/account/modifysignature").map(String::as_str), Some("500"), "{limits:?}");

    // The rejection quotes the sheet's name: shown as text, never as markup.
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    let failed = rows_of(&html, "failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains(CONFIGURED) && failed[0].contains(SCRIPT), "{failed:?}");
    let blocked = rows_of(&html, "blocked");
    let hint = &ws.query(&format!("SELECT hint FROM steps WHERE identity = '{NO_TOKEN}'"))[0][0];
    assert_eq!(blocked.len(), 1, "{blocked:?}");
    assert!(blocked[0].contains(NO_TOKEN) && blocked[0].contains(hint.as_str()), "the hint is shown: {blocked:?}");

    let mut secrets = sim.secrets();
    secrets.extend([sim.component_secret.clone(), sim.verify_ticket.clone()]);
    crate::harness::assert_no_secret("the status page", &html, &secrets);

    // Another Host — a name another site could make resolve here — is refused.
    let port = host.rsplit(':').next().unwrap();
    for wrong in
        [format!("evil.example:{port}"), format!("127.0.0.1:{}", port.parse::<u16>().unwrap() ^ 1), String::new()]
    {
        let (status, body) = get(&host, &wrong, None);
        assert_eq!(status, 421, "Host {wrong:?}: {body}");
        assert!(!body.contains(CONFIGURED), "nothing of the ledger with a wrong Host");
    }
    assert_eq!(get(&host, &format!("localhost:{port}"), None).0, 200, "localhost is loopback's name");
    serve.stop();
}

#[test]
fn off_loopback_it_needs_the_token_and_asks_for_it() {
    let sim = Sim::start();
    let ws = Workspace::new();
    fleet(&sim, &ws);
    let refused = ws
        .test()
        .args(["serve", "--listen", "127.0.0.1:0", "--status-listen", "0.0.0.0:0"])
        .status(2)
        .stderr_has("WXPROV_STATUS_TOKEN")
        .stderr_has("0.0.0.0:0 (from --status-listen) is not on loopback")
        .run();
    assert!(refused.stdout.is_empty(), "nothing listened: {}", refused.stdout);
    // The same from the environment, named so.
    ws.test()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("WXPROV_STATUS_LISTEN", "0.0.0.0:0")
        .status(2)
        .stderr_has("(from WXPROV_STATUS_LISTEN) is not on loopback: set WXPROV_STATUS_TOKEN")
        .run();

    let serve = Serve::start_with(&ws, &[("WXPROV_STATUS_TOKEN", STATUS_TOKEN)], &["--status-listen", "0.0.0.0:0"]);
    let url = serve.status_url.clone().unwrap();
    let port = url.trim_end_matches('/').rsplit(':').next().unwrap().to_string();
    assert!(url.starts_with("http://0.0.0.0:"), "{url}");
    let addr = format!("127.0.0.1:{port}");
    let (status, body) = get(&addr, &addr, None);
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains(CONFIGURED));
    assert_eq!(get(&addr, &addr, Some(("ops", "not-the-token"))).0, 401);
    let (status, html) = get(&addr, &addr, Some(("ops", STATUS_TOKEN)));
    assert_eq!(status, 200, "{html}");
    assert_eq!(page_counts(&html), ledger_counts(&ws));
    assert!(!html.contains(STATUS_TOKEN), "the token is not in the page");

    // Ten wrong tokens from one address (the one above and nine more; a request without a
    // token is none, nor one for another path, as a browser's for its icon) and it is
    // refused without a look, the right token too, until the minute of its first wrong one
    // ends; another address is not held back.
    let (status, _, body) =
        exchange_on(TcpStream::connect(&addr).unwrap(), "/favicon.ico", &addr, Some(("ops", "a-guess")));
    assert_eq!((status, body.as_str()), (404, "not found: the status page is at /\n"));
    for _ in 0..9 {
        assert_eq!(get(&addr, &addr, Some(("ops", "a-guess"))).0, 401);
    }
    for auth in [("ops", "a-guess"), ("ops", STATUS_TOKEN)] {
        let (status, head, body) = exchange(&addr, &addr, Some(auth));
        assert_eq!(status, 429, "{head}");
        let retry_after: u64 = head
            .lines()
            .find_map(|l| l.strip_prefix("retry-after: "))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("a Retry-After: {head}"));
        assert!((1..=60).contains(&retry_after), "{head}");
        assert_eq!(body, format!("too many wrong tokens from this address: try again in {retry_after} s\n"));
    }
    let (status, _, html) = exchange_on(connect_from("127.0.0.2:0", &addr), "/", &addr, Some(("ops", STATUS_TOKEN)));
    assert_eq!(status, 200, "{html}");
    let stderr = serve.stop();
    assert!(!stderr.contains(STATUS_TOKEN), "nor in serve's log");
    let warned = "the status page had 10 wrong tokens from 127.0.0.1 within 60 s: refused (429) until then";
    assert_eq!(stderr.matches(warned).count(), 1, "{stderr}");
}

/// Debian's Chromium, which `.ci/run` installs; `None` (the test skipped, saying so) only
/// outside CI — in CI (`CI` set, as `.ci/run` exports it) a missing Chromium fails the test.
fn chromium() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("chromium")).find(|p| p.is_file()))
        .unwrap_or_default();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium (.ci/run installs Debian's package): the status page is checked in it"
        );
        eprintln!("skipped: chromium is not installed here (apt-get install chromium); CI installs it and runs this");
    }
    found
}

/// The flags every headless Chromium here runs with: as root and on a closed network (no
/// sandbox, no background connections), in the profile `profile`.
fn chromium_command(chromium: &std::path::Path, profile: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

/// Runs headless Chromium on `url` with `what` (`--dump-dom`, `--screenshot=PATH`) in a
/// profile of its own; its stdout.
fn headless(chromium: &std::path::Path, what: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = chromium_command(chromium, profile.path())
        .args(what)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read on a thread so a browser that hangs fails the test after a while instead of
    // holding CI until its own limit.
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = tx.send(out);
    });
    let Ok(out) = rx.recv_timeout(std::time::Duration::from_secs(120)) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromium {what:?} {url} gave no answer in 120 s and was killed");
    };
    let status = child.wait().unwrap();
    assert!(status.success(), "chromium {what:?} {url}: {status}");
    out
}

/// Headless Chromium left open on a page, as a person leaves a tab open: what it shows is
/// read from its DevTools endpoint (`/json/list`, plain HTTP on loopback), so the test sees
/// the browser's own reloads, not loads of its own. Killed when dropped.
struct OpenTab {
    child: std::process::Child,
    devtools: String,
    _profile: tempfile::TempDir,
}

impl OpenTab {
    fn open(chromium: &std::path::Path, url: &str) -> OpenTab {
        let profile = tempfile::tempdir().unwrap();
        let child = chromium_command(chromium, profile.path())
            .arg("--remote-debugging-port=0")
            .arg(url)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start chromium");
        // Chromium writes the port it took to DevToolsActivePort in the profile.
        let active = profile.path().join("DevToolsActivePort");
        let port = wait_for("chromium's DevTools port", std::time::Duration::from_secs(60), || {
            std::fs::read_to_string(&active).ok()?.lines().next()?.trim().parse::<u16>().ok()
        });
        OpenTab { child, devtools: format!("127.0.0.1:{port}"), _profile: profile }
    }

    /// The title of the tab showing the status page, once it has one.
    fn title(&self) -> Option<String> {
        let (status, body) = get_path(&self.devtools, "/json/list");
        let targets: serde_json::Value = serde_json::from_str(&body).ok().filter(|_| status == 200)?;
        targets
            .as_array()?
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["title"].as_str())
            .filter(|t| t.starts_with("wxprov"))
            .map(str::to_string)
    }
}

impl Drop for OpenTab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `probe` until it answers, every 100 ms for at most `limit`.
fn wait_for<T>(what: &str, limit: std::time::Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(start.elapsed() < limit, "{what}: nothing in {limit:?}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A GET of `path` from `addr` (Host: `addr`): the status and the body, read to its
/// `Content-Length` (Chromium's DevTools server keeps the connection open).
fn get_path(addr: &str, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(addr) else { return (0, String::new()) };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let _ = write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok());
            if length.is_some_and(|n| body.len() >= n) {
                let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                return (status, body.to_string());
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return (0, String::new()),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
}

/// How many pixels of the PNG `bytes` are within a few levels of the colour `rgb`.
fn pixels_of(bytes: &[u8], rgb: [u8; 3]) -> usize {
    let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png).expect("a PNG").to_rgb8();
    image.pixels().filter(|p| p.0.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 3)).count()
}

#[test]
fn chromium_renders_the_ledgers_numbers_and_reloads_itself() {
    let Some(chromium) = chromium() else { return };
    let sim = Sim::start();
    let ws = Workspace::new();
    fleet(&sim, &ws);
    let serve = Serve::start_with(&ws, &[], &["--status-listen", "127.0.0.1:0"]);
    let url = serve.status_url.clone().unwrap();

    let dom = headless(&chromium, &["--dump-dom"], &url);
    let before = ledger_counts(&ws);
    assert_eq!(page_counts(&dom), before, "{dom}");
    let doc = scraper::Html::parse_document(&dom);
    let one = |css: &str| doc.select(&scraper::Selector::parse(css).unwrap()).next().map(|e| e.to_owned());
    let rows = one("#rows").expect("the row count").text().collect::<String>();
    assert_eq!(rows, ws.query("SELECT count(*) FROM rows")[0][0]);
    assert_eq!(bars(&dom).len(), 2, "a bar per run");
    assert_eq!(title(&dom), TITLE);
    let refresh = one("head meta[http-equiv=\"refresh\"]").expect("a meta refresh");
    assert_eq!(refresh.value().attr("content"), Some("15"));
    assert!(one("script").is_none(), "no script");

    // A tab left open on the page: the blocked row's token comes, and within a reload (15 s)
    // the same tab shows it — its title says no row is blocked any more.
    let tab = OpenTab::open(&chromium, &url);
    let shown = wait_for("the open tab's title", std::time::Duration::from_secs(60), || tab.title());
    assert_eq!(shown, TITLE);
    let conn = rusqlite::Connection::open(ws.ledger()).unwrap();
    conn.execute(
        "UPDATE steps SET state = 'done', message = 'signature set', hint = NULL WHERE identity = ?1",
        [NO_TOKEN],
    )
    .unwrap();
    drop(conn);
    let changed = std::time::Instant::now();
    let after = ledger_counts(&ws);
    assert_ne!(after, before);
    let reloaded = wait_for("the open tab reloading itself", std::time::Duration::from_secs(45), || {
        tab.title().filter(|t| t.as_str() != TITLE)
    });
    assert_eq!(reloaded, TITLE_UNBLOCKED, "after {:?}", changed.elapsed());
    drop(tab);
    let dom = headless(&chromium, &["--dump-dom"], &url);
    assert_eq!(page_counts(&dom), after);
    assert!(rows_of(&dom, "blocked").is_empty());

    // And it paints: a screenshot of the window's size with the chart's two blues in it (the
    // bars of the rows each run finished, and of the rows it saw behind them).
    let shots = tempfile::tempdir().unwrap();
    let png = shots.path().join("page.png");
    headless(&chromium, &[&format!("--screenshot={}", png.display())], &url);
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (width, height) =
        (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()));
    assert_eq!((width, height), (1280, 1800));
    let (finished, seen) = (pixels_of(&bytes, [0x09, 0x69, 0xda]), pixels_of(&bytes, [0xb6, 0xd4, 0xf5]));
    assert!(finished > 500 && seen > 500, "the chart painted: {finished} and {seen} pixels of its blues");
    serve.stop();
}
