//! The manifest module against real files: the ten-row fixture in five forms, and a suite of
//! malformed manifests and rows. Each bad case asserts the line, the column and a key part of
//! the reason, and that the good rows around it still validate.

use std::path::{Path, PathBuf};

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

fn img(name: &str) -> String {
    fixture("images").join(name).display().to_string()
}

fn tree() -> CategoryTree {
    let json = std::fs::read_to_string(fixture("categories.json")).expect("categories.json");
    CategoryTree::from_json(&json).expect("categories.json parses")
}

/// Writes `bytes` as `name` in a fresh temporary folder.
fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write manifest");
    (dir, path)
}

const HEADER: [&str; 11] = [
    "appid",
    "official_appid",
    "copy_wx_verify",
    "nickname",
    "license",
    "naming_materials",
    "signature",
    "avatar",
    "avatar_crop",
    "categories",
    "rebind_taskid",
];

/// One CSV line with the given cells set (by English column name), quoted as needed.
fn line(cells: &[(&str, &str)]) -> String {
    let mut out = Vec::new();
    {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(&mut out);
        let record: Vec<&str> =
            HEADER.iter().map(|h| cells.iter().find(|(k, _)| k == h).map(|(_, v)| *v).unwrap_or("")).collect();
        w.write_record(&record).expect("csv");
    }
    String::from_utf8(out).expect("utf-8")
}

fn good(n: u8) -> String {
    line(&[("appid", &format!("wx00000000000000{n:02x}")), ("signature", "一个很好的简介")])
}

/// A file of: header (line 1), good row (2), `bad` (3), good row (4).
fn sandwich(bad: &str) -> String {
    format!("{}\n{}{}{}", HEADER.join(","), good(1), bad, good(2))
}

fn load_text(text: &[u8], forced: Option<Encoding>) -> Loaded {
    let (_dir, path) = write("m.csv", text);
    load(&path, &ReadOptions::encoding(forced), Some(&tree()), None).expect("manifest loads")
}

/// Asserts line 3 is rejected with a problem in `column` whose reason contains `needle`, and
/// that lines 2 and 4 are valid.
fn assert_bad_row(bad: &str, column: &str, needle: &str) -> Loaded {
    let loaded = load_text(sandwich(bad).as_bytes(), None);
    assert_rejected(&loaded, 3, column, needle);
    let valid: Vec<u64> = loaded.rows.iter().map(|r| r.line).collect();
    assert_eq!(valid, [2, 4], "good rows still validate; problems: {:?}", loaded.rejected);
    loaded
}

fn assert_rejected(loaded: &Loaded, line: u64, column: &str, needle: &str) {
    let found = loaded
        .problems()
        .any(|p| p.line == line && p.column == column && (p.en.contains(needle) || p.zh.contains(needle)));
    assert!(found, "expected line {line}, column {column:?}, reason with {needle:?}; got {:#?}", loaded.rejected);
}

// ---------------------------------------------------------------- the five forms

