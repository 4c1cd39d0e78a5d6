//! Load benchmark of the callback receiver (`wxprov serve`, DESIGN §7): is it fast enough,
//! and does it lose nothing under load?
//!
//! Starts the receiver in-process on loopback with a temp ledger, then sends a paced mix of
//! requests for the given duration: encrypted `component_verify_ticket` pushes (40%),
//! fastregister (20%) and rebind (10%) redirects (with the `state` `wxprov links` would sign
//! them with), each with a unique ticket, and invalid pushes (30%: tampered signature,
//! garbage body, stale timestamp). At the end it checks that every request got the answer it
//! should and that every valid ticket sent is in the ledger, and prints the achieved rate,
//! p50/p99 latency and the lost tickets (which must be 0).
//!
//! ```text
//! cargo run --release --example load_serve -- [SECONDS] [--rate N]
//! ```
//! Defaults: 30 s at 2,000 requests/s. Loopback only; the number of requests is bounded by
//! rate × duration and the run by the duration plus a 30 s drain. Exits 1 if any request got
//! an unexpected answer or any ticket was lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use wechat_open::crypto::MsgCrypt;
use wechat_open::event::{Event, PushBody, Pushed};
use wechat_open::secret::Secret;
use wxprov::callback::link_state::LinkKey;
use wxprov::callback::server::{self, ServerState};
use wxprov::ledger::Ledger;

const TOKEN: &str = "loadTestToken";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const COMPONENT: &str = "wx0c0c0c0c0c0c0c0c";
/// Requests in flight at most; beyond it the pacer waits (and the achieved rate shows it).
const MAX_IN_FLIGHT: usize = 256;
/// How long the requests in flight may take to finish after the last one is sent.
const DRAIN: Duration = Duration::from_secs(30);

/// One request of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    VerifyTicket,
    FastRegister,
    Rebind,
    BadSignature,
    Garbage,
    Stale,
}

impl Kind {
    fn of(i: u64) -> Kind {
        match i % 10 {
            0..=3 => Kind::VerifyTicket,
            4 | 5 => Kind::FastRegister,
            6 => Kind::Rebind,
            7 => Kind::BadSignature,
            8 => Kind::Garbage,
            _ => Kind::Stale,
        }
    }

    fn expected_status(self) -> u16 {
        match self {
            Kind::VerifyTicket | Kind::FastRegister | Kind::Rebind => 200,
            Kind::BadSignature | Kind::Stale => 403,
            Kind::Garbage => 400,
        }
    }

    fn is_valid(self) -> bool {
        self.expected_status() == 200
    }
}

/// A ticket as the ledger's `tickets` table keys it: kind, account, value.
type TicketKey = (String, String, String);

/// What one request did.
struct Outcome {
    kind: Kind,
    /// The `(kind, account, value)` the ledger must hold for a valid request.
    ticket: Option<TicketKey>,
    result: Result<u16, String>,
    latency: Duration,
}

struct Options {
    seconds: u64,
    rate: u64,
}

fn options() -> Result<Options, String> {
    let mut opts = Options { seconds: 30, rate: 2000 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rate" => {
                let value = args.next().ok_or("--rate needs a number")?;
                opts.rate = value.parse().map_err(|_| format!("--rate {value}: not a number"))?;
            }
            "-h" | "--help" => return Err("usage: load_serve [SECONDS] [--rate N]".into()),
            seconds => opts.seconds = seconds.parse().map_err(|_| format!("{seconds}: not a number of seconds"))?,
        }
    }
    if opts.seconds == 0 || opts.seconds > 3600 || opts.rate == 0 || opts.rate > 100_000 {
        return Err("SECONDS must be 1..=3600 and --rate 1..=100000".into());
    }
    Ok(opts)
}

