//! The operations guide (`docs/guide.en.md`, `docs/guide.zh.md`) says what the program does:
//! its column table is the manifest's own column list, its job files and privacy guide are
//! ones wxprov takes (the guide the demo uses), every `wxprov` command line it shows parses, and the crontab line it gives — taken from the guide, not copied here — runs
//! `examples/wxprov-cron.sh` against the simulator and raises the alert the guide promises for
//! each exit code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use wxprov::manifest::Column;

use crate::harness::{Sim, Workspace, BIN};
use crate::run::{CONFIGURED, FRESH, SPENT};

const GUIDES: [&str; 2] = ["docs/guide.en.md", "docs/guide.zh.md"];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The bodies of the fenced blocks of `lang` in `text`.
fn fenced(text: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed.starts_with("```") && trimmed[3..].trim() == lang => current = Some(String::new()),
            Some(body) if trimmed.starts_with("```") => {
                blocks.push(std::mem::take(body));
                current = None;
            }
            Some(body) => {
                body.push_str(trimmed);
                body.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The cells of the column table between the `columns:start` and `columns:end` markers.
fn column_table(text: &str) -> Vec<Vec<String>> {
    let start = text.find("<!-- columns:start -->").expect("columns:start marker");
    let end = text.find("<!-- columns:end -->").expect("columns:end marker");
    text[start..end]
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2) // the header and the |---| line
        .map(|l| l.trim().trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

#[test]
fn every_job_file_and_privacy_guide_in_the_guides_is_one_wxprov_takes() {
    for guide in GUIDES {
        let blocks = fenced(&read(guide), "toml");
        assert!(blocks.len() >= 2, "{guide}: the job file and its [golive] section");
        let mut guides = 0;
        for block in blocks {
            // A privacy guide file (its first line names it): the one the demo and the
            // template use, as wxprov reads and checks it.
            if block.lines().next().is_some_and(|l| l.starts_with('#') && l.ends_with("privacy.toml")) {
                let ws = Workspace::new();
                let shown = wxprov::golive::PrivacyGuide::load(&ws.write("privacy.toml", &block), "privacy.toml");
                let example = repo("examples/golive/privacy.toml");
                let example = wxprov::golive::PrivacyGuide::load(&example, "examples/golive/privacy.toml");
                assert_eq!(shown, example, "{guide}: its privacy guide is examples/golive/privacy.toml's");
                guides += 1;
                continue;
            }
            // A block that shows a section alone stands for a job file holding it.
            let text =
                if block.contains("manifest =") { block.clone() } else { format!("manifest = \"x.csv\"\n{block}") };
            if let Err(e) = toml::from_str::<wxprov::config::JobFile>(&text) {
                panic!("{guide}: a job file wxprov refuses: {e}\n{block}");
            }
        }
        assert_eq!(guides, 1, "{guide}: one privacy guide file");
    }
}

/// The names in a cell like "`简介`, `功能介绍`".
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn the_guides_column_tables_are_the_manifests_columns_and_aliases() {
    for guide in GUIDES {
        let rows = column_table(&read(guide));
        let names: Vec<String> = rows.iter().map(|r| backticked(&r[0]).concat()).collect();
        let expected: Vec<String> = Column::ALL.iter().map(|c| c.name().to_string()).collect();
        assert_eq!(names, expected, "{guide}: the table's columns, in order");
        for (row, column) in rows.iter().zip(Column::ALL) {
            assert_eq!(row.len(), 3, "{guide}: column, aliases, meaning: {row:?}");
            let documented: BTreeSet<String> = backticked(&row[1]).into_iter().collect();
            let accepted: BTreeSet<String> = column.aliases().iter().map(|a| a.to_string()).collect();
            assert_eq!(documented, accepted, "{guide}: the aliases of `{}`", column.name());
            assert!(!row[2].is_empty(), "{guide}: `{}` has a meaning", column.name());
        }
    }
}

/// Every `wxprov …` line of the guides' shell and systemd blocks, without comments and
/// redirections; lines marked `(coming)` are left out until the feature lands.
fn documented_commands(text: &str) -> Vec<String> {
    let mut lines: Vec<String> =
        fenced(text, "sh").iter().flat_map(|b| b.lines().map(str::to_string).collect::<Vec<_>>()).collect();
    for unit in fenced(text, "ini") {
        lines.extend(unit.lines().filter_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/")).map(str::to_string));
    }
    lines
        .into_iter()
        .filter(|l| l.starts_with("wxprov ") && !l.contains("(coming)"))
        .map(|l| {
            let l = l.split(" #").next().unwrap_or_default();
            l.split(" >").next().unwrap_or_default().trim().to_string()
        })
        .collect()
}

#[test]
fn every_wxprov_command_line_in_the_guides_parses() {
    for guide in GUIDES {
        let commands = documented_commands(&read(guide));
        assert!(commands.len() >= 15, "{guide}: found only {commands:?}");
        for command in commands {
            let words: Vec<&str> = command.split_whitespace().skip(1).collect();
            // With --help after them, clap checks every subcommand and option named before it
            // and prints the help instead of running; a flag the command lacks is exit 2.
            let mut args = words.clone();
            if words != ["--version"] {
                args.push("--help");
            }
            let out = Command::new(BIN).args(&args).env("NO_COLOR", "1").stdin(Stdio::null()).output().unwrap();
            assert!(
                out.status.success(),
                "{guide}: `{command}` does not parse:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The guide's crontab: its environment lines and the command of its one schedule line.
fn crontab(text: &str) -> (Vec<(String, String)>, String) {
    let blocks = fenced(text, "crontab");
    assert_eq!(blocks.len(), 1, "one crontab block");
    let mut env = Vec::new();
    let mut commands = Vec::new();
    for line in blocks[0].lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() == 1 && line.contains('=') {
            let (k, v) = line.split_once('=').unwrap();
            env.push((k.to_string(), v.to_string()));
        } else {
            assert!(fields.len() > 5, "a schedule line: {line}");
            // Five schedule fields, then the command as cron hands it to sh.
            let mut rest = line;
            for _ in 0..5 {
                rest = rest.trim_start().split_once(char::is_whitespace).unwrap().1;
            }
            commands.push(rest.trim().to_string());
        }
    }
    assert_eq!(commands.len(), 1, "one schedule line");
    (env, commands.remove(0))
}

#[test]
fn both_guides_give_the_same_crontab() {
    let [en, zh] = GUIDES.map(|g| crontab(&read(g)));
    assert_eq!(en, zh);
}

/// A server laid out as the guide's section 1 installs it, in a temp folder: the guide's
/// `/srv/wxprov` is `root`, its `/usr/local/bin` is `root/bin` (holding `wxprov` and
/// `wxprov-cron`, the example script), the env file is `root/wxprov.env`, and the crontab's
/// `ALERT_COMMAND` is a script that records its arguments in `root/alerts`.
struct Server {
    ws: Workspace,
    env: Vec<(String, String)>,
    command: String,
}

impl Server {
    fn new(sim: &Sim, secret: &str) -> Server {
        let ws = Workspace::new();
        let root = ws.path().to_str().unwrap().to_string();
        let bin = ws.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(BIN, bin.join("wxprov")).unwrap();
        std::fs::copy(repo("examples/wxprov-cron.sh"), bin.join("wxprov-cron")).unwrap();
        for dir in ["jobs", "sheets", "reports", "logs"] {
            std::fs::create_dir_all(ws.path().join(dir)).unwrap();
        }
        ws.write("alert.sh", "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$1\" \"$2\" \"$3\" >> \"$(dirname \"$0\")/alerts\"\n");
        for script in [bin.join("wxprov-cron"), ws.path().join("alert.sh")] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let server = Server::from_guide(ws, &root, bin.to_str().unwrap());
        server.ws.write(
            "jobs/stores.toml",
            format!(
                "manifest = \"../sheets/stores.csv\"\nledger = \"../wxprov.db\"\nreport_dir = \"../reports\"\napi_base = \"{}\"\nconcurrency = 1\n",
                sim.url
            ),
        );
        server.write_env(sim, secret);
        server
    }

    fn from_guide(ws: Workspace, root: &str, bin: &str) -> Server {
        let (env, command) = crontab(&read(GUIDES[0]));
        let env = env
            .into_iter()
            .map(|(k, v)| (k, v.replace("/usr/local/bin", bin).replace("/srv/wxprov", root)))
            .chain([("ENV_FILE".to_string(), format!("{root}/wxprov.env"))])
            .collect();
        Server { ws, env, command: command.replace("/srv/wxprov", root) }
    }

    /// The env file as section 3 writes it: the secret in a file of its own.
    fn write_env(&self, sim: &Sim, secret: &str) {
        let secret_file = self.ws.write("component-secret", format!("{secret}\n"));
        self.ws.write(
            "wxprov.env",
            format!(
                "WXPROV_COMPONENT_APPID={}\nWXPROV_COMPONENT_SECRET_FILE={}\nWXPROV_COMPONENT_VERIFY_TICKET={}\n",
                sim.component_appid,
                secret_file.display(),
                sim.verify_ticket
            ),
        );
    }

    fn sheet(&self, csv: &str) {
        self.ws.write("sheets/stores.csv", csv);
    }

    /// The crontab's command, as cron runs it: `sh -c` with the crontab's environment only.
    fn cron(&self) -> Command {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(&self.command).env_clear().env("HOME", self.ws.path()).stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the crontab's command once; the wrapper's line in the log and the alerts raised.
    fn run(&self) -> (String, String) {
        let before = self.alerts();
        let status = self.cron().status().expect("sh");
        assert!(status.code().is_some(), "the cron command ended by a signal");
        self.outcome(&before)
    }

    fn outcome(&self, alerts_before: &str) -> (String, String) {
        let log = std::fs::read_to_string(self.ws.path().join("logs/cron.log")).expect("logs/cron.log");
        assert!(!log.contains("panicked"), "{log}");
        let line = log.lines().rev().find(|l| l.starts_with("wxprov-cron: ")).unwrap_or_default().to_string();
        (line, self.alerts()[alerts_before.len()..].to_string())
    }

    fn alerts(&self) -> String {
        std::fs::read_to_string(self.ws.path().join("alerts")).unwrap_or_default()
    }

    fn tokens_recover(&self, sim: &Sim) {
        self.ws.test_on(sim).env("WXPROV_LEDGER", self.ws.path().join("wxprov.db")).args(["tokens", "recover"]).run();
    }
}

const JOB: &str = "jobs/stores.toml";

/// The wrapper's line for `code`, and the alert it raises (empty when it raises none).
fn expected(code: i32) -> (String, String) {
    let (level, message) = match code {
        0 => ("ok", "nothing needs a person / 无需人工处理"),
        1 => ("urgent", "the run could not proceed (credentials, IP whitelist, ledger or report folder): read the error in the log and summary.json / 运行未能进行：检查凭据、IP 白名单、账本或报告目录"),
        2 => ("urgent", "usage: the job file, an option or the sheet's columns are wrong; nothing was sent / 用法错误：任务文件、参数或表格列有误，未发出任何调用"),
        3 => ("action", "some rows need a person: fix them in REPORT_DIR/latest/failed.csv and run its failed.toml / 有行需要人工处理：修改 failed.csv 后运行 failed.toml"),
        4 => ("info", "some rows were deferred by a quota; the next run continues / 部分行因配额延后，下次运行继续"),
        5 => ("warning", "another run holds the ledger; this one did nothing / 另一个运行正在使用账本，本次未执行"),
        143 => ("warning", "interrupted; the reports say so and the next run continues / 运行被中断，下次运行继续"),
        _ => unreachable!(),
    };
    let line = format!("wxprov-cron: {JOB}: exit {code} {level}: {message}");
    let alert =
        if matches!(level, "ok" | "info") { String::new() } else { format!("{level}|{code}|{JOB}: {message}\n") };
    (line, alert)
}

#[test]
fn the_guides_cron_line_alerts_by_exit_code() {
    let sim = Sim::start();

    // 1: the component secret in the env file is wrong; no call for any row.
    let server = Server::new(&sim, "not-the-secret");
    server.sheet(&format!("appid,signature\n{CONFIGURED},一个简单好用的计算器。\n"));
    assert_eq!(server.run(), expected(1));
    assert!(sim.calls_to("/cgi-bin/account/getaccountbasicinfo").is_empty());

    server.write_env(&sim, &sim.component_secret);
    server.tokens_recover(&sim);

    // 0: already as asked.
    assert_eq!(server.run(), expected(0));

    // 3: a signature too short for WeChat is the sheet's to fix.
    server.sheet(&format!("appid,signature\n{FRESH},好的\n"));
    assert_eq!(server.run(), expected(3));

    // 4: the month's signature changes are spent.
    server.sheet(&format!("appid,signature\n{SPENT},新的功能介绍文字\n"));
    assert_eq!(server.run(), expected(4));

    // 2: a header without an identity column.
    server.sheet("signature\n一个简单好用的计算器。\n");
    assert_eq!(server.run(), expected(2));

    // 5: another run holds the ledger (its lock file, as a running `wxprov run` does).
    server.sheet(&format!("appid,signature\n{CONFIGURED},一个简单好用的计算器。\n"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(server.ws.path().join("wxprov.db.lock"))
        .unwrap();
    lock.lock().unwrap();
    assert_eq!(server.run(), expected(5));
    drop(lock);
    assert_eq!(server.run(), expected(0));
}

#[test]
fn the_guides_cron_line_reports_a_run_stopped_by_sigterm() {
    use std::os::unix::process::CommandExt;

    // Every answer takes 300 ms, so the four rows' calls (one at a time) outlast the signal.
    let sim = Sim::with_fixture(crate::harness::example_fixture(), &["--latency-ms", "300"]);
    let server = Server::new(&sim, &sim.component_secret);
    server.tokens_recover(&sim);
    sim.http_delete("/__sim/calls");
    server.sheet(&format!(
        "appid,signature\n{FRESH},第一条新的功能介绍。\n{CONFIGURED},第二条新的功能介绍。\nwx1a2b3c4d5e6f7080,第三条新的功能介绍。\n{SPENT},第四条新的功能介绍。\n"
    ));
    let before = server.alerts();
    let mut child = server.cron().process_group(0).spawn().expect("sh");
    let group = child.id() as i32;
    let mut waited = 0;
    while sim.calls().is_empty() {
        assert!(waited < 1200, "the run made no call within a minute");
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    // SIGTERM to the wxprov process of the cron command's group, as `kill -TERM PID` would.
    let wxprov = processes_in_group(group).into_iter().find(|pid| is_wxprov(*pid)).expect("wxprov is running");
    assert_eq!(unsafe { libc::kill(wxprov, libc::SIGTERM) }, 0);
    child.wait().unwrap();
    assert_eq!(server.outcome(&before), expected(143));
}

fn processes_in_group(group: i32) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid pgrp …; comm may hold spaces, so split after the last ')'.
        let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(group) {
            pids.push(pid);
        }
    }
    pids
}

fn is_wxprov(pid: i32) -> bool {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    exe.is_some() && exe == std::fs::canonicalize(BIN).ok()
}
