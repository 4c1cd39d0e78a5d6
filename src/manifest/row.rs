//! A validated manifest row: typed, with its files checked and hashed, ready for the runner.

use std::path::PathBuf;

use wechat_open::image::ImageKind;

use super::step::Step;
use crate::golive::GoLive;

/// An image a row refers to, read and checked at validation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// As written in the cell.
    pub written: String,
    /// Resolved against the manifest's folder.
    pub path: PathBuf,
    /// SHA-256 of the file itself: what the step's input is recorded with.
    pub sha256: String,
    /// The file's own format (a BMP is converted to PNG when uploaded).
    pub kind: ImageKind,
    /// Bytes uploaded: the file's size, or its PNG's for a BMP.
    pub size: u64,
}

/// The `nickname` step's inputs: the name and the materials that back it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicknameChange {
    pub nickname: String,
    pub license: Option<ImageFile>,
    pub id_card: Option<ImageFile>,
    /// At most five.
    pub materials: Vec<ImageFile>,
}

/// The crop box `x1,y1,x2,y2`, each in \[0,1\], x1 < x2, y1 < y2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crop {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

impl Default for Crop {
    fn default() -> Crop {
        Crop { x1: 0.0, y1: 0.0, x2: 1.0, y2: 1.0 }
    }
}

impl Crop {
    /// `x1,y1,x2,y2` with each number in its shortest form (`1.0` → `1`), for hashing.
    pub fn normalized(&self) -> String {
        // `+ 0.0` turns -0 into 0.
        let f = |v: f64| format!("{}", v + 0.0);
        format!("{},{},{},{}", f(self.x1), f(self.y1), f(self.x2), f(self.y2))
    }
}

/// The `avatar` step's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct AvatarChange {
    pub image: ImageFile,
    pub crop: Crop,
}

/// A certificate for a category: the tree's name for it (or the written one when no tree
/// was given) and its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFile {
    pub name: String,
    pub image: ImageFile,
}

/// A category to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryAdd {
    pub first: i64,
    pub second: i64,
    pub certificates: Vec<CertificateFile>,
}

/// The `categories` step's inputs, sorted by id pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryChange {
    pub add: Vec<CategoryAdd>,
    pub remove: Vec<(i64, i64)>,
    /// Categories given by name (`first/second`, `-` before a removal) that could not be
    /// resolved because the category tree was unreadable when the sheet was validated: the
    /// step waits for the tree (sorted).
    pub unresolved: Vec<String>,
}

/// The `rebind_admin` step's inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebindChange {
    /// The taskid pasted by hand; `None` when the row waits for `serve` to capture it.
    pub taskid: Option<String>,
}

/// One valid manifest row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based file line.
    pub line: u64,
    /// `appid`, or `official_appid` while the mini-program does not exist; lower case.
    pub identity: String,
    /// Lower case; `None` on a registration row.
    pub appid: Option<String>,
    /// Lower case.
    pub official_appid: Option<String>,
    /// Registration rows: reuse the official account's verification (default true).
    pub copy_wx_verify: bool,
    pub ticket: Option<String>,
    pub nickname: Option<NicknameChange>,
    pub avatar: Option<AvatarChange>,
    pub signature: Option<String>,
    pub categories: Option<CategoryChange>,
    pub rebind: Option<RebindChange>,
    /// The row's go-live (DESIGN §9), when it goes live.
    pub golive: Option<Box<GoLive>>,
    /// In run order.
    pub steps: Vec<Step>,
    /// The row's cells as the file has them (for `failed.csv`).
    pub cells: Vec<String>,
}

impl Row {
    /// True for a registration row (no appid yet).
    pub fn is_registration(&self) -> bool {
        self.appid.is_none()
    }
}
