//! The category tree as the live platform answers it (`categories_list`) and as the settings
//! document shows it (`category_list`): category cells by name and by id resolve against
//! both, and a successful answer without a tree is an error naming the field that is never
//! cached (NOTES.md, "What the live platform answers").

use serde_json::{json, Value};

use crate::harness::{example_fixture, Sim, Workspace};
use crate::run::{job, result_for, FRESH};

/// A fixture whose `getallcategories` answers in `field`.
fn fixture_answering_in(field: &str) -> Value {
    let mut fixture = example_fixture();
    fixture["category_tree_field"] = json!(field);
    fixture
}

#[test]
fn categories_by_name_and_by_id_resolve_against_both_answer_shapes() {
    for field in ["categories_list", "category_list"] {
        let sim = Sim::with_fixture(fixture_answering_in(field), &[]);
        let ws = Workspace::new();
        let job = job(&ws, &format!("appid,categories\n{FRESH},工具/计算器;287/612\n"));
        ws.test_on(&sim).args(["tokens", "recover"]).run();
        // An empty tree an earlier version cached is not taken for the tree.
        ws.query("INSERT INTO cache (key, value, fetched_at) VALUES ('getallcategories', '[]', strftime('%s', 'now'))");
        assert_eq!(ws.query("SELECT value FROM cache WHERE key = 'getallcategories'"), [["[]"]]);

        // `wxprov categories` shows the tree from either field.
        let shown = ws.test_on(&sim).args(["categories", "--search", "计算器"]).run();
        assert_eq!(shown.stdout, "287      工具\n  287/288  工具/计算器\n", "{field}");

        ws.test_on(&sim).args(["run", &job]).run();
        assert_eq!(result_for(&ws, FRESH)["categories"], "done", "{field}");
        let adds = sim.calls_to("/cgi-bin/wxopen/addcategory");
        assert_eq!(adds.len(), 1, "{field}: {adds:#?}");
        assert_eq!(
            adds[0]["body"],
            json!({"categories": [
                {"first": 287, "second": 288, "certicates": []},
                {"first": 287, "second": 612, "certicates": []},
            ]}),
            "{field}: the name 工具/计算器 resolved to 287/288, the id pair passed as written"
        );
        // The tree was asked once: `categories` cached it and the run used the cache.
        assert_eq!(sim.calls_to("/cgi-bin/wxopen/getallcategories").len(), 1, "{field}");
    }
}

#[test]
fn an_answer_without_a_tree_is_an_error_naming_the_field_and_is_not_cached() {
    let mut fixture = example_fixture();
    fixture["categories"] = json!([]);
    let sim = Sim::with_fixture(fixture, &[]);
    let ws = Workspace::new();
    ws.test_on(&sim).args(["tokens", "recover"]).run();

    let expected = "error: /cgi-bin/wxopen/getallcategories: unexpected answer: errcode 0 but no category in \
                    categories_list.categories (or category_list.categories); the tree is not cached\n";
    for asked in 1..=2 {
        let ran = ws.test_on(&sim).args(["categories", "--appid", FRESH]).status(1).run();
        assert_eq!(ran.stdout, "");
        let last = ran.stderr.lines().last().unwrap_or_default();
        assert_eq!(format!("{last}\n"), expected, "{}", ran.stderr);
        // Nothing cached: the second command asks WeChat again.
        assert_eq!(sim.calls_to("/cgi-bin/wxopen/getallcategories").len(), asked);
        assert_eq!(ws.query("SELECT count(*) FROM cache WHERE key = 'getallcategories'"), [["0"]]);
    }

    // A run whose sheet has a categories column asks again too, and says why names cannot
    // be resolved.
    let job = job(&ws, &format!("appid,categories\n{FRESH},287/612\n"));
    // (The simulator, whose tree is empty, then refuses 287/612: exit 3.)
    let ran = ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert!(
        ran.stderr.contains(
            "could not read the category tree (/cgi-bin/wxopen/getallcategories: unexpected answer: errcode 0 but no \
             category in categories_list.categories (or category_list.categories); the tree is not cached); category \
             names cannot be resolved"
        ),
        "{}",
        ran.stderr
    );
    assert_eq!(sim.calls_to("/cgi-bin/wxopen/getallcategories").len(), 3);
    assert_eq!(ws.query("SELECT count(*) FROM cache WHERE key = 'getallcategories'"), [["0"]]);
    // Ids pass validation without the tree and are sent as written.
    let adds = sim.calls_to("/cgi-bin/wxopen/addcategory");
    assert_eq!(adds.len(), 1, "{adds:#?}");
    assert_eq!(adds[0]["body"], json!({"categories": [{"first": 287, "second": 612, "certicates": []}]}));
}