/// Builds request `i`: its URL, body and the ticket it should leave in the ledger.
fn build(i: u64, base: &str, crypt: &MsgCrypt, key: &LinkKey) -> (String, Option<Vec<u8>>, Option<TicketKey>) {
    let now = chrono::Utc::now().timestamp();
    let push = |ticket: &str, timestamp: i64| {
        let ts = timestamp.to_string();
        let nonce = format!("n{i}");
        let pushed = Pushed {
            app_id: Some(COMPONENT.into()),
            to_user_name: None,
            create_time: Some(now),
            event: Event::ComponentVerifyTicket { ticket: Secret::new(ticket) },
        };
        let (encrypt, sig) = crypt.encrypt(&pushed.to_xml(), &ts, &nonce);
        let body = PushBody { to_user_name: None, app_id: Some(COMPONENT.into()), encrypt }.to_xml();
        (format!("{base}/callback/component?timestamp={ts}&nonce={nonce}&msg_signature={sig}&encrypt_type=aes"), body)
    };
    match Kind::of(i) {
        Kind::VerifyTicket => {
            let ticket = format!("ticket@@@load-{i}");
            let (url, body) = push(&ticket, now);
            (url, Some(body.into_bytes()), Some(("component_verify_ticket".into(), COMPONENT.into(), ticket)))
        }
        Kind::FastRegister => {
            let (appid, ticket) = (format!("wx{i:016x}"), format!("fr-{i}"));
            let state = key.state_for(&appid);
            let url = format!("{base}/callback/fastregister?official_appid={appid}&state={state}&ticket={ticket}");
            (url, None, Some(("fastregister".into(), appid, ticket)))
        }
        Kind::Rebind => {
            let (appid, taskid) = (format!("wx{i:016x}"), format!("task_{i}"));
            let state = key.state_for(&appid);
            let url = format!("{base}/callback/rebind?appid={appid}&state={state}&taskid={taskid}");
            (url, None, Some(("rebind".into(), appid, taskid)))
        }
        Kind::BadSignature => {
            let (url, body) = push(&format!("ticket@@@bad-{i}"), now);
            (url.replace("msg_signature=", "msg_signature=f"), Some(body.into_bytes()), None)
        }
        Kind::Garbage => {
            let url = format!("{base}/callback/component?timestamp={now}&nonce=g{i}&msg_signature=00");
            (url, Some(b"<xml><Encrypt>not-base64".to_vec()), None)
        }
        Kind::Stale => {
            let (url, body) = push(&format!("ticket@@@stale-{i}"), now - 2 * 3600);
            (url, Some(body.into_bytes()), None)
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = match options() {
        Ok(opts) => opts,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let dir = tempfile::tempdir()?;
    let ledger = Ledger::open(&dir.path().join("load.db"))?;
    let crypt = MsgCrypt::new(TOKEN, KEY, COMPONENT)?;
    let state = ServerState::new(ledger.clone(), Some(crypt.clone()));
    // The key `wxprov links` would sign the redirects with, from the same ledger.
    let key = LinkKey::of(&ledger).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, state, async {
        let _ = stop_rx.await;
    }));

    let client =
        reqwest::Client::builder().pool_max_idle_per_host(MAX_IN_FLIGHT).timeout(Duration::from_secs(10)).build()?;
    let total = opts.rate * opts.seconds;
    println!("load_serve: {total} requests at {}/s for {} s against {base}", opts.rate, opts.seconds);
    let outcomes = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(opts.seconds);
    let period = Duration::from_nanos(1_000_000_000 / opts.rate);
    let mut tasks = tokio::task::JoinSet::new();
    let mut sent = 0u64;
    while sent < total && Instant::now() < deadline {
        // Paced by schedule, not by interval ticks: catches up after a slow moment.
        let due = started + period * u32::try_from(sent).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let permit = permits.clone().acquire_owned().await?;
        let (url, body, ticket) = build(sent, &base, &crypt, &key);
        let kind = Kind::of(sent);
        let (client, outcomes) = (client.clone(), outcomes.clone());
        tasks.spawn(async move {
            let begun = Instant::now();
            let request = match body {
                Some(body) => client.post(&url).header("content-type", "text/xml").body(body),
                None => client.get(&url),
            };
            let result = match request.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.bytes().await {
                        Ok(_) => Ok(status),
                        Err(e) => Err(format!("reading the answer: {e}")),
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            let latency = begun.elapsed();
            drop(permit);
            if let Ok(mut all) = outcomes.lock() {
                all.push(Outcome { kind, ticket, result, latency });
            }
        });
        sent += 1;
        while tasks.try_join_next().is_some() {}
    }
    let sending = started.elapsed();
    let drained = tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await.is_ok();
    let elapsed = started.elapsed();
    let _ = stop_tx.send(());
    server.await??;

    let outcomes = std::mem::take(&mut *outcomes.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    let stored: HashSet<TicketKey> = ledger
        .call(|c| {
            let mut stmt = c.prepare("SELECT kind, account, value FROM tickets")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await?;
    let refused: i64 = ledger
        .call(|c| Ok(c.query_row("SELECT count(*) FROM callback_events WHERE outcome = 'refused'", [], |r| r.get(0))?))
        .await?;

    let mut unexpected = 0usize;
    let mut examples = Vec::new();
    let (mut valid, mut lost, mut invalid) = (0usize, 0usize, 0usize);
    for o in &outcomes {
        match &o.result {
            Ok(status) if *status == o.kind.expected_status() => {}
            other => {
                unexpected += 1;
                if examples.len() < 5 {
                    examples.push(format!("{:?}: {other:?}", o.kind));
                }
            }
        }
        if o.kind.is_valid() {
            valid += 1;
            if let Some(ticket) = &o.ticket {
                if !stored.contains(ticket) {
                    lost += 1;
                }
            }
        } else {
            invalid += 1;
        }
    }
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    latencies.sort_unstable();
    let completed = outcomes.len();
    println!("sent {sent} requests in {:.1} s ({} completed, drained: {drained})", sending.as_secs_f64(), completed);
    println!("achieved: {:.0} req/s", completed as f64 / elapsed.as_secs_f64());
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "valid: {valid} (tickets in the ledger: {}), invalid: {invalid} (refusals recorded: {refused})",
        stored.len()
    );
    println!("unexpected answers: {unexpected}");
    for example in &examples {
        println!("  e.g. {example}");
    }
    println!("lost tickets: {lost}");
    let ok = unexpected == 0 && lost == 0 && drained && completed as u64 == sent && refused as usize == invalid;
    println!("{}", if ok { "OK" } else { "FAILED" });
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
