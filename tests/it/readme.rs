//! README's first command as a test: the line `cargo run -- run jobs/demo.toml --api-base sim`
//! is read from README itself and run as the binary, from a copy of the repository's demo job
//! (so nothing is written into the repository's `target/demo`), with every `WXPROV_*` secret
//! and helper a real set-up has pointing at real-looking values. README promises that the
//! demo uses none of them and keeps everything under `target/demo/`; its output, reports and
//! files are checked whole, with times, the run id and the simulator's port redacted.

use std::path::Path;

use serde_json::Value;

use crate::rehearsal::DemoCopy;

/// The arguments of README's first command (the `cargo run --` line of its first `sh` block).
fn readme_demo_args() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block = readme.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("README has a sh block");
    let line = block.lines().find(|l| l.starts_with("cargo run -- ")).expect("README's first block runs the demo");
    line["cargo run -- ".len()..].split_whitespace().map(str::to_string).collect()
}

/// `text` with what changes from run to run replaced: the run id, RFC 3339 and log times, the
/// in-process simulator's port.
fn redact(text: &str, run_id: &str) -> String {
    let text = text.replace(run_id, "RUN_ID");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&redact_line(line));
    }
    out
}

fn redact_line(line: &str) -> String {
    let mut line = line.to_string();
    // A log line's UTC time: `[rehearsal] 2026-12-02T06:36:17.903430Z  INFO …`.
    if let Some(rest) = line.strip_prefix("[rehearsal] ") {
        if let Some((time, after)) = rest.split_once(' ') {
            if time.ends_with('Z') && time.contains('T') {
                line = format!("[rehearsal] TIME {after}");
            }
        }
    }
    if let Some(at) = line.find("http://127.0.0.1:") {
        let port_at = at + "http://127.0.0.1:".len();
        let digits = line[port_at..].bytes().take_while(u8::is_ascii_digit).count();
        line.replace_range(port_at..port_at + digits, "PORT");
    }
    line
}