#[test]
fn five_forms_give_identical_rows_and_hashes() {
    let t = tree();
    let forms = [
        ("onboarding.csv", Some(Encoding::Utf8)),
        ("onboarding-bom.csv", Some(Encoding::Utf8)),
        ("onboarding-gbk.csv", Some(Encoding::Gb18030)),
        ("onboarding-utf16.txt", Some(Encoding::Utf16Le)),
        ("onboarding.xlsx", None),
    ];
    let mut all = Vec::new();
    for (name, encoding) in forms {
        let loaded = load(&fixture(&format!("manifests/{name}")), &ReadOptions::default(), Some(&t), None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.encoding, encoding, "{name}");
        assert!(loaded.rejected.is_empty(), "{name}: {:#?}", loaded.rejected);
        assert!(loaded.skipped.is_empty(), "{name}: {:?}", loaded.skipped);
        assert_eq!(loaded.rows.len(), 10, "{name}");
        // What the runner needs, without the cells as written.
        let comparable: Vec<Row> = loaded.rows.into_iter().map(|r| Row { cells: Vec::new(), ..r }).collect();
        all.push((name, comparable));
    }
    for (name, rows) in &all[1..] {
        assert_eq!(rows, &all[0].1, "{name} differs from onboarding.csv");
    }

    let rows = &all[0].1;
    let kinds = |i: usize| rows[i].steps.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>();
    assert_eq!(kinds(0), ["register", "nickname", "avatar", "signature", "categories"]);
    assert_eq!(kinds(1), ["register"]);
    assert_eq!(kinds(2), ["nickname", "avatar", "signature", "categories"]);
    assert_eq!(kinds(3), ["signature"]);
    assert_eq!(kinds(4), ["nickname", "categories"]);
    assert_eq!(kinds(7), ["rebind_admin"]);
    assert_eq!(kinds(8), ["avatar", "rebind_admin"]);
    assert!(kinds(9).is_empty(), "an identity-only row asks nothing");

    assert_eq!(rows[0].identity, "wx00000000000000a1");
    assert!(rows[0].is_registration());
    assert_eq!(rows[1].official_appid.as_deref(), Some("wx00000000000000a2"));
    assert!(!rows[1].copy_wx_verify);
    assert_eq!(rows[4].appid.as_deref(), Some("wx1234567890abcde1"));
    let cats = rows[0].categories.as_ref().expect("categories");
    assert_eq!((cats.add[0].first, cats.add[0].second), (8, 39));
    assert_eq!(cats.add[0].certificates[0].name, "《因私出入境中介机构经营许可证》");
    let news = rows[5].categories.as_ref().expect("categories");
    assert_eq!((news.add[0].first, news.add[0].second), (868, 874));
    assert_eq!(news.add[0].certificates[0].name, "有资质证件：《互联网新闻信息服务许可证》");
    let mixed = rows[6].categories.as_ref().expect("categories");
    assert_eq!(mixed.remove, [(287, 612)]);
    assert_eq!((mixed.add[0].first, mixed.add[0].second), (8, 40));
    assert_eq!(rows[2].avatar.as_ref().map(|a| a.crop.normalized()), Some("0,0,0.5,0.5".into()));
    assert_eq!(rows[4].nickname.as_ref().map(|n| n.materials.len()), Some(2));
    assert_eq!(rows[7].rebind, Some(RebindChange { taskid: None }));
    assert_eq!(rows[8].rebind, Some(RebindChange { taskid: Some("task-0001".into()) }));
}

#[test]
fn hashes_ignore_paths_and_lines_but_follow_content() {
    let a = format!("appid,avatar,signature\nwx00000000000000c1,{},简介简介\n", img("tiny.png"));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture("images/tiny.png"), dir.path().join("copy.png")).expect("copy");
    let b = "appid,avatar,signature\n\nwx00000000000000c1,copy.png,简介简介\n";
    let path_b = dir.path().join("b.csv");
    std::fs::write(&path_b, b).expect("write");
    let la = load_text(a.as_bytes(), None);
    let lb = load(&path_b, &ReadOptions::default(), None, None).expect("loads");
    assert_eq!(la.rows[0].line, 2);
    assert_eq!(lb.rows[0].line, 3);
    assert_eq!(la.rows[0].steps, lb.rows[0].steps);

    let c = a.replace("简介简介", "简介简介。");
    let lc = load_text(c.as_bytes(), None);
    assert_eq!(la.rows[0].steps[0], lc.rows[0].steps[0], "avatar unchanged");
    assert_ne!(la.rows[0].steps[1], lc.rows[0].steps[1], "signature changed");
}

#[test]
fn detects_gbk_and_reports_it() {
    let m = open(&fixture("manifests/onboarding-gbk.csv"), &ReadOptions::default()).expect("opens");
    assert_eq!(m.encoding(), Some(Encoding::Gb18030));
    assert_eq!(m.rows().expect("rows").count(), 10);
}

#[test]
fn max_rows_limits_the_rows_read() {
    let loaded =
        load(&fixture("manifests/onboarding.csv"), &ReadOptions::default(), Some(&tree()), Some(3)).expect("loads");
    assert_eq!(loaded.rows.len(), 3);
}

