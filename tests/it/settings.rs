//! The resolved configuration through the binary: a bad value from a flag, an environment
//! variable or the job file is a usage error (exit 2) that names where it came from, before
//! any ledger or call; and a value from a higher level replaces a bad one below it.

use crate::harness::{Sim, Workspace};
use crate::run::CONFIGURED;

/// A job for one configured row, with `extra` lines in the job file.
fn job(ws: &Workspace, extra: &str) -> String {
    ws.write("manifest.csv", format!("appid,signature\n{CONFIGURED},提供好用的在线工具。\n"));
    ws.write("job.toml", format!("manifest = \"manifest.csv\"\nreport_dir = \"reports\"\n{extra}"));
    "job.toml".into()
}

/// `wxprov ARGS` with `env` exits 2 with exactly `error` on stderr and creates no ledger.
fn refused(ws: &Workspace, args: &[&str], env: &[(&str, &str)], error: &str) {
    let mut test = ws.test().args(args).status(2);
    for (key, value) in env {
        test = test.env(key, value);
    }
    let ran = test.run();
    assert_eq!(ran.stderr, format!("error: {error}\n"), "wxprov {}", args.join(" "));
    assert_eq!(ran.stdout, "");
    assert!(!ws.ledger().exists(), "a refused command creates no ledger");
}

#[test]
fn a_bad_concurrency_names_its_flag_variable_or_job_key() {
    let ws = Workspace::new();
    let plain = job(&ws, "");
    refused(&ws, &["run", &plain, "--concurrency", "0"], &[], "concurrency 0 from --concurrency: must be at least 1");
    refused(
        &ws,
        &["plan", &plain],
        &[("WXPROV_CONCURRENCY", "0")],
        "concurrency 0 from WXPROV_CONCURRENCY: must be at least 1",
    );
    let zero = job(&ws, "concurrency = 0\n");
    refused(&ws, &["run", &zero], &[], "concurrency 0 from the job file's `concurrency`: must be at least 1");
}

#[test]
fn a_bad_api_base_names_its_flag_variable_or_job_key() {
    let ws = Workspace::new();
    let plain = job(&ws, "");
    refused(
        &ws,
        &["run", &plain, "--api-base", "ftp://api.example.cn"],
        &[],
        "API base \"ftp://api.example.cn\" from --api-base: must start with http:// or https:// (or be `sim`)",
    );
    refused(
        &ws,
        &["status"],
        &[("WXPROV_API_BASE", "api.weixin.qq.com")],
        "API base \"api.weixin.qq.com\" from WXPROV_API_BASE: is not a URL (relative URL without a base); give \
         one like https://api.weixin.qq.com, or `sim`",
    );
    let query = job(&ws, "api_base = \"https://api.weixin.qq.com/?x=1\"\n");
    refused(
        &ws,
        &["plan", &query],
        &[],
        "API base \"https://api.weixin.qq.com/?x=1\" from the job file's `api_base`: must not have a query or a \
         fragment",
    );
}

#[test]
fn a_bad_max_attempts_names_its_job_key() {
    let ws = Workspace::new();
    let zero = job(&ws, "[retry]\nmax_attempts = 0\n");
    refused(&ws, &["run", &zero], &[], "max_attempts 0 from the job file's `retry.max_attempts`: must be at least 1");
}

#[test]
fn a_bad_component_appid_names_its_variable_without_its_value() {
    let ws = Workspace::new();
    let plain = job(&ws, "");
    // The documents' own example, a digit short.
    refused(
        &ws,
        &["run", &plain],
        &[("WXPROV_COMPONENT_APPID", "wx28f759479ea1e09")],
        "WXPROV_COMPONENT_APPID is not an appid (wx followed by 16 hex digits)",
    );
}

#[test]
fn a_higher_level_replaces_a_bad_value_below_it() {
    let sim = Sim::start();
    let ws = Workspace::new();
    // The job file's concurrency 0 never counts: the environment's 1 wins over it, and the
    // flag's 2 over a bad environment variable.
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let zero = job(&ws, "concurrency = 0\n");
    ws.test_on(&sim).args(["plan", &zero]).env("WXPROV_CONCURRENCY", "1").run();
    ws.test_on(&sim).args(["plan", &zero, "--concurrency", "2"]).env("WXPROV_CONCURRENCY", "0").run();
    // A bad `api_base` in the job file gives way to WXPROV_API_BASE (test_on sets it).
    let bad_base = job(&ws, "api_base = \"ftp://api.example.cn\"\n");
    let before = sim.calls().len();
    ws.test_on(&sim)
        .args(["plan", &bad_base])
        .stdout_has("signature     set     set the signature (1 of 5 changes used this month)")
        .run();
    assert!(sim.calls().len() > before, "plan read live state from the simulator");
}
