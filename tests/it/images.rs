//! Images the sheet points at, as WeChat's temporary media take them (#10 item 2): a BMP is
//! converted to PNG before upload, the 2 MB limit applies to the PNG, and the media cache keys
//! on the bytes uploaded. The simulator refuses BMP (40005) and decodes what it receives, so
//! these tests check that a PNG of the BMP's width and height arrived.

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::{Sim, Workspace};
use crate::run::{job, read_csv, result_for, FRESH};

const UPLOAD: &str = "/cgi-bin/media/upload";

/// A `width`×`height` BMP with a gradient, so its pixels are not all alike.
fn bmp(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 7) as u8, (y * 11) as u8, 128]));
    encode(img)
}

fn encode(img: image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Bmp).unwrap();
    out.into_inner()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `media` field of each upload the simulator received, in order.
fn uploads(sim: &Sim) -> Vec<Value> {
    sim.calls_to(UPLOAD).into_iter().map(|c| c["body"]["fields"]["media"].clone()).collect()
}

/// What arrived for a BMP of `width`×`height`: a decodable PNG, named and typed as one.
fn assert_png_of(upload: &Value, file_name: &str, width: u32, height: u32) {
    assert_eq!(upload["filename"], file_name, "{upload}");
    assert_eq!(upload["content_type"], "image/png", "{upload}");
    assert_eq!(upload["decoded"], json!({"format": "png", "width": width, "height": height, "error": null}));
}

#[test]
fn a_bmp_avatar_is_set_through_a_png_upload() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(&ws, &format!("appid,avatar,avatar_crop\n{FRESH},images/logo.bmp,\"0,0,1,1\"\n"));
    let source = bmp(37, 23);
    ws.write("images/logo.bmp", &source);
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(0).run();

    let sent = uploads(&sim);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_png_of(&sent[0], "logo.png", 37, 23);
    let png_sha = sent[0]["sha256"].as_str().unwrap().to_string();
    assert_ne!(png_sha, sha256(&source), "the BMP itself was not sent");
    assert_eq!(result_for(&ws, FRESH)["avatar"], "done");
    // The avatar WeChat shows is the uploaded PNG (the simulator names it by its SHA-256).
    let state = sim.get("/__sim/state");
    let url = state["mini_programs"][FRESH]["head_image_url"].as_str().unwrap();
    assert_eq!(url, format!("http://mmbiz.qpic.cn/sim/{}/0", &png_sha[..32]));
    // The media cache is keyed on what was uploaded, for this appid.
    let cached = ws.query("SELECT sha256, appid FROM media");
    assert_eq!(cached, [vec![png_sha, FRESH.to_string()]]);
}

#[test]
fn a_second_run_reuses_the_uploaded_png() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let csv = |crop: &str| format!("appid,avatar,avatar_crop\n{FRESH},images/logo.bmp,\"{crop}\"\n");
    let job = job(&ws, &csv("0,0,1,1"));
    ws.write("images/logo.bmp", bmp(40, 40));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(0).run();
    assert_eq!(uploads(&sim).len(), 1);

    // A new crop sets the avatar again; the BMP converts to the same PNG in this new process,
    // so the upload of the first run is reused: no second upload.
    ws.write("manifest.csv", csv("0,0,0.5,0.5"));
    ws.test_on(&sim).args(["run", &job]).status(0).run();
    assert_eq!(uploads(&sim).len(), 1, "the PNG was uploaded once");
    let crops: Vec<Value> =
        sim.calls_to("/cgi-bin/account/modifyheadimage").iter().map(|c| c["body"].clone()).collect();
    assert_eq!(crops.len(), 2, "{crops:?}");
    assert_eq!(crops[0]["head_img_media_id"], crops[1]["head_img_media_id"]);
    assert_eq!((crops[1]["x2"].as_f64(), crops[1]["y2"].as_f64()), (Some(0.5), Some(0.5)));
    assert_eq!(result_for(&ws, FRESH)["avatar"], "done");
}