#[test]
fn unknown_columns_stop_unless_ignored() {
    let text = "appid,remark,signature\nwx00000000000000d1,x,简介简介\nwx00000000000000d2,y,简介简介\n";
    let (_dir, path) = write("m.csv", text.as_bytes());
    let err = open(&path, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ManifestError::Header { at, source: columns::HeaderError::Unknown(_), .. } if at == "line 1"),
        "{err}"
    );
    let options = ReadOptions { ignore_columns: vec!["Remark".into()], ..ReadOptions::default() };
    let loaded = load(&path, &options, None, None).expect("loads");
    assert_eq!(loaded.skipped, ["column 2 (B) \"remark\""]);
    assert_eq!(loaded.rows.len(), 2);
    assert_eq!(loaded.rows[0].cells, ["wx00000000000000d1", "x", "简介简介"], "the cells as written");
}

#[test]
fn title_rows_above_a_csv_header_are_skipped_and_lines_stay_the_files() {
    let text = format!(
        "2026年11月 小程序开通清单,,\n填表人：张三,,\n\n{}\n{}{}",
        HEADER.join(","),
        good(1),
        line(&[("appid", "wx123")])
    );
    let (_dir, path) = write("m.csv", text.as_bytes());
    let m = open(&path, &ReadOptions::default()).expect("opens");
    assert_eq!(m.header_line(), 4);
    assert_eq!(
        m.describe()[1],
        "skipped the rows above the header (a title or notes): line 1 \"2026年11月 小程序开通清单\", line 2 \"填表人：张三\""
    );
    let loaded = m.load(None, None).expect("loads");
    assert_eq!(loaded.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [5]);
    assert_rejected(&loaded, 6, "appid", "not an appid");
}

#[test]
fn a_csv_without_a_header_row_says_what_the_first_row_lacks() {
    let (_dir, path) = write("m.csv", "标题\nnickname,signature\n测试名称,简介简介\n".as_bytes());
    let err = open(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(&err, ManifestError::Header { at, .. } if at == "line 1"), "{err}");
    assert!(err.to_string().contains("no identity column"), "{err}");
}

// ---------------------------------------------------------------- whole-file problems

#[test]
fn data_under_a_blank_header_cell_is_a_usage_error() {
    let (_dir, path) = write(
        "m.csv",
        "appid,,signature\nwx00000000000000d1,,简介简介\nwx00000000000000d2,老客户,简介简介\n".as_bytes(),
    );
    let m = open(&path, &ReadOptions::default()).expect("the header alone is fine");
    let err = m.load(None, None).unwrap_err();
    assert!(
        matches!(&err, ManifestError::UnnamedColumn { line: 3, column, text, .. } if column == "2 (B)" && text == "老客户"),
        "{err}"
    );
}

#[test]
fn empty_file_is_a_usage_error() {
    let (_dir, path) = write("m.csv", b"");
    let err = open(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, ManifestError::Empty { .. }));
    assert!(err.to_string().contains("m.csv"), "{err}");
}

#[test]
fn header_only_has_no_rows() {
    let loaded = load_text(HEADER.join(",").as_bytes(), None);
    assert!(loaded.rows.is_empty() && loaded.rejected.is_empty());
}

#[test]
fn header_without_identity_names_accepted_columns() {
    let (_dir, path) = write("m.csv", "nickname,signature\n测试名称,简介简介\n".as_bytes());
    let err = open(&path, &ReadOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ManifestError::Header { .. }));
    for name in ["m.csv", "`appid`", "`小程序appid`", "`official_appid`", "`公众号appid`"] {
        assert!(text.contains(name), "{name} missing from: {text}");
    }
}

#[test]
fn a_column_named_twice_is_a_usage_error() {
    let (_dir, path) = write("m.csv", "appid,简介,signature\n".as_bytes());
    let err = open(&path, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
}

#[test]
fn unsupported_extension() {
    let (_dir, path) = write("m.xls", b"appid\n");
    let err = open(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, ManifestError::UnsupportedExtension { .. }));
    assert!(err.to_string().contains("m.xls"), "{err}");
}

