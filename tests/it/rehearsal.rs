//! Rehearsals stay rehearsals (DESIGN §1): `--api-base sim` uses the simulator's own
//! credentials, ledger, state and report folder, whatever `WXPROV_*` variables the shell
//! holds, never opens the real ledger, never runs the token command, and says "rehearsal" in
//! every line it prints and in its summary.json.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Sim, Test};

/// A copy of the repository's demo job (`jobs/demo.toml` with its manifest and images) in a
/// fresh folder, laid out as in the repository, so its paths resolve the same way.
pub struct DemoCopy {
    pub dir: tempfile::TempDir,
}

impl DemoCopy {
    pub fn new() -> DemoCopy {
        let dir = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let copy = |from: &str| {
            let to = dir.path().join(from);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(repo.join(from), &to).unwrap();
        };
        copy("jobs/demo.toml");
        copy("examples/manifests/demo.csv");
        for folder in ["examples/images", "examples/golive"] {
            for entry in std::fs::read_dir(repo.join(folder)).unwrap() {
                copy(&format!("{folder}/{}", entry.unwrap().file_name().to_string_lossy()));
            }
        }
        DemoCopy { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    /// The demo job's own ledger (`ledger = "../target/demo/wxprov.db"`).
    pub fn ledger(&self) -> PathBuf {
        self.path().join("target/demo/wxprov.db")
    }

    pub fn reports(&self) -> PathBuf {
        self.path().join("target/demo/reports")
    }

    /// A command run from the copy's root, as README's commands are.
    pub fn test(&self) -> Test {
        Test::new().current_dir(&self.path())
    }
}

/// The demo's first rehearsal, as `cargo run -- run jobs/demo.toml --api-base sim` prints it:
/// 35 calls to do the work and 11 `quota/get`s, one for each API path it calls (their stated
/// rate limits pace the run). The registration row's go-live waits for its name's audit; the
/// waiting registration row's go-live waits for the registration.
pub(crate) fn first_rehearsal_stdout(run_id: &str, reports: &Path) -> String {
    format!(
        "[rehearsal] step            pending      done   skipped in_review   waiting  deferred   blocked    failed\n\
         [rehearsal] register              0         1         0         0         1         0         0         0\n\
         [rehearsal] nickname              0         0         0         2         0         0         0         0\n\
         [rehearsal] avatar                0         2         0         0         0         0         0         0\n\
         [rehearsal] signature             0         2         1         0         0         0         0         0\n\
         [rehearsal] categories            0         1         1         1         0         0         0         0\n\
         [rehearsal] rebind_admin          0         1         0         0         0         0         0         0\n\
         [rehearsal] domains               1         0         0         0         1         0         0         0\n\
         [rehearsal] code                  1         0         0         0         1         0         0         0\n\
         [rehearsal] privacy               1         0         0         0         1         0         0         0\n\
         [rehearsal] audit                 1         0         0         0         1         0         0         0\n\
         [rehearsal] release               1         0         0         0         1         0         0         0\n\
         [rehearsal] run {run_id}: 4 rows, 46 API calls; reports in {}/rehearsal/{run_id}\n",
        reports.display()
    )
}

fn latest(reports: &Path) -> String {
    std::fs::read_link(reports.join("latest")).unwrap().to_string_lossy().into_owned()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

/// Every file in `dir` (not below it), by name; SQLite's `-wal` and `-shm` files, which come
/// and go with a ledger, left out.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    names.sort();
    names
}

/// A ledger's bytes: its file and its write-ahead log.
fn ledger_bytes(ledger: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(ledger).unwrap();
    let mut wal = ledger.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

#[test]
fn readme_demo_rehearses_on_a_copy_of_the_demo_job() {
    let demo = DemoCopy::new();
    let ran = demo.test().args(["run", "jobs/demo.toml", "--api-base", "sim"]).status(4).run();
    let rehearsal = demo.reports().join("rehearsal");
    let run_id = latest(&rehearsal);
    assert_eq!(ran.stdout, first_rehearsal_stdout(&run_id, &demo.reports()));
    assert!(!ran.stderr.is_empty());
    for line in ran.stderr.lines() {
        assert!(line.starts_with("[rehearsal] "), "a log line that does not say rehearsal: {line:?}");
    }
    let summary = summary(&rehearsal.join(&run_id));
    assert_eq!(summary["rehearsal"], true);
    assert_eq!(summary["run_id"], run_id.as_str());
    // Row 2's go-live waits for its name's audit: a later run continues (DESIGN §6, exit 4).
    assert_eq!(summary["exit_code"], 4);
    // Only the rehearsal's own files: no real ledger, no real `latest`.
    assert_eq!(
        names(&demo.path().join("target/demo")),
        ["reports", "wxprov.db.sim.db", "wxprov.db.sim.db.lock", "wxprov.db.sim.json"]
    );
    assert_eq!(names(&demo.reports()), ["rehearsal"]);

    // Again: it continues in the same simulated world (the row waiting for a scan still waits).
    let again = demo.test().args(["run", "jobs/demo.toml", "--api-base", "sim"]).status(4).run();
    assert!(again.stdout.starts_with("[rehearsal] step "), "{}", again.stdout);
    assert_ne!(latest(&rehearsal), run_id);
    assert_eq!(names(&demo.reports()), ["rehearsal"]);

    // Its failed.toml, fed back as it is, rehearses again on the same rehearsal files.
    let failed_toml = rehearsal.join(latest(&rehearsal)).join("failed.toml");
    let fed = demo.test().arg("run").arg(failed_toml.to_str().unwrap()).run();
    for line in fed.stdout.lines().chain(fed.stderr.lines()) {
        assert!(line.starts_with("[rehearsal] "), "a line that does not say rehearsal: {line:?}");
    }
    assert!(fed.stdout.contains(&format!("reports in {}/", rehearsal.display())), "{}", fed.stdout);
    assert_eq!(
        names(&demo.path().join("target/demo")),
        ["reports", "wxprov.db.sim.db", "wxprov.db.sim.db.lock", "wxprov.db.sim.json"]
    );
}

#[test]
fn a_rehearsal_with_every_real_secret_set_uses_none_and_leaves_the_real_ledger_alone() {
    let sim = Sim::start();
    let demo = DemoCopy::new();
    // A real run first (against `wxprov sim` standing in for WeChat), so there is a real
    // ledger with tokens and steps, and a real `reports/latest`.
    let real = |t: Test| {
        t.env("WXPROV_API_BASE", &sim.url)
            .env("WXPROV_COMPONENT_APPID", &sim.component_appid)
            .env("WXPROV_COMPONENT_SECRET", &sim.component_secret)
            .env("WXPROV_COMPONENT_VERIFY_TICKET", &sim.verify_ticket)
    };
    real(demo.test()).args(["tokens", "recover", "--ledger", "target/demo/wxprov.db"]).run();
    real(demo.test()).args(["run", "jobs/demo.toml"]).status_any().run();
    let real_bytes = ledger_bytes(&demo.ledger());
    let real_latest = latest(&demo.reports());
    let real_files = names(&demo.path().join("target/demo"));
    let calls_before = sim.calls().len();

    // Every secret and helper a real set-up has, pointing at real-looking values.
    let ran_file = demo.path().join("token-command-ran");
    let command = demo.path().join("token-command.sh");
    std::fs::write(
        &command,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\necho '{{\"access_token\": \"real-token\", \"expires_in\": 7200}}'\n",
            ran_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&command, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let secret_file = demo.path().join("secret.txt");
    std::fs::write(&secret_file, "real-component-secret-from-file\n").unwrap();
    let ran = demo
        .test()
        .env("WXPROV_API_BASE", &sim.url)
        .env("WXPROV_LEDGER", demo.ledger())
        .env("WXPROV_COMPONENT_APPID", "wx9876543210fedcba")
        .env("WXPROV_COMPONENT_SECRET", "real-component-secret-0123456789")
        .env("WXPROV_COMPONENT_SECRET_FILE", &secret_file)
        .env("WXPROV_COMPONENT_VERIFY_TICKET", "ticket@@@real-verify-ticket")
        .env("WXPROV_TOKEN", "real-message-token")
        .env("WXPROV_ENCODING_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
        .env("WXPROV_TOKEN_COMMAND", &command)
        .args(["run", "jobs/demo.toml", "--api-base", "sim"])
        .status(4)
        .run();

    assert!(!ran_file.exists(), "the token command was run: {}", std::fs::read_to_string(&ran_file).unwrap());
    assert_eq!(ledger_bytes(&demo.ledger()), real_bytes, "the real ledger changed");
    assert_eq!(latest(&demo.reports()), real_latest, "the real reports/latest moved");
    assert_eq!(sim.calls().len(), calls_before, "the rehearsal called the real API base");
    let mut expected_files = real_files.clone();
    expected_files.extend([
        "wxprov.db.sim.db".to_string(),
        "wxprov.db.sim.db.lock".into(),
        "wxprov.db.sim.json".into(),
    ]);
    expected_files.sort();
    assert_eq!(names(&demo.path().join("target/demo")), expected_files);

    let rehearsal = demo.reports().join("rehearsal");
    assert_eq!(ran.stdout, first_rehearsal_stdout(&latest(&rehearsal), &demo.reports()));
    for line in ran.stderr.lines() {
        assert!(line.starts_with("[rehearsal] "), "a log line that does not say rehearsal: {line:?}");
    }
    assert_eq!(summary(&rehearsal.join("latest"))["rehearsal"], true);
    assert_eq!(summary(&demo.reports().join("latest"))["rehearsal"], false);

    // JSON log lines say it too; and a job file's `api_base = "sim"` is a rehearsal as well.
    let job = std::fs::read_to_string(demo.path().join("jobs/demo.toml")).unwrap();
    std::fs::write(demo.path().join("jobs/sim.toml"), format!("api_base = \"sim\"\n{job}")).unwrap();
    let planned = demo
        .test()
        .env("WXPROV_COMPONENT_SECRET", "real-component-secret-0123456789")
        .env("WXPROV_TOKEN_COMMAND", &command)
        .args(["plan", "jobs/sim.toml", "--log-format", "json"])
        .run();
    assert!(!planned.stderr.is_empty());
    for line in planned.stderr.lines() {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(value["rehearsal"], true, "{line}");
    }
    for line in planned.stdout.lines() {
        assert!(line.starts_with("[rehearsal] "), "{line:?}");
    }
    assert!(!ran_file.exists(), "the token command was run by plan");
    assert_eq!(ledger_bytes(&demo.ledger()), real_bytes, "the real ledger changed");
}

/// `plan --api-base sim` before the job's first rehearsal (README's demo, planned first): the
/// simulator starts from its fixture without a folder to keep its world in, and nothing is
/// created — before, it failed writing `target/demo/wxprov.db.sim.json`.
#[test]
fn a_rehearsal_plan_before_any_run_answers_from_the_fixture_and_creates_nothing() {
    let demo = DemoCopy::new();
    let planned = demo.test().args(["plan", "jobs/demo.toml", "--api-base", "sim"]).run();
    assert_eq!(
        planned.stdout,
        "[rehearsal]  line  row                  step          action  detail\n\
         [rehearsal]     2  wx28f759479ea1e090   register      set     register a mini-program with wx28f759479ea1e090's qualification\n\
         [rehearsal]     2  wx28f759479ea1e090   nickname      wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   avatar        wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   signature     wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   categories    wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   domains       wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   code          wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   privacy       wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   audit         wait    after the registration\n\
         [rehearsal]     2  wx28f759479ea1e090   release       wait    after the registration\n\
         [rehearsal]     3  wx3a1b2c3d4e5f6071   register      wait    waiting for the official account's admin to scan the link from `wxprov links`\n\
         [rehearsal]     3  wx3a1b2c3d4e5f6071   domains       wait    after the registration\n\
         [rehearsal]     3  wx3a1b2c3d4e5f6071   code          wait    after the registration\n\
         [rehearsal]     3  wx3a1b2c3d4e5f6071   privacy       wait    after the registration\n\
         [rehearsal]     3  wx3a1b2c3d4e5f6071   audit         wait    after the registration\n\
         [rehearsal]     3  wx3a1b2c3d4e5f6071   release       wait    after the registration\n\
         [rehearsal]     4  wxe5f52902cf4de896   nickname      set     set the name to \"杭州示例工具\"\n\
         [rehearsal]     4  wxe5f52902cf4de896   avatar        set     set the avatar (0 of 5 changes used this month)\n\
         [rehearsal]     4  wxe5f52902cf4de896   signature     set     set the signature (0 of 5 changes used this month)\n\
         [rehearsal]     4  wxe5f52902cf4de896   categories    set     add 8/39 287/288 (5 of 5 changes left this month)\n\
         [rehearsal]     5  wxdc685123d9554530   signature     skip    the signature is already as asked\n\
         [rehearsal]     5  wxdc685123d9554530   categories    skip    the categories are already as asked\n\
         [rehearsal]     5  wxdc685123d9554530   rebind_admin  set     rebind the admin with the captured taskid\n\
         [rehearsal] \n\
         [rehearsal] set 6, skip 2, wait 15\n\
         [rehearsal] \n\
         [rehearsal] go-live: 2 rows\n\
         [rehearsal]   audit quota: 2 audit submissions needed, queryquota shows 20 of 20 left this month\n\
         [rehearsal]   ICP filing (get_icp_entrance_info; release needs 6, 已备案):\n\
         [rehearsal]    line  row                  status meaning\n\
         [rehearsal]       2  wx28f759479ea1e090   -      not registered yet: read once the registration is done\n\
         [rehearsal]       3  wx3a1b2c3d4e5f6071   -      not registered yet: read once the registration is done\n"
    );
    assert!(
        planned.stderr.lines().any(|l| l.ends_with(
            "INFO the built-in simulator starts from its fixture and keeps no state (jobs/../target/demo does not exist)"
        )),
        "{}",
        planned.stderr
    );
    assert!(!demo.path().join("target").exists(), "plan created {}", demo.path().join("target").display());
}