#[test]
fn a_bmp_certificate_and_licence_are_uploaded_as_pngs() {
    let sim = Sim::start();
    let ws = Workspace::new();
    let job = job(
        &ws,
        &format!(
            "appid,nickname,license,categories\n\
             {FRESH},杭州示例工具,images/licence.bmp,\"教育/出国移民[因私出入境中介机构经营许可证=images/visa.bmp]\"\n"
        ),
    );
    ws.write("images/licence.bmp", bmp(30, 20));
    ws.write("images/visa.bmp", bmp(12, 34));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(0).run();

    let row = result_for(&ws, FRESH);
    assert_eq!((row["nickname"].as_str(), row["categories"].as_str()), ("in_review", "in_review"));
    // The simulator's media, by the file name they were uploaded with.
    let state = sim.get("/__sim/state");
    let media_of = |name: &str| {
        let media = state["media"].as_object().unwrap().values();
        media.filter(|m| m["filename"] == name).map(|m| m["media_id"].clone()).next().unwrap()
    };
    let sent = uploads(&sim);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let licence = sent.iter().find(|u| u["filename"] == "licence.png").unwrap();
    assert_png_of(licence, "licence.png", 30, 20);
    let visa = sent.iter().find(|u| u["filename"] == "visa.png").unwrap();
    assert_png_of(visa, "visa.png", 12, 34);

    // The name change carries the licence's media id, the category the certificate's.
    let set = sim.calls_to("/wxa/setnickname");
    assert_eq!(set[0]["body"]["license"], media_of("licence.png"));
    let add = sim.calls_to("/cgi-bin/wxopen/addcategory");
    assert_eq!(
        add[0]["body"]["categories"][0]["certicates"],
        json!([{"key": "《因私出入境中介机构经营许可证》", "value": media_of("visa.png")}])
    );
}

#[test]
fn the_two_megabyte_limit_is_on_the_png_uploaded() {
    let sim = Sim::start();
    let ws = Workspace::new();
    // 1024×1024 of one colour: a 3 MB BMP that makes a PNG of a few kilobytes. It is taken.
    let flat = encode(image::RgbImage::from_pixel(1024, 1024, image::Rgb([20, 160, 90])));
    assert!(flat.len() > 2 * 1024 * 1024);
    // The same size of noise does not compress: its PNG is over 2 MB, and the row is refused
    // before any call.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x9e37_79b9);
    let noise = image::RgbImage::from_fn(1024, 1024, |_, _| {
        let px: [u8; 3] = rng.gen();
        image::Rgb(px)
    });
    ws.write("images/flat.bmp", &flat);
    ws.write("images/noise.bmp", encode(noise));
    const OTHER: &str = "wxdc685123d9554530";
    let job = job(&ws, &format!("appid,avatar\n{FRESH},images/flat.bmp\n{OTHER},images/noise.bmp\n"));
    ws.test_on(&sim).args(["tokens", "recover"]).run();
    ws.test_on(&sim).args(["run", &job]).status(3).run();

    let sent = uploads(&sim);
    assert_eq!(sent.len(), 1, "only the flat BMP is uploaded: {sent:?}");
    assert_png_of(&sent[0], "flat.png", 1024, 1024);
    assert!(sent[0]["size"].as_u64().unwrap() < 2 * 1024 * 1024);
    assert_eq!(result_for(&ws, FRESH)["avatar"], "done");
    assert!(sim.calls().iter().all(|c| c["appid"] != OTHER), "no call for the refused row");

    let failed = read_csv(&ws.path().join("reports/latest/failed.csv"));
    assert_eq!(failed.len(), 2, "{failed:?}");
    let error = failed[1].last().unwrap();
    let (prefix, suffix) = (
        "line 3, column avatar: \"images/noise.bmp\" is a BMP, which WeChat does not take; as the PNG wxprov would \
         upload it is ",
        " bytes, over WeChat's limit of 2097152 bytes (2 MB): make the picture smaller, or save it as JPEG / \
         “images/noise.bmp”是 BMP 图片，微信不收 BMP；转换成 PNG 后大小为 ",
    );
    let size =
        error.strip_prefix(prefix).and_then(|rest| rest.split_once(suffix)).unwrap_or_else(|| panic!("{error}")).0;
    assert!(size.parse::<u64>().unwrap() > 2 * 1024 * 1024, "{error}");
    assert_eq!(
        error,
        &format!("{prefix}{size}{suffix}{size} 字节，超过 2M 的限制：请缩小图片或另存为 JPEG — Fix the cell the message names and feed the row again."),
        "the whole message"
    );
}