#[test]
fn binary_garbage_is_a_usage_error_not_a_panic() {
    let garbage: Vec<u8> = (0u32..4096).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let (_dir, path) = write("m.csv", &garbage);
    assert!(open(&path, &ReadOptions::default()).is_err());
}

/// Bytes a manifest is made of (appid digits, separators, quotes, line ends, the first bytes of
/// 小 in UTF-8, BOM halves, NUL), so that the fuzzed files look like sheets often enough to
/// reach the row reader and the validator, not only the encoding sniffer.
const MANIFEST_BYTES: &[u8] = b"wx0123456789abcdef,;\"\n\r\t/[]=-. \xE5\xB0\x8F\xFF\xFE\x00";

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    /// Random bytes, a third of the time after a real header, read in every encoding: never a
    /// panic, whatever they hold.
    #[test]
    fn random_bytes_never_panic(
        header in proptest::bool::weighted(1.0 / 3.0),
        body in proptest::collection::vec(
            proptest::prop_oneof![3 => proptest::sample::select(MANIFEST_BYTES), 1 => proptest::prelude::any::<u8>()],
            0..400,
        ),
    ) {
        let mut bytes = if header {
            b"appid,official_appid,nickname,avatar_crop,categories,naming_materials\n".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend(body);
        let (_dir, path) = write("m.csv", &bytes);
        for forced in [None, Some(Encoding::Utf8), Some(Encoding::Utf16Le)] {
            let _ = load(&path, &ReadOptions::encoding(forced), Some(&tree()), None);
        }
    }
}

// ---------------------------------------------------------------- rows the reader rejects

#[test]
fn ragged_row_with_fewer_fields() {
    let loaded = assert_bad_row("wx00000000000000e1,,\n", "", "fields");
    assert!(loaded.rejected[0].problems[0].en.contains("header has 11"));
}

#[test]
fn ragged_row_with_more_fields() {
    assert_bad_row(&format!("{},extra\n", good(9).trim_end()), "", "fields");
}

#[test]
fn truncated_quote_swallows_the_rest_and_is_reported() {
    let text = format!("{}\n{}wx00000000000000e2,\"unterminated\n", HEADER.join(","), good(1));
    let loaded = load_text(text.as_bytes(), None);
    assert_rejected(&loaded, 3, "official_appid", "a quote opened on line 3 is never closed; close the quote");
    assert_eq!(loaded.rows.len(), 1);
}

#[test]
fn an_unterminated_quote_names_the_lines_it_swallowed() {
    let text = format!(
        "{}\n{}{}{}{}",
        HEADER.join(","),
        good(1),
        "wx00000000000000e2,,,\"测试名称,,,,,,,\n",
        good(2),
        good(3)
    );
    let loaded = load_text(text.as_bytes(), None);
    assert_rejected(&loaded, 3, "nickname", "a quote opened on line 3 is never closed, so lines 4–5 were read");
    assert_eq!(loaded.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2]);
    assert_eq!(loaded.rejected.len(), 1);
}

#[test]
fn invalid_utf8_in_a_file_forced_utf8() {
    let mut text = format!("{}\n{}", HEADER.join(","), good(1)).into_bytes();
    text.extend_from_slice(b"wx00000000000000e3,,,\xB2\xE2\xCA\xD4\xC3\xFB\xB3\xC6,,,,,,,\n");
    text.extend_from_slice(good(2).as_bytes());
    let loaded = load_text(&text, Some(Encoding::Utf8));
    assert_rejected(&loaded, 3, "nickname", "UTF-8");
    assert_eq!(loaded.rows.len(), 2);
    // Detected instead of forced, the same bytes are GBK and the row is fine.
    assert_eq!(load_text(&text, None).rows.len(), 3);
}

// ---------------------------------------------------------------- rows validation rejects

