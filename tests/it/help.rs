//! Each subcommand's `--help` lists the options it takes and no others (DESIGN §1), while
//! command lines written when every option was global (`wxprov --ledger PATH tokens list`)
//! keep working.

use crate::harness::{Test, Workspace};

/// The long options a help text lists, in order (`--help` included).
fn options(help: &str) -> Vec<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split([' ', ',', '=']).find(|w| w.starts_with("--")))
        .map(|w| w.trim_end_matches("...").to_string())
        .collect()
}

fn help(args: &[&str]) -> String {
    Test::new().args(args).arg("--help").run().stdout
}

#[test]
fn explain_has_no_ledger_option_and_run_has_every_one_it_uses() {
    assert_eq!(options(&help(&["explain"])), ["--help"]);
    assert_eq!(
        options(&help(&["run"])),
        [
            "--encoding",
            "--sheet",
            "--ignore-column",
            "--max-rows",
            "--retry-failed",
            "--ledger",
            "--api-base",
            "--report-dir",
            "--concurrency",
            "--verbose",
            "--quiet",
            "--log-format",
            "--help"
        ]
    );
    // `plan` writes no report: --report-dir is taken (a run's command line works) but not listed.
    assert_eq!(
        options(&help(&["plan"])),
        [
            "--format",
            "--encoding",
            "--sheet",
            "--ignore-column",
            "--max-rows",
            "--retry-failed",
            "--ledger",
            "--api-base",
            "--concurrency",
            "--verbose",
            "--quiet",
            "--log-format",
            "--help"
        ]
    );
    assert_eq!(
        options(&help(&["status"])),
        ["--limit", "--ledger", "--api-base", "--verbose", "--quiet", "--log-format", "--help"]
    );
    assert_eq!(
        options(&help(&["tokens", "import"])),
        ["--ledger", "--api-base", "--verbose", "--quiet", "--log-format", "--help"]
    );
    assert!(!options(&help(&["sim"])).contains(&"--ledger".to_string()));
}

#[test]
fn the_whole_help_of_explain() {
    assert_eq!(
        help(&["explain"]),
        "Explain a WeChat errcode: its Chinese text, an English gloss, how wxprov treats it (retry, token,\n\
         defer, stop, blocked, human, or for go-live review and done) and what to do about it\n\
         \n\
         Usage: wxprov explain <ERRCODE>\n\
         \n\
         Arguments:\n  \
           <ERRCODE>  The errcode, e.g. 61055 or -1\n\
         \n\
         Options:\n  \
           -h, --help  Print help\n"
    );
}

#[test]
fn options_before_the_command_still_work() {
    let ws = Workspace::new();
    // Before the command, as feedback.rs and older scripts write it; the command's own wins.
    let ran = Test::new().current_dir(ws.path()).args(["--ledger", "before.db", "tokens", "list"]).status(1).run();
    assert_eq!(
        ran.stderr,
        "error: the ledger before.db does not exist (check --ledger, WXPROV_LEDGER or the job file's `ledger`)\n"
    );
    let ran = Test::new()
        .current_dir(ws.path())
        .args(["--ledger", "before.db", "tokens", "list", "--ledger", "after.db"])
        .status(1)
        .run();
    assert!(ran.stderr.starts_with("error: the ledger after.db does not exist"), "{}", ran.stderr);
    // An option a command does not take is a usage error there.
    Test::new().args(["explain", "61004", "--ledger", "x.db"]).status(2).run();
}
