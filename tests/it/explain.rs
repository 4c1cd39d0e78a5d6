//! `wxprov explain`: the catalogue, from the command line.

use crate::harness::Test;

#[test]
fn explains_a_known_code() {
    Test::new()
        .args(["explain", "61055"])
        .stdout_has("超出公众号每月可快速创建限额")
        .stdout_has("human")
        .stdout_has("hint")
        .run();
}

#[test]
fn explains_a_defer_code_with_its_retry_time() {
    Test::new().args(["explain", "53200"]).stdout_has("defer").stdout_has("first of next month").run();
}

#[test]
fn explains_minus_one_as_retry() {
    Test::new().args(["explain", "-1"]).stdout_has("系统繁忙").stdout_has("retry").run();
}

#[test]
fn an_unknown_code_is_said_to_be_unknown_with_its_class() {
    Test::new().args(["explain", "12345"]).stdout_has("unknown").stdout_has("human").run();
}

#[test]
fn a_word_is_a_usage_error() {
    Test::new().args(["explain", "abc"]).status(2).stderr_has("not an errcode").run();
}