#[test]
fn error_values_in_a_csv_are_errors_with_their_column() {
    for value in ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"] {
        let loaded =
            assert_bad_row(&line(&[("appid", "wx00000000000000e0"), ("signature", value)]), "signature", value);
        assert_eq!(loaded.rejected[0].problems.len(), 1, "{:?}", loaded.rejected);
    }
    // An appid that is an error value is that, not also a registration row without official_appid.
    let loaded = assert_bad_row(&line(&[("appid", "#REF!"), ("signature", "一个很好的简介")]), "appid", "#REF!");
    assert_eq!(loaded.rejected[0].problems.len(), 1, "{:?}", loaded.rejected);
    assert_eq!(loaded.rejected[0].cells[0], "#REF!", "the cells as written, for failed.csv");
}

#[test]
fn identifiers_in_scientific_notation_say_to_format_the_column_as_text() {
    let bad = line(&[("appid", "wx00000000000000e0"), ("rebind_taskid", "1.23E+31")]);
    let loaded = assert_bad_row(&bad, "rebind_taskid", "format the rebind_taskid column as Text");
    assert_eq!(loaded.rejected[0].problems.len(), 1);
    assert_bad_row(&line(&[("appid", "1.23457E+17"), ("signature", "一个很好的简介")]), "appid", "scientific notation");
}

#[test]
fn bad_appid() {
    assert_bad_row(&line(&[("appid", "wx123")]), "appid", "not an appid");
}

#[test]
fn bad_official_appid() {
    assert_bad_row(&line(&[("official_appid", "gh_1234567890ab")]), "official_appid", "not an appid");
}

