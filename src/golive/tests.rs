//! Which rows go live and with what (DESIGN §9), through [`Resolver::resolve`].

use super::*;

struct Sheet {
    dir: tempfile::TempDir,
    columns: Columns,
}

const EXT: &str = r#"{"extAppid":"${appid}","ext":{"shop":"${column:门店编号}"}}"#;
const GUIDE: &str = "[owner_setting]\ncontact_email = \"p@example.cn\"\nnotice_method = \"公告\"\n\n[[setting_list]]\nprivacy_key = \"PhoneNumber\"\nprivacy_text = \"联系订单\"\n";

fn sheet(header: &[&str]) -> Sheet {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ext.json"), EXT).unwrap();
    std::fs::write(dir.path().join("privacy.toml"), GUIDE).unwrap();
    let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    let columns = Columns::from_header(&header, &["门店编号".to_string()]).unwrap();
    Sheet { dir, columns }
}

fn job(dir: &Path) -> GoLiveDefaults {
    GoLiveDefaults {
        template_id: Some(TemplateId(128)),
        user_version: Some("2.4.0".into()),
        user_desc: Some("门店版".into()),
        ext_json: Some(dir.join("ext.json")),
        ..GoLiveDefaults::default()
    }
}

impl Sheet {
    fn resolve(
        &self,
        defaults: GoLiveDefaults,
        cells: &[&str],
        registration: bool,
    ) -> Result<Option<GoLive>, Problems> {
        let cells: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
        Resolver::new(Arc::new(defaults)).resolve(&self.columns, &cells, self.dir.path(), registration)
    }

    fn problems(&self, defaults: GoLiveDefaults, cells: &[&str], registration: bool) -> Vec<(Column, String)> {
        self.resolve(defaults, cells, registration).unwrap_err().into_iter().map(|(c, (en, _))| (c, en)).collect()
    }
}

#[test]
fn a_job_default_applies_to_registration_rows_and_rows_that_ask() {
    let s = sheet(&["appid", "official_appid", "golive", "门店编号"]);
    let job = || job(s.dir.path());
    let registration = s.resolve(job(), &["", "wx1111111111111111", "", "S1"], true).unwrap().unwrap();
    assert_eq!(registration.code.template_id, TemplateId(128));
    assert_eq!(
        registration.code.ext_json.render("wx2222222222222222"),
        r#"{"ext":{"shop":"S1"},"extAppid":"wx2222222222222222"}"#
    );
    assert_eq!(registration.release, ReleaseMode::Manual, "release defaults to manual");
    let steps: Vec<StepKind> = registration.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        steps,
        [StepKind::Code, StepKind::Privacy, StepKind::Audit, StepKind::Release],
        "no domains named, no domains step"
    );

    // A mini-program that already exists, live on its merchant's own code: not touched.
    assert_eq!(s.resolve(job(), &["wx3333333333333333", "", "", "S1"], false).unwrap(), None);
    assert!(s.resolve(job(), &["wx3333333333333333", "", "1", "S1"], false).unwrap().is_some());
    assert_eq!(s.resolve(job(), &["", "wx1111111111111111", "0", "S1"], true).unwrap(), None, "0 opts out");
}

#[test]
fn a_row_template_goes_live_without_the_switch_and_cells_win_over_the_job() {
    let s = sheet(&["appid", "template_id", "user_version", "release", "server_domains", "门店编号"]);
    let g = s
        .resolve(job(s.dir.path()), &["wx3333333333333333", "77", "3.0.0", "自动", "request=https://a.cn", "S9"], false)
        .unwrap()
        .unwrap();
    assert_eq!(
        (g.code.template_id, g.code.user_version.as_str(), g.release),
        (TemplateId(77), "3.0.0", ReleaseMode::Auto)
    );
    assert_eq!(g.code.user_desc, "门店版", "an empty cell takes the job's value");
    assert_eq!(g.steps[0].kind, StepKind::Domains);
}

#[test]
fn go_live_cells_on_a_row_that_does_not_go_live_are_refused() {
    let s = sheet(&["appid", "user_version", "privacy", "golive"]);
    assert_eq!(
        s.problems(job(s.dir.path()), &["wx3333333333333333", "3.0.0", "privacy.toml", ""], false),
        [
            (Column::UserVersion, "the row does not go live, so its user_version would not be used: give a template_id in the row, or set golive to 1 with the job's [golive] template_id".to_string()),
            (Column::Privacy, "the row does not go live, so its privacy would not be used: give a template_id in the row, or set golive to 1 with the job's [golive] template_id".to_string()),
        ]
    );
    assert_eq!(
        s.problems(GoLiveDefaults::default(), &["wx3333333333333333", "", "", "1"], false),
        [(
            Column::Golive,
            "golive is 1 but there is no template_id: give it in the row or as [golive] template_id in the job file"
                .to_string()
        )]
    );
}

