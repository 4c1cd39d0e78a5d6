//! CSV text as ops staff's tools write it (DESIGN §3): GBK from Excel on Chinese Windows,
//! UTF-16 without a byte-order mark (and, when its byte order cannot be told, a message
//! that says to use `--encoding utf-16le`), and an unterminated quote, which says where it
//! opened and which lines it swallowed — those rows get no call.

use crate::harness::{Sim, Workspace};
use crate::run::{job, state_changing, CONFIGURED, FRESH, SPENT};
use crate::sheet_values::logged;

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn a_gbk_sheet_is_detected_and_its_chinese_sent_right() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, "");
    let text = format!("小程序appid,小程序简介\r\n{FRESH},提供好用的在线工具。\r\n");
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
    assert!(!lossy);
    ws.write("manifest.csv", gbk);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", &job]).run();
    assert!(logged(&ran, "INFO", "reading manifest.csv as GB18030, header on line 1"), "{}", ran.stderr);
    assert_eq!(state_changing(&sim.calls()), [format!("/cgi-bin/account/modifysignature {FRESH}")]);
    assert_eq!(sim.calls_to("/cgi-bin/account/modifysignature")[0]["body"]["signature"], "提供好用的在线工具。");
}

#[test]
fn a_utf16le_sheet_without_a_bom_is_detected() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, "");
    ws.write("manifest.csv", utf16le(&format!("小程序appid\t小程序简介\r\n{FRESH}\t提供好用的在线工具。\r\n")));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", &job]).run();
    assert!(logged(&ran, "INFO", "reading manifest.csv as UTF-16LE, header on line 1"), "{}", ran.stderr);
    assert_eq!(sim.calls_to("/cgi-bin/account/modifysignature")[0]["body"]["signature"], "提供好用的在线工具。");
}

#[test]
fn utf16_whose_byte_order_cannot_be_told_says_to_use_the_encoding_option() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, "");
    // Characters whose UTF-16 code units end in 00 (一 U+4E00, 刀 U+5200, 儀 U+5100) put NULs
    // on the other side too.
    let signature = "一刀儀一刀儀一刀儀一刀儀一刀儀一刀儀";
    ws.write("manifest.csv", utf16le(&format!("appid\tsignature\n{FRESH}\t{signature}\n")));
    let ran = ws.test_on(&sim).args(["run", &job]).status(2).run();
    assert_eq!(
        ran.stderr,
        "error: manifest manifest.csv looks like UTF-16 without a byte-order mark, but its byte order is unclear; \
         use --encoding utf-16le (what Excel's \"Unicode text\" is) or --encoding utf-16be / \
         清单文件像是没有 BOM 的 UTF-16 编码，无法判断字节序；请使用 --encoding utf-16le\n"
    );
    assert!(sim.calls().is_empty());
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job, "--encoding", "utf-16le"]).run();
    assert_eq!(sim.calls_to("/cgi-bin/account/modifysignature")[0]["body"]["signature"], signature);
}

#[test]
fn an_unterminated_quote_says_where_it_opened_and_which_lines_it_swallowed() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!(
            "appid,signature\n{FRESH},提供好用的在线工具。\n{CONFIGURED},\"一个简单好用的计算器。\n\
             {SPENT},新的功能介绍文字\nwx1a2b3c4d5e6f7080,另一条简介内容\n"
        ),
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    let ran = ws.test_on(&sim).args(["run", &job]).status(3).run();
    assert!(
        logged(
            &ran,
            "WARN",
            "line 3, column signature: a quote opened on line 3 is never closed, so lines 4–5 were read into this \
             cell and not as rows; close the quote or remove it / 第 3 行的引号没有闭合，第 4–5 行都被读进了这个单元格，\
             没有作为行读取；请补上或删去引号"
        ),
        "{}",
        ran.stderr
    );
    assert_eq!(state_changing(&sim.calls()), [format!("/cgi-bin/account/modifysignature {FRESH}")]);
    for swallowed in [CONFIGURED, SPENT, "wx1a2b3c4d5e6f7080"] {
        assert!(sim.calls().iter().all(|c| c["appid"] != swallowed), "no call for {swallowed}");
    }
}