#[test]
fn duplicate_identities_reject_both_rows() {
    let text = format!(
        "{}\n{}{}{}{}",
        HEADER.join(","),
        good(1),
        line(&[("appid", "wx00000000000000f1"), ("signature", "第一次的简介")]),
        good(2),
        line(&[("appid", "WX00000000000000F1"), ("signature", "第二次的简介")]),
    );
    let loaded = load_text(text.as_bytes(), None);
    assert_rejected(&loaded, 3, "appid", "also on line 5");
    assert_rejected(&loaded, 5, "appid", "also on line 3");
    assert_eq!(loaded.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
}

#[test]
fn duplicate_registration_rows_reject_both() {
    let text = format!(
        "{}\n{}{}",
        HEADER.join(","),
        line(&[("official_appid", "wx00000000000000a9")]),
        line(&[("official_appid", "wx00000000000000a9"), ("nickname", "另一个名称")]),
    );
    let loaded = load_text(text.as_bytes(), None);
    assert_rejected(&loaded, 2, "official_appid", "also on line 3");
    assert_rejected(&loaded, 3, "official_appid", "also on line 2");
}

#[test]
fn nickname_with_xiaochengxu() {
    assert_bad_row(&line(&[("appid", "wx00000000000000e4"), ("nickname", "好用的小程序")]), "nickname", "小程序");
}

#[test]
fn nickname_too_long() {
    let long = "很长的名称".repeat(4); // 20 CJK = 40 units
    assert_bad_row(&line(&[("appid", "wx00000000000000e5"), ("nickname", &long)]), "nickname", "40 units");
}

#[test]
fn nickname_too_short() {
    assert_bad_row(&line(&[("appid", "wx00000000000000e5"), ("nickname", "abc")]), "nickname", "3 units");
}

#[test]
fn signature_of_three_characters() {
    assert_bad_row(&line(&[("appid", "wx00000000000000e6"), ("signature", "三个字")]), "signature", "3 characters");
}

#[test]
fn avatar_that_is_a_renamed_text_file() {
    assert_bad_row(&line(&[("appid", "wx00000000000000e7"), ("avatar", &img("fake.png"))]), "avatar", "not a BMP");
}

#[test]
fn avatar_of_three_megabytes() {
    assert_bad_row(&line(&[("appid", "wx00000000000000e8"), ("avatar", &img("big.png"))]), "avatar", "2 MB");
}

#[test]
fn missing_image_file() {
    assert_bad_row(
        &line(&[("appid", "wx00000000000000e9"), ("license", "nope/licence.jpg")]),
        "license",
        "does not exist",
    );
}

#[test]
fn crop_out_of_range() {
    let bad = line(&[("appid", "wx00000000000000ea"), ("avatar", &img("tiny.png")), ("avatar_crop", "0,0,1.5,1")]);
    assert_bad_row(&bad, "avatar_crop", "between 0 and 1");
}

#[test]
fn crop_inverted() {
    let bad = line(&[("appid", "wx00000000000000eb"), ("avatar", &img("tiny.png")), ("avatar_crop", "1,0,0.5,1")]);
    assert_bad_row(&bad, "avatar_crop", "x1 must be less than x2");
}

#[test]
fn crop_with_three_numbers() {
    let bad = line(&[("appid", "wx00000000000000ec"), ("avatar", &img("tiny.png")), ("avatar_crop", "0,0,1")]);
    assert_bad_row(&bad, "avatar_crop", "3 numbers");
}

#[test]
fn crop_without_avatar() {
    let bad = line(&[("appid", "wx00000000000000ed"), ("avatar_crop", "0,0,1,1")]);
    assert_bad_row(&bad, "avatar_crop", "no avatar");
}

#[test]
fn six_naming_materials() {
    let six = vec![img("tiny.png"); 6].join(";");
    let bad = line(&[("appid", "wx00000000000000ee"), ("nickname", "测试名称"), ("naming_materials", &six)]);
    assert_bad_row(&bad, "naming_materials", "at most 5");
}

#[test]
fn copy_wx_verify_two() {
    let bad = line(&[("official_appid", "wx00000000000000ef"), ("copy_wx_verify", "2")]);
    assert_bad_row(&bad, "copy_wx_verify", "not 0 or 1");
}

#[test]
fn registration_row_without_official_appid() {
    assert_bad_row(&line(&[("nickname", "测试名称")]), "official_appid", "registration row");
}

#[test]
fn unknown_category_name_with_suggestion() {
    let bad = line(&[("appid", "wx0000000000000101"), ("categories", "工具/计算")]);
    assert_bad_row(&bad, "categories", "did you mean \"工具/计算器\"");
}

#[test]
fn category_in_the_wrong_parent_is_suggested() {
    let bad = line(&[("appid", "wx0000000000000102"), ("categories", "工具/家政")]);
    assert_bad_row(&bad, "categories", "生活服务/家政");
}

#[test]
fn sensitive_category_without_certificate() {
    let bad = line(&[("appid", "wx0000000000000103"), ("categories", "8/39")]);
    assert_bad_row(&bad, "categories", "《因私出入境中介机构经营许可证》");
}

#[test]
fn sensitive_category_lists_alternatives() {
    let bad = line(&[("appid", "wx0000000000000104"), ("categories", "868/874")]);
    let loaded = assert_bad_row(&bad, "categories", "sensitive");
    let en = &loaded.rejected[0].problems[0].en;
    assert!(en.contains("互联网新闻信息服务许可证") && en.contains("组织机构代码证"), "{en}");
}

#[test]
fn certificate_the_category_does_not_ask_for() {
    let cell = format!("8/39[营业执照={}]", img("visa.jpg"));
    let bad = line(&[("appid", "wx0000000000000105"), ("categories", &cell)]);
    assert_bad_row(&bad, "categories", "not a certificate");
}

#[test]
fn category_with_unclosed_bracket() {
    let bad = line(&[("appid", "wx0000000000000106"), ("categories", "8/39[《因私出入境中介机构经营许可证》=a.jpg")]);
    assert_bad_row(&bad, "categories", "never closed");
}

#[test]
fn category_id_pair_not_in_tree() {
    let bad = line(&[("appid", "wx0000000000000107"), ("categories", "8/612")]);
    assert_bad_row(&bad, "categories", "not under 8");
}

#[test]
fn category_names_need_the_tree() {
    let text = sandwich(&line(&[("appid", "wx0000000000000108"), ("categories", "工具/办公")]));
    let (_dir, path) = write("m.csv", text.as_bytes());
    let loaded = load(&path, &ReadOptions::default(), None, None).expect("loads");
    assert_rejected(&loaded, 3, "categories", "need the category tree");
    // Id pairs pass as written without a tree.
    let text = sandwich(&line(&[("appid", "wx0000000000000108"), ("categories", "999/998")]));
    let (_dir, path) = write("m.csv", text.as_bytes());
    assert_eq!(load(&path, &ReadOptions::default(), None, None).expect("loads").rows.len(), 3);
}

#[test]
fn category_names_wait_for_an_unreadable_tree() {
    let cell = "-工具/计算器;工具/办公[资质=missing.jpg];8/40;-工具/办公";
    let text = format!("{}\n{}", HEADER.join(","), line(&[("appid", "wx0000000000000108"), ("categories", cell)]));
    let (_dir, path) = write("m.csv", text.as_bytes());
    let manifest = open(&path, &ReadOptions::default()).expect("opens");
    // Certificate files are still checked, and a name given twice is still refused.
    let loaded = manifest.load_with(Tree::Unreadable, None).expect("loads");
    assert_rejected(&loaded, 2, "categories", "missing.jpg");
    assert_rejected(&loaded, 2, "categories", "\"工具/办公\" is given twice");
    let text = text.replace("[资质=missing.jpg]", "").replace(";-工具/办公", "");
    let (_dir, path) = write("m.csv", text.as_bytes());
    let manifest = open(&path, &ReadOptions::default()).expect("opens");
    let loaded = manifest.load_with(Tree::Unreadable, None).expect("loads");
    assert!(loaded.rejected.is_empty(), "{:#?}", loaded.rejected);
    let change = loaded.rows[0].categories.clone().expect("categories");
    assert_eq!(change.unresolved, ["-工具/计算器", "工具/办公"]);
    assert_eq!(change.add.iter().map(|a| (a.first, a.second)).collect::<Vec<_>>(), [(8, 40)]);
    // Once the tree is read the names resolve, and the step's hash is another.
    let resolved = manifest.load(Some(&tree()), None).expect("loads");
    assert!(resolved.rejected.is_empty(), "{:#?}", resolved.rejected);
    assert!(resolved.rows[0].categories.as_ref().is_some_and(|c| c.unresolved.is_empty()));
    assert_ne!(resolved.rows[0].steps, loaded.rows[0].steps);
}

#[test]
fn all_of_a_rows_problems_are_reported() {
    let bad =
        line(&[("appid", "wx0000000000000109"), ("nickname", "小程序"), ("signature", "短"), ("copy_wx_verify", "x")]);
    let loaded = assert_bad_row(&bad, "nickname", "小程序");
    let columns: Vec<&str> = loaded.rejected[0].problems.iter().map(|p| p.column.as_str()).collect();
    assert!(columns.contains(&"signature") && columns.contains(&"copy_wx_verify"), "{columns:?}");
}

// ---------------------------------------------------------------- xlsx

fn write_xlsx(rows: &[Vec<XCell>]) -> (tempfile::TempDir, PathBuf) {
    write_book(&[("Sheet1", 0, rows)])
}

/// A workbook of sheets: (name, the row its first row goes to, rows).
fn write_book(sheets: &[(&str, u32, &[Vec<XCell>])]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, first, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).expect("sheet name");
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (first + r as u32, c as u16);
                match cell {
                    XCell::E => Ok(()),
                    XCell::S(s) => sheet.write_string(r, c, *s).map(|_| ()),
                    XCell::N(n) => sheet.write_number(r, c, *n).map(|_| ()),
                    XCell::F(formula, result) => sheet
                        .write_formula(r, c, rust_xlsxwriter::Formula::new(*formula).set_result(*result))
                        .map(|_| ()),
                }
                .expect("write cell");
            }
        }
    }
    book.save(&path).expect("save xlsx");
    (dir, path)
}