#[test]
fn missing_and_bad_values_name_their_column() {
    let s = sheet(&["appid", "template_id", "user_version", "ext_json", "audit_items", "门店编号"]);
    assert_eq!(
        s.problems(GoLiveDefaults::default(), &["wx3333333333333333", "12x", "", "", "/index", ""], false),
        [
            (
                Column::TemplateId,
                "template_id \"12x\" is not a template number (gettemplatelist's template_id)".to_string()
            ),
            (
                Column::UserVersion,
                "a row that goes live needs user_version: fill the cell or set [golive] user_version in the job file"
                    .to_string()
            ),
            (
                Column::UserDesc,
                "a row that goes live needs user_desc: fill the cell or set [golive] user_desc in the job file"
                    .to_string()
            ),
            (
                Column::ExtJson,
                "a row that goes live needs ext_json: fill the cell or set [golive] ext_json in the job file"
                    .to_string()
            ),
            (
                Column::AuditItems,
                "\"/index\": the page must be a path of the code such as pages/home/index (no leading /)".to_string()
            ),
        ]
    );
    assert_eq!(
        s.problems(job(s.dir.path()), &["wx3333333333333333", "5", "", "missing.json", "", "S1"], false),
        [(
            Column::ExtJson,
            "cannot read the ext_json file missing.json: No such file or directory (os error 2)".to_string()
        )]
    );
    assert_eq!(
        s.problems(job(s.dir.path()), &["wx3333333333333333", "5", "", "", "", ""], false),
        [(Column::ExtJson, "ext_json uses ${column:门店编号} but this row's 门店编号 is empty".to_string())]
    );
}

#[test]
fn hashes_follow_the_resolved_values_and_chain_through_the_stages() {
    let s = sheet(&["appid", "template_id", "user_version", "privacy", "门店编号"]);
    let hashes = |cells: &[&str]| -> Vec<String> {
        s.resolve(job(s.dir.path()), cells, false).unwrap().unwrap().steps.into_iter().map(|s| s.input_hash).collect()
    };
    let base = hashes(&["wx3333333333333333", "5", "", "", "S1"]);
    assert_eq!(
        base,
        hashes(&["wx3333333333333333", "5", "2.4.0", "", "S1"]),
        "a cell equal to the default hashes the same"
    );
    let guide = hashes(&["wx3333333333333333", "5", "", "privacy.toml", "S1"]);
    assert_eq!(guide[0], base[0], "the code is the same");
    assert!(guide[1..].iter().zip(&base[1..]).all(|(a, b)| a != b), "privacy, audit and release follow the guide");
    let other_shop = hashes(&["wx3333333333333333", "5", "", "", "S2"]);
    assert!(other_shop.iter().zip(&base).all(|(a, b)| a != b), "a new ext_json value changes every stage");
}

#[test]
fn the_job_section_is_checked_when_the_job_loads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ext.json"), "[]").unwrap();
    let load = |toml_text: &str| {
        toml::from_str::<GoLiveDefaults>(toml_text).map_err(|e| e.to_string()).and_then(|d| d.load(dir.path()))
    };
    assert_eq!(
        load("ext_json = \"ext.json\"").unwrap_err(),
        "[golive] ext_json: the ext_json file ".to_string()
            + &dir.path().join("ext.json").display().to_string()
            + ": must hold a JSON object ({ ... })"
    );
    assert_eq!(
        load("webview_domains = [\"http://a.cn\"]").unwrap_err(),
        "[golive] webview_domains: \"http://a.cn\" must start with https://"
    );
    assert_eq!(load("template_id = \"128\"").unwrap().template_id, Some(TemplateId(128)));
    assert!(load("template_id = 0").unwrap_err().contains("template_id \"0\" is not a template number"));
    assert!(load("release = \"later\"").unwrap_err().contains("unknown variant `later`"));
    assert!(load("templat_id = 1").unwrap_err().contains("unknown field `templat_id`"));
}