#[test]
fn readmes_demo_command_rehearses_with_a_real_set_up_in_the_shell() {
    let args = readme_demo_args();
    assert_eq!(args, ["run", "jobs/demo.toml", "--api-base", "sim"]);
    let demo = DemoCopy::new();
    let dir = demo.path();
    let ran_file = dir.join("token-command-ran");
    let command = dir.join("token-command.sh");
    std::fs::write(
        &command,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\necho '{{\"access_token\": \"81_real-looking-token\", \"expires_in\": 7200}}'\n",
            ran_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&command, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let ran = demo
        .test()
        // Nothing listens there: were the rehearsal to call it, the run would fail.
        .env("WXPROV_API_BASE", "http://127.0.0.1:9")
        .env("WXPROV_COMPONENT_APPID", "wx9f8e7d6c5b4a3021")
        .env("WXPROV_COMPONENT_SECRET", "3f2a9c1e8b7d6054a1c2e3f4b5a69788")
        .env("WXPROV_COMPONENT_VERIFY_TICKET", "ticket@@@Q7mX3bJp0c1oYkV9Rn2sTw")
        .env("WXPROV_TOKEN", "wxprovCallbackToken2026")
        .env("WXPROV_ENCODING_AES_KEY", "kq3Z8mWc1TnB5yR7uE2xA9vL0pS4dG6hJ8fK2nM5bQ1")
        .env("WXPROV_TOKEN_COMMAND", &command)
        .args(&args)
        .status(4)
        .run();
    assert!(!ran_file.exists(), "the token command was run");

    let reports = dir.join("target/demo/reports/rehearsal");
    let run_id = std::fs::read_link(reports.join("latest")).unwrap().to_string_lossy().into_owned();
    assert_eq!(
        redact(&ran.stdout, &run_id),
        crate::rehearsal::first_rehearsal_stdout("RUN_ID", &dir.join("target/demo/reports"))
    );
    // The set-up lines in order; then what the rows' first calls to a paced path say, in
    // whichever order the rows reached them.
    let stderr = redact(&ran.stderr, &run_id);
    let mut lines: Vec<&str> = stderr.lines().collect();
    let paced = lines.split_off(6.min(lines.len()));
    assert_eq!(
        lines,
        [
            "[rehearsal] TIME  INFO rehearsal on the built-in simulator: ledger jobs/../target/demo/wxprov.db.sim.db, \
             reports in jobs/../target/demo/reports/rehearsal; no WXPROV_* secret or token command is used, and the \
             real ledger jobs/../target/demo/wxprov.db is never opened",
            "[rehearsal] TIME  INFO reading jobs/../examples/manifests/demo.csv as UTF-8, header on line 1",
            "[rehearsal] TIME  INFO using the built-in simulator at http://127.0.0.1:PORT (not WeChat)",
            "[rehearsal] TIME  INFO the built-in simulator keeps its state in jobs/../target/demo/wxprov.db.sim.json \
             (delete it together with jobs/../target/demo/wxprov.db.sim.db to start over)",
            "[rehearsal] TIME  INFO stored 13 refresh tokens of the simulator's fixture in jobs/../target/demo/wxprov.db.sim.db",
            "[rehearsal] TIME  INFO run RUN_ID: 4 rows",
        ]
    );
    let mut paced = paced;
    paced.sort_unstable();
    assert_eq!(
        paced,
        [
            "[rehearsal] TIME  INFO WeChat limits /cgi-bin/account/modifysignature to 6000 calls per 60 s (on an \
             account's behalf 3000 calls per 60 s): at most one call every 20 ms",
            "[rehearsal] TIME  INFO WeChat limits /cgi-bin/wxverify/checkwxverifynickname to 1200 calls per 60 s (on \
             an account's behalf none stated): at most one call every 3000 ms",
        ]
    );

    // Its reports, whole: the registered mini-program's appid is the simulator's choice.
    let report = reports.join(&run_id);
    let results = std::fs::read_to_string(report.join("results.csv")).unwrap();
    let registered = results.lines().nth(1).and_then(|l| l.split(',').nth(1)).unwrap_or_default().to_string();
    assert!(wechat_open::Appid::parse(&registered).is_ok(), "{results}");
    // The two name audits' ids go in the order the rows reach setnickname.
    let results = results.replace(&registered, "REGISTERED");
    assert_eq!(
        results.replace("(audit 410000001)", "(audit N)").replace("(audit 410000002)", "(audit N)"),
        "\u{feff}line,appid,official_appid,register,nickname,avatar,signature,categories,rebind_admin,domains,code,\
         privacy,audit,release,step,errcode,message,hint\n\
         2,REGISTERED,wx28f759479ea1e090,done,in_review,done,done,done,,pending,pending,pending,pending,pending,\
         nickname,,in WeChat's audit (audit N),\n\
         3,,wx3a1b2c3d4e5f6071,waiting,,,,,,waiting,waiting,waiting,waiting,waiting,register,,waiting for the \
         official account's admin to scan the link from `wxprov links`,\n\
         4,wxe5f52902cf4de896,,,in_review,done,done,in_review,,,,,,,nickname,,in WeChat's audit (audit N),\n\
         5,wxdc685123d9554530,,,,,skipped,skipped,done,,,,,,,,,\n"
    );
    let mut summary: Value = serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    for time in ["started_at", "finished_at"] {
        let shown = summary[time].as_str().unwrap_or_default();
        assert!(shown.starts_with("20") && shown.ends_with("+08:00"), "{time}: {shown}");
        summary[time] = "TIME".into();
    }
    assert_eq!(
        summary,
        serde_json::json!({
            "run_id": run_id,
            "started_at": "TIME",
            "finished_at": "TIME",
            "rows": 4,
            "steps": { "done": 7, "in_review": 3, "pending": 5, "skipped": 2, "waiting": 6 },
            "calls": {
                "/cgi-bin/account/componentrebindadmin": 1,
                "/cgi-bin/account/fastregister": 1,
                "/cgi-bin/account/getaccountbasicinfo": 7,
                "/cgi-bin/account/modifyheadimage": 2,
                "/cgi-bin/account/modifysignature": 2,
                "/cgi-bin/component/api_authorizer_token": 5,
                "/cgi-bin/component/api_component_token": 1,
                "/cgi-bin/component/api_query_auth": 1,
                "/cgi-bin/media/upload": 4,
                "/cgi-bin/openapi/quota/get": 11,
                "/cgi-bin/wxopen/addcategory": 2,
                "/cgi-bin/wxopen/getallcategories": 1,
                "/cgi-bin/wxopen/getcategory": 4,
                "/cgi-bin/wxverify/checkwxverifynickname": 2,
                "/wxa/setnickname": 2
            },
            "exit_code": 4,
            "rehearsal": true,
            "stopped": null,
            "interrupted": false
        })
    );

    // Everything it wrote is under target/demo: the rehearsal's ledger, the simulator's state
    // and the reports; no real ledger.
    let mut files: Vec<String> = walk(&dir.join("target"))
        .into_iter()
        .map(|p| p.strip_prefix(&dir).unwrap().display().to_string().replace(&run_id, "RUN_ID"))
        .filter(|p| !p.ends_with("-wal") && !p.ends_with("-shm"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "target/demo/reports/rehearsal/RUN_ID/failed.csv",
            "target/demo/reports/rehearsal/RUN_ID/failed.toml",
            "target/demo/reports/rehearsal/RUN_ID/results.csv",
            "target/demo/reports/rehearsal/RUN_ID/summary.json",
            "target/demo/reports/rehearsal/latest",
            "target/demo/wxprov.db.sim.db",
            "target/demo/wxprov.db.sim.db.lock",
            "target/demo/wxprov.db.sim.json",
        ]
    );

    // The next runs, as README's table says, take row 2 from named to released.
    let rehearsal_ledger = dir.join("target/demo/wxprov.db.sim.db");
    let run = |code: i32| {
        demo.test().args(&args).status(code).run();
        let results = std::fs::read_to_string(reports.join("latest/results.csv")).unwrap();
        (results.lines().nth(1).unwrap_or_default().replace(&registered, "REGISTERED"), results)
    };
    // Audits are asked about at most hourly: the hour passes in the ledger.
    let an_hour_later = || {
        let ledger = rusqlite::Connection::open(&rehearsal_ledger).unwrap();
        ledger
            .execute("UPDATE steps SET not_before = not_before - 3600 WHERE kind = 'audit' AND state = 'in_review'", [])
            .unwrap();
    };
    let states = "2,REGISTERED,wx28f759479ea1e090,done";
    assert_eq!(
        run(4).0,
        format!("{states},in_review,done,done,done,,pending,pending,pending,pending,pending,nickname,,in WeChat's audit (audit {}),", audit_of(&results, 2))
    );
    let (third, _) = run(4);
    let audit_id = third.split("(audit ").nth(1).and_then(|r| r.split(')').next()).unwrap_or_default().to_string();
    assert_eq!(
        third,
        format!("{states},done,done,done,done,,done,done,done,in_review,pending,audit,,submitted; in WeChat's audit (audit {audit_id}),")
    );
    an_hour_later();
    assert_eq!(
        run(4).0,
        format!("{states},done,done,done,done,,done,done,done,in_review,pending,audit,,in WeChat's audit (audit {audit_id}),")
    );
    an_hour_later();
    let (fifth, results) = run(0);
    assert_eq!(fifth, format!("{states},done,done,done,done,,done,done,done,done,done,,,,"), "{results}");
    let summary: Value = serde_json::from_slice(&std::fs::read(reports.join("latest/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["calls"]["/wxa/release"], 1, "{summary:#}");
}

/// The name audit's id in line `line`'s message of `results`.
fn audit_of(results: &str, line: usize) -> String {
    let row = results.lines().nth(line - 1).unwrap_or_default();
    row.split("(audit ").nth(1).and_then(|r| r.split(')').next()).unwrap_or_default().to_string()
}

/// Every file and symlink below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            found.extend(walk(&entry.path()));
        } else {
            found.push(entry.path());
        }
    }
    found
}

/// README's job-file blocks (its `[golive]` section) are ones wxprov takes.
#[test]
fn readmes_job_file_blocks_parse_as_job_files() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme.split("```toml\n").skip(1).filter_map(|b| b.split("```").next()).collect();
    assert!(!blocks.is_empty(), "README shows the [golive] section");
    for block in blocks {
        let text =
            if block.contains("manifest =") { block.to_string() } else { format!("manifest = \"x.csv\"\n{block}") };
        if let Err(e) = toml::from_str::<wxprov::config::JobFile>(&text) {
            panic!("README: a job file wxprov refuses: {e}\n{block}");
        }
    }
}