enum XCell {
    /// Nothing written.
    E,
    S(&'static str),
    N(f64),
    /// A formula and the result Excel cached for it.
    F(&'static str, &'static str),
}

#[test]
fn xlsx_formula_that_failed_is_an_error_not_a_signature() {
    use XCell::{F, S};
    let (_dir, path) = write_xlsx(&[
        vec![S("appid"), S("signature")],
        vec![S("wx0000000000000203"), F("=VLOOKUP(A2,Sheet2!A:B,2,FALSE)", "#N/A")],
        vec![S("wx0000000000000204"), F("=\"一个\"&\"很好的简介\"", "一个很好的简介")],
    ]);
    let loaded = load(&path, &ReadOptions::default(), None, None).expect("loads");
    assert_rejected(&loaded, 2, "signature", "spreadsheet error #N/A");
    assert_eq!(loaded.rejected[0].problems.len(), 1, "{:?}", loaded.rejected);
    assert_eq!(
        loaded.rows.iter().map(|r| (r.line, r.signature.clone())).collect::<Vec<_>>(),
        [(3, Some("一个很好的简介".into()))]
    );
}

#[test]
fn xlsx_appid_stored_as_a_number_is_an_error() {
    use XCell::{N, S};
    let (_dir, path) = write_xlsx(&[
        vec![S("appid"), S("signature"), S("categories")],
        vec![S("wx0000000000000201"), S("简介简介"), N(8.0)],
        vec![N(1.23e10), S("简介简介"), S("")],
        vec![S("wx0000000000000202"), S("简介简介"), S("287/612")],
    ]);
    let loaded = load(&path, &ReadOptions::default(), Some(&tree()), None).expect("loads");
    assert_rejected(&loaded, 3, "appid", "stored as a number");
    assert_rejected(&loaded, 2, "categories", "\"8\" is not first/second");
    assert_eq!(loaded.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [4]);
    assert_eq!(loaded.encoding, None);
}

#[test]
fn xlsx_the_first_sheet_with_a_header_row_below_its_title() {
    use XCell::{E, S};
    let notes: &[Vec<XCell>] = &[vec![S("填表说明")], vec![S("appid 填小程序的 AppID")]];
    let sheet: &[Vec<XCell>] = &[
        vec![E, S("2026年11月 小程序开通清单")],
        vec![],
        vec![E, S("小程序appid"), S("简介"), S("备注")],
        vec![E, S("wx0000000000000301"), S("简介简介"), S("x")],
        vec![E, S("wx301"), S("简介简介")],
    ];
    let (_dir, path) = write_book(&[("空白", 0, &[]), ("说明", 0, notes), ("小程序", 1, sheet)]);
    let options = ReadOptions { ignore_columns: vec!["备注".into()], ..ReadOptions::default() };
    let m = open(&path, &options).expect("opens");
    assert_eq!((m.sheet(), m.header_line()), (Some("小程序"), 4));
    let described = m.describe();
    let file = path.display();
    assert_eq!(
        described,
        [
            format!("passing over sheet \"空白\" of {file} (empty)"),
            format!("passing over sheet \"说明\" of {file} (no header row)"),
            format!("reading sheet \"小程序\" of {file}, header on line 4"),
            "skipped the rows above the header (a title or notes): line 2 \"2026年11月 小程序开通清单\"".to_string(),
            "not reading column 4 (D) \"备注\" (ignore_columns, or wxprov's own error column)".to_string(),
        ]
    );
    let loaded = m.load(None, None).expect("loads");
    assert_eq!(loaded.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [5]);
    assert_rejected(&loaded, 6, "appid", "not an appid");

    // --sheet picks a sheet; a sheet that is not there names the ones that are.
    let options = ReadOptions { sheet: Some("说明".into()), ..ReadOptions::default() };
    let err = open(&path, &options).unwrap_err();
    assert!(matches!(&err, ManifestError::Header { at, .. } if at == "sheet \"说明\", line 1"), "{err}");
    let options = ReadOptions { sheet: Some("Sheet9".into()), ..ReadOptions::default() };
    let err = open(&path, &options).unwrap_err();
    assert!(
        err.to_string().contains("there is no sheet \"Sheet9\"; the workbook has \"空白\", \"说明\", \"小程序\""),
        "{err}"
    );
}

#[test]
fn xlsx_without_any_header_row_names_the_sheets() {
    use XCell::S;
    let notes: &[Vec<XCell>] = &[vec![S("填表说明")]];
    let (_dir, path) = write_book(&[("说明", 0, notes), ("空白", 0, &[])]);
    let err = open(&path, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no sheet has a header row"), "{err}");
    assert!(err.to_string().contains("\"说明\" (no header row), \"空白\" (empty)"), "{err}");
}
