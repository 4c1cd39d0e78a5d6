//! `wxprov links`: a fastregisterauth link per registration row and a componentrebindadmin
//! link per `scan` rebind row, with redirect_uri urlencoded and pointing at `serve`.

use crate::harness::Workspace;
use crate::run::read_csv;

#[test]
fn writes_a_link_per_registration_and_rebind_row() {
    let ws = Workspace::new();
    ws.write(
        "m.csv",
        "小程序appid,公众号appid,复用认证,简介,换绑taskid\n\
         ,wx28f759479ea1e090,0,,\n\
         wxdc685123d9554530,,,一个简单好用的计算器。,scan\n\
         wxe5f52902cf4de896,,,只改简介的一行。,\n\
         ,not-an-appid,,,\n",
    );
    ws.test()
        .env("WXPROV_COMPONENT_APPID", "wx666666666666123a")
        .args(["links", "m.csv", "--redirect-base", "https://ops.example.com/", "--qr-dir", "qr"])
        .stdout_has("2 links written")
        .run();
    let rows = read_csv(&ws.path().join("links.csv"));
    // The state is HMAC-SHA256 of the account under the ledger's link key, made on first use.
    let key = ws.query("SELECT hex(key) FROM link_key");
    let key = hex::decode(&key[0][0]).unwrap();
    assert_eq!(key.len(), 32);
    let state = |account: &str| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(account.as_bytes());
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, mac.finalize().into_bytes())
    };
    assert_eq!(rows[0], ["line", "kind", "account", "link"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][..3], ["2", "fastregister", "wx28f759479ea1e090"]);
    assert_eq!(
        rows[1][3],
        format!(
            "https://mp.weixin.qq.com/cgi-bin/fastregisterauth?appid=wx28f759479ea1e090&component_appid=wx666666666666123a\
             &copy_wx_verify=0&redirect_uri=https%3A%2F%2Fops.example.com%2Fcallback%2Ffastregister%3Fofficial_appid%3Dwx28f759479ea1e090\
             %26state%3D{}",
            state("wx28f759479ea1e090")
        )
    );
    assert_eq!(rows[2][..3], ["3", "rebind", "wxdc685123d9554530"]);
    assert!(rows[2][3].starts_with("https://mp.weixin.qq.com/wxopen/componentrebindadmin?appid=wxdc685123d9554530&"));
    assert!(rows[2][3].ends_with(&format!(
        "redirect_uri=https%3A%2F%2Fops.example.com%2Fcallback%2Frebind%3Fappid%3Dwxdc685123d9554530%26state%3D{}",
        state("wxdc685123d9554530")
    )));
    let svg = std::fs::read_to_string(ws.path().join("qr/fastregister-wx28f759479ea1e090.svg")).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
}

#[test]
fn links_need_the_platform_appid_and_a_url() {
    let ws = Workspace::new();
    ws.write("m.csv", "official_appid\nwx28f759479ea1e090\n");
    ws.test()
        .args(["links", "m.csv", "--redirect-base", "https://ops.example.com"])
        .status(1)
        .stderr_has("WXPROV_COMPONENT_APPID")
        .run();
    ws.test()
        .env("WXPROV_COMPONENT_APPID", "wx666666666666123a")
        .args(["links", "m.csv", "--redirect-base", "ops.example.com"])
        .status(2)
        .stderr_has("not a URL")
        .run();
}

#[test]
fn registered_rows_get_no_link_and_are_counted() {
    let sim = crate::harness::Sim::start();
    let ws = Workspace::new();
    // Row 2 registers (its admin's scan already happened: the ticket is pasted); row 3 waits.
    ws.write(
        "m.csv",
        "appid,official_appid,ticket\n\
         ,wx28f759479ea1e090,demo0scanned0ticket0000000000001\n\
         ,wx3a1b2c3d4e5f6071,\n",
    );
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", "m.csv"]).run();
    let ran = ws.test_on(&sim).args(["links", "m.csv", "--redirect-base", "https://ops.example.com"]).run();
    assert_eq!(ran.stdout, "1 links written to links.csv; 1 registration rows skipped, already registered\n");
    let rows = read_csv(&ws.path().join("links.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][..3], ["3", "fastregister", "wx3a1b2c3d4e5f6071"]);
}
