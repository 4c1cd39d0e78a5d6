//! Checking one row against every rule we can check before calling WeChat (DESIGN §3).
//!
//! Each failed rule becomes a [`Problem`] with the row's line, the column and a reason in
//! English and Chinese; a row with any problem is rejected whole (it gets no API call) while
//! the others go on. All of a row's problems are reported at once, so ops staff fix a row in
//! one go. Duplicate identities need the whole file: a first pass hashes the identities
//! ([`IdentityHashes`], about 4 bytes a row), [`Duplicates`] compares the few whose hashes repeat
//! exactly, and the validating pass consults it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::golive::Resolver;
use crate::image::{Image, ImageError, MAX_BMP_BYTES};
use wechat_open::appid::{self, Appid};
use wechat_open::image::{ImageKind, MAX_IMAGE_BYTES};

use super::categories::{match_certificate, parse_cell, Tree};
use super::columns::{Column, Columns};
use super::error::{Problem, RowError};
use super::reader::RawRow;
use super::row::{
    AvatarChange, CategoryAdd, CategoryChange, CertificateFile, Crop, ImageFile, NicknameChange, RebindChange, Row,
};
use super::step::steps_for;

/// At most this many `naming_materials` (`naming_other_stuff_1..5`).
pub const MAX_MATERIALS: usize = 5;
/// Nickname length in units where CJK counts 2 (NOTES.md, assumed).
pub const NICKNAME_UNITS: std::ops::RangeInclusive<usize> = 4..=30;
/// Signature length in characters (NOTES.md).
pub const SIGNATURE_CHARS: std::ops::RangeInclusive<usize> = 4..=120;
/// `rebind_taskid` values that ask for a rebind whose taskid `serve` will capture.
pub const REBIND_BY_SCAN: [&str; 3] = ["scan", "扫码", "待扫码"];

/// A row that gets no API call: where, its cells, and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    /// The cells as the file has them (empty when the row could not be read).
    pub cells: Vec<String>,
    pub problems: Vec<Problem>,
}

/// What a row's identity is keyed on: (is an official account, the appid).
type IdentityKey = (bool, Appid);

/// The identity key of a raw row, when it has a well-formed one.
fn identity_key(columns: &Columns, cells: &[String]) -> Option<IdentityKey> {
    let appid = columns.cell(cells, Column::Appid);
    if !appid.is_empty() {
        return Appid::parse(&appid).ok().map(|a| (false, a));
    }
    Appid::parse(&columns.cell(cells, Column::OfficialAppid)).ok().map(|a| (true, a))
}

/// The first pass over a sheet: 40 bits of a hash of each row's identity, the top 8 choosing
/// one of 256 buckets and the other 32 kept in it (about 4 bytes a row: a million rows in 4 MB,
/// grown bucket by bucket, so never twice that while a vector is reallocated), each bucket
/// sorted at the end to find the hashes seen more than once. Only those rows' identities are
/// then compared exactly ([`Duplicates::note`], one more pass), so a collision never rejects a
/// row (a million distinct identities make 0.45 colliding pairs on average, so that pass
/// seldom runs on a sheet without duplicates).
#[derive(Debug)]
pub struct IdentityHashes {
    buckets: Vec<Vec<u32>>,
}

const BUCKETS: usize = 256;

impl Default for IdentityHashes {
    fn default() -> Self {
        IdentityHashes { buckets: vec![Vec::new(); BUCKETS] }
    }
}

/// The 40 bits of the identity's hash that [`IdentityHashes`] keeps.
fn hash_of(key: &IdentityKey) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key) >> 24
}

impl IdentityHashes {
    /// Notes the identity of `row`, when it has a well-formed one.
    pub fn note(&mut self, columns: &Columns, row: &RawRow) {
        if let Some(key) = identity_key(columns, &row.cells) {
            let hash = hash_of(&key);
            // The top 8 of the 40 bits pick the bucket; the low 32 are kept.
            self.buckets[(hash >> 32) as usize].push(hash as u32);
        }
    }

    /// The hashes seen more than once: the rows [`Duplicates`] looks at.
    pub fn repeated(self) -> std::collections::HashSet<u64> {
        let mut repeated = std::collections::HashSet::new();
        for (bucket, mut hashes) in self.buckets.into_iter().enumerate() {
            hashes.sort_unstable();
            let top = (bucket as u64) << 32;
            repeated.extend(hashes.windows(2).filter(|w| w[0] == w[1]).map(|w| top | u64::from(w[0])));
        }
        repeated
    }
}

/// Lines of each identity seen more than once, among the rows whose identity's hash was
/// ([`IdentityHashes`]).
#[derive(Debug, Default)]
pub struct Duplicates {
    repeated: HashMap<IdentityKey, Vec<u64>>,
}

impl Duplicates {
    /// Notes the identity of `row` if its hash is among `candidates`.
    pub fn note(&mut self, candidates: &std::collections::HashSet<u64>, columns: &Columns, row: &RawRow) {
        let Some(key) = identity_key(columns, &row.cells) else {
            return;
        };
        if candidates.contains(&hash_of(&key)) {
            self.repeated.entry(key).or_default().push(row.line);
        }
    }

    /// Keeps the identities really seen more than once.
    pub fn settle(mut self) -> Duplicates {
        self.repeated.retain(|_, lines| lines.len() > 1);
        self
    }

    /// The other lines that have `key`, if any.
    fn others(&self, key: IdentityKey, line: u64) -> Option<Vec<u64>> {
        let lines = self.repeated.get(&key)?;
        Some(lines.iter().copied().filter(|l| *l != line).collect())
    }
}

/// The identity (the appid a row is keyed on, lower case) of a raw row, when well-formed.
pub fn raw_identity(columns: &Columns, cells: &[String]) -> Option<String> {
    identity_key(columns, cells).map(|(_, appid)| appid.as_str().to_string())
}

pub type Reason = (String, String);

/// Validates rows of one manifest.
pub struct Validator<'t> {
    columns: Columns,
    base: PathBuf,
    tree: Tree<'t>,
    duplicates: Duplicates,
    /// Images already checked, by resolved path: many rows share a licence or a certificate.
    images: HashMap<PathBuf, Result<(String, ImageKind, u64), Reason>>,
    /// Go-live's values, against the job's `[golive]`.
    golive: Resolver,
}

/// Collects a row's problems.
struct Report {
    line: u64,
    problems: Vec<Problem>,
}

impl Report {
    fn add(&mut self, column: Column, (en, zh): Reason) {
        self.problems.push(Problem::new(self.line, Some(column), en, zh));
    }
}

impl<'t> Validator<'t> {
    /// `base` is the manifest's folder, against which image paths resolve; `golive` resolves
    /// the go-live cells against the job's `[golive]`.
    pub fn new(columns: Columns, base: &Path, tree: Tree<'t>, duplicates: Duplicates, golive: Resolver) -> Self {
        Validator { columns, base: base.to_path_buf(), tree, duplicates, images: HashMap::new(), golive }
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// A row the reader could not read, as a rejection.
    pub fn unreadable(&self, error: &RowError) -> Rejected {
        let (line, column, en, zh) = match error {
            RowError::Ragged { line, found, expected } => (
                *line,
                String::new(),
                format!("the row has {found} fields but the header has {expected} (a stray comma or quote?)"),
                format!("该行有 {found} 个字段，表头有 {expected} 个（多了逗号或引号？）"),
            ),
            RowError::InvalidUtf8 { line, field } => (
                *line,
                self.column_name(*field),
                "the cell is not valid UTF-8; save the sheet as UTF-8 or use --encoding gbk".to_string(),
                "该单元格不是有效的 UTF-8 编码；请另存为 UTF-8 或使用 --encoding gbk".to_string(),
            ),
            RowError::UnterminatedQuote { line, quote } => {
                let (en, zh) = if quote.last_line > quote.line {
                    let lines = if quote.last_line == quote.line + 1 {
                        format!("{}", quote.last_line)
                    } else {
                        format!("{}–{}", quote.line + 1, quote.last_line)
                    };
                    (
                        format!("a quote opened on line {} is never closed, so lines {lines} were read into this cell and not as rows; close the quote or remove it", quote.line),
                        format!("第 {} 行的引号没有闭合，第 {lines} 行都被读进了这个单元格，没有作为行读取；请补上或删去引号", quote.line),
                    )
                } else {
                    (
                        format!("a quote opened on line {} is never closed; close the quote or remove it", quote.line),
                        format!("第 {} 行的引号没有闭合；请补上或删去引号", quote.line),
                    )
                };
                (*line, self.column_name(quote.field), en, zh)
            }
            RowError::Read(e) => (0, String::new(), format!("reading failed: {e}"), "读取失败".to_string()),
        };
        Rejected { line, cells: Vec::new(), problems: vec![Problem { line, column, en, zh }] }
    }

    fn column_name(&self, field: usize) -> String {
        self.columns
            .present()
            .find(|c| self.columns.get(*c) == Some(field))
            .map(|c| c.name().to_string())
            .or_else(|| self.columns.header().get(field).map(|h| h.trim().to_string()))
            .unwrap_or_default()
    }

    fn cell(&self, raw: &RawRow, column: Column) -> String {
        self.columns.cell(&raw.cells, column)
    }

    /// Validates one row.
    pub fn validate(&mut self, mut raw: RawRow) -> Result<Row, Rejected> {
        let mut report = Report { line: raw.line, problems: Vec::new() };

        // Cells that are not data: a spreadsheet's error value, an identifier Excel turned into
        // a number. Each is reported once, and the rest of the checks see the cell as empty.
        let mut unusable = Vec::new();
        for column in self.columns.present() {
            let Some(i) = self.columns.get(column) else { continue };
            let value = self.cell(&raw, column);
            if let Some(reason) = cell_problem(column, &value, raw.numeric.contains(&i)) {
                report.add(column, reason);
                unusable.push(i);
            }
        }
        let written_cells = (!unusable.is_empty()).then(|| raw.cells.clone());
        for &i in &unusable {
            raw.cells[i].clear();
        }
        let unusable_column = |c: Column| self.columns.get(c).is_some_and(|i| unusable.contains(&i));
        let appid_written = self.cell(&raw, Column::Appid);
        let appid = self.appid_cell(&raw, Column::Appid, &mut report);
        let official = self.appid_cell(&raw, Column::OfficialAppid, &mut report);
        let registration = appid_written.is_empty() && !unusable_column(Column::Appid);
        if registration && self.cell(&raw, Column::OfficialAppid).is_empty() && !unusable_column(Column::OfficialAppid)
        {
            report.add(
                Column::OfficialAppid,
                (
                    "a registration row (no appid) needs official_appid, the official account whose qualification is reused".into(),
                    "注册行（没有小程序 appid）必须填写公众号 appid".into(),
                ),
            );
        }
        let identity = if registration { official.clone() } else { appid.clone() };
        if let Some(id) = &identity {
            let column = if registration { Column::OfficialAppid } else { Column::Appid };
            if let Ok(key) = Appid::parse(id).map(|a| (registration, a)) {
                if let Some(others) = self.duplicates.others(key, raw.line) {
                    let lines = others.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
                    report.add(
                        column,
                        (
                            format!("{id} is also on line {lines}; both rows are rejected"),
                            format!("{id} 与第 {lines} 行重复，这些行都不处理"),
                        ),
                    );
                }
            }
        }

        let copy_wx_verify = match self.cell(&raw, Column::CopyWxVerify).as_str() {
            "" | "1" => true,
            "0" => false,
            other => {
                report
                    .add(Column::CopyWxVerify, (format!("\"{other}\" is not 0 or 1"), format!("“{other}”不是 0 或 1")));
                true
            }
        };
        let ticket = Some(self.cell(&raw, Column::Ticket)).filter(|t| !t.is_empty());

        let nickname = self.nickname(&raw, &mut report);
        let signature = self.signature(&raw, &mut report);
        let avatar = self.avatar(&raw, &mut report);
        let categories = self.categories(&raw, &mut report);
        let rebind = match self.cell(&raw, Column::RebindTaskid) {
            t if t.is_empty() => None,
            t if REBIND_BY_SCAN.contains(&t.to_lowercase().as_str()) => Some(RebindChange { taskid: None }),
            t => Some(RebindChange { taskid: Some(t) }),
        };
        let golive = match self.golive.resolve(&self.columns, &raw.cells, &self.base, registration) {
            Ok(golive) => golive.map(Box::new),
            Err(problems) => {
                for (column, reason) in problems {
                    report.add(column, reason);
                }
                None
            }
        };

        if !report.problems.is_empty() {
            let cells = written_cells.unwrap_or(raw.cells);
            return Err(Rejected { line: raw.line, cells, problems: report.problems });
        }
        let Some(identity) = identity else {
            // Unreachable: no identity always adds a problem above. Reject rather than panic.
            return Err(Rejected {
                line: raw.line,
                problems: vec![Problem::new(
                    raw.line,
                    Some(Column::Appid),
                    "the row has no identity",
                    "该行没有 appid",
                )],
                cells: raw.cells,
            });
        };
        let mut row = Row {
            line: raw.line,
            identity,
            appid,
            official_appid: official,
            copy_wx_verify,
            ticket,
            nickname,
            avatar,
            signature,
            categories,
            rebind,
            golive,
            steps: Vec::new(),
            cells: raw.cells,
        };
        row.steps = steps_for(&row);
        Ok(row)
    }

    /// A well-formed appid in `column`, lower case; reports a malformed one.
    fn appid_cell(&self, raw: &RawRow, column: Column, report: &mut Report) -> Option<String> {
        let value = self.cell(raw, column);
        if value.is_empty() {
            return None;
        }
        match Appid::parse(&value) {
            Ok(appid) => Some(appid.into()),
            Err(_) => {
                report.add(
                    column,
                    (
                        format!("\"{value}\" is not an appid ({})", appid::FORM),
                        format!("“{value}”不是有效的 appid（{}）", appid::FORM_ZH),
                    ),
                );
                None
            }
        }
    }

    fn nickname(&mut self, raw: &RawRow, report: &mut Report) -> Option<NicknameChange> {
        let license = self.image_cell(raw, Column::License, report);
        let id_card = self.image_cell(raw, Column::IdCard, report);
        let materials_cell = self.cell(raw, Column::NamingMaterials).replace('；', ";");
        let written: Vec<&str> = materials_cell.split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
        let mut materials = Vec::new();
        if written.len() > MAX_MATERIALS {
            report.add(
                Column::NamingMaterials,
                (
                    format!("{} materials given; WeChat takes at most {MAX_MATERIALS}", written.len()),
                    format!("填写了 {} 个其他证明材料，最多 {MAX_MATERIALS} 个", written.len()),
                ),
            );
        } else {
            for w in written {
                if let Some(image) = self.image(w, Column::NamingMaterials, report) {
                    materials.push(image);
                }
            }
        }
        let nickname = self.cell(raw, Column::Nickname);
        if nickname.is_empty() {
            return None;
        }
        if nickname.contains("小程序") {
            report
                .add(Column::Nickname, ("a nickname may not contain \"小程序\"".into(), "名称不能包含“小程序”".into()));
        }
        let units: usize = nickname.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum();
        if !NICKNAME_UNITS.contains(&units) {
            report.add(
                Column::Nickname,
                (
                    format!(
                        "the nickname is {units} units long (Chinese characters count 2); it must be {} to {}",
                        NICKNAME_UNITS.start(),
                        NICKNAME_UNITS.end()
                    ),
                    format!(
                        "名称长度为 {units}（汉字算 2 个），应为 {} 到 {}",
                        NICKNAME_UNITS.start(),
                        NICKNAME_UNITS.end()
                    ),
                ),
            );
        }
        Some(NicknameChange { nickname, license, id_card, materials })
    }

    fn signature(&self, raw: &RawRow, report: &mut Report) -> Option<String> {
        let signature = self.cell(raw, Column::Signature);
        if signature.is_empty() {
            return None;
        }
        let chars = signature.chars().count();
        if !SIGNATURE_CHARS.contains(&chars) {
            report.add(
                Column::Signature,
                (
                    format!(
                        "the signature is {chars} characters; it must be {} to {}",
                        SIGNATURE_CHARS.start(),
                        SIGNATURE_CHARS.end()
                    ),
                    format!("简介为 {chars} 个字，应为 {} 到 {} 个字", SIGNATURE_CHARS.start(), SIGNATURE_CHARS.end()),
                ),
            );
        }
        Some(signature)
    }

    fn avatar(&mut self, raw: &RawRow, report: &mut Report) -> Option<AvatarChange> {
        let image = self.image_cell(raw, Column::Avatar, report);
        let crop_cell = self.cell(raw, Column::AvatarCrop);
        let crop = if crop_cell.is_empty() {
            Some(Crop::default())
        } else {
            match parse_crop(&crop_cell) {
                Ok(crop) => Some(crop),
                Err(reason) => {
                    report.add(Column::AvatarCrop, reason);
                    None
                }
            }
        };
        if !crop_cell.is_empty() && self.cell(raw, Column::Avatar).is_empty() {
            report.add(Column::AvatarCrop, ("a crop is given but no avatar".into(), "填写了头像裁剪但没有头像".into()));
        }
        Some(AvatarChange { image: image?, crop: crop? })
    }

    fn categories(&mut self, raw: &RawRow, report: &mut Report) -> Option<CategoryChange> {
        let cell = self.cell(raw, Column::Categories);
        if cell.is_empty() {
            return None;
        }
        let items = match parse_cell(&cell) {
            Ok(items) => items,
            Err(reason) => {
                report.add(Column::Categories, reason);
                return None;
            }
        };
        let mut change = CategoryChange::default();
        let mut seen: HashMap<(i64, i64), String> = HashMap::new();
        for item in items {
            let written = format!("{}/{}", item.first, item.second);
            let pair = match item.resolve(self.tree) {
                Ok(Some(pair)) => pair,
                // A name while the tree is unreadable: its certificate files are still
                // checked; the step waits for the tree to resolve it.
                Ok(None) => {
                    for (_, path) in &item.certificates {
                        self.image(path, Column::Categories, report);
                    }
                    if change.unresolved.iter().any(|u| u.trim_start_matches('-') == written) {
                        report.add(
                            Column::Categories,
                            (format!("\"{written}\" is given twice"), format!("“{written}”重复填写")),
                        );
                    }
                    change.unresolved.push(format!("{}{written}", if item.remove { "-" } else { "" }));
                    continue;
                }
                Err(reason) => {
                    report.add(Column::Categories, reason);
                    continue;
                }
            };
            if let Some(before) = seen.insert(pair, written.clone()) {
                report.add(
                    Column::Categories,
                    (
                        format!("\"{written}\" and \"{before}\" are the same category"),
                        format!("“{written}”和“{before}”是同一个类目"),
                    ),
                );
                continue;
            }
            if item.remove {
                change.remove.push(pair);
                continue;
            }
            let node = self.tree.known().and_then(|t| t.get(pair.1));
            let names: Vec<&str> = node.map(|n| n.certificate_names()).unwrap_or_default();
            let mut certificates = Vec::new();
            for (name, path) in &item.certificates {
                let resolved = if names.is_empty() {
                    Some(name.clone())
                } else {
                    match match_certificate(name, &names) {
                        Some(n) => Some(n.to_string()),
                        None => {
                            report.add(
                                Column::Categories,
                                (
                                    format!(
                                        "\"{name}\" is not a certificate \"{written}\" asks for; it asks for: {}",
                                        names.join(" or ")
                                    ),
                                    format!("“{name}”不是“{written}”需要的资质；需要：{}", names.join(" 或 ")),
                                ),
                            );
                            None
                        }
                    }
                };
                let image = self.image(path, Column::Categories, report);
                if let (Some(name), Some(image)) = (resolved, image) {
                    certificates.push(CertificateFile { name, image });
                }
            }
            if node.is_some_and(|n| n.sensitive_type == 1) && item.certificates.is_empty() {
                let needs = if names.is_empty() { "a certificate".to_string() } else { names.join(" or ") };
                report.add(
                    Column::Categories,
                    (
                        format!("\"{written}\" is a sensitive category and needs a certificate: {needs}; write it as {written}[name=path]"),
                        format!("“{written}”是敏感类目，需要提供资质：{needs}；写法：{written}[资质名称=图片路径]"),
                    ),
                );
            }
            change.add.push(CategoryAdd { first: pair.0, second: pair.1, certificates });
        }
        change.add.sort_by_key(|a| (a.first, a.second));
        change.remove.sort_unstable();
        change.unresolved.sort_unstable();
        Some(change)
    }

    /// The image named in `column`, if the cell is not empty and the image is good.
    fn image_cell(&mut self, raw: &RawRow, column: Column, report: &mut Report) -> Option<ImageFile> {
        let written = self.cell(raw, column);
        if written.is_empty() {
            return None;
        }
        self.image(&written, column, report)
    }

    /// Reads and checks the image at `written` (relative to the manifest's folder).
    fn image(&mut self, written: &str, column: Column, report: &mut Report) -> Option<ImageFile> {
        let path = self.resolve(written);
        let checked = self.images.entry(path.clone()).or_insert_with(|| check_image(&path, written)).clone();
        match checked {
            Ok((sha256, kind, size)) => Some(ImageFile { written: written.to_string(), path, sha256, kind, size }),
            Err(reason) => {
                report.add(column, reason);
                None
            }
        }
    }

    fn resolve(&self, written: &str) -> PathBuf {
        // Sheets made on Windows write `certs\visa.jpg`.
        let written = if cfg!(windows) { written.to_string() } else { written.replace('\\', "/") };
        let path = Path::new(&written);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base.join(path)
        }
    }
}

/// The error values a spreadsheet shows in a cell whose formula failed. Read as text they
/// would be sent as a name or a signature; they are validation errors instead.
pub const ERROR_VALUES: [&str; 11] = [
    "#N/A",
    "#REF!",
    "#VALUE!",
    "#DIV/0!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#DATA!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
];

/// The columns that hold identifiers, which Excel mangles when it takes them for numbers.
const IDENTIFIER_COLUMNS: [Column; 4] = [Column::Appid, Column::OfficialAppid, Column::Ticket, Column::RebindTaskid];

/// Why a cell is not data at all, whatever its column asks: a spreadsheet error value, or an
/// identifier that Excel stored as a number (`numeric`, from an `.xlsx`) or wrote in
/// scientific notation (`1.23E+31`, in a CSV Excel saved). `value` is the trimmed cell.
pub fn cell_problem(column: Column, value: &str, numeric: bool) -> Option<Reason> {
    if let Some(error) = ERROR_VALUES.iter().find(|e| e.eq_ignore_ascii_case(value)) {
        return Some((
            format!("the cell holds the spreadsheet error {error} (a formula that failed), not a value; fix the formula or type the value"),
            format!("单元格是表格的错误值 {error}（公式出错），不是内容；请修正公式或直接填写内容"),
        ));
    }
    if !IDENTIFIER_COLUMNS.contains(&column) || value.is_empty() {
        return None;
    }
    if is_scientific(value) {
        return Some((
            format!("\"{value}\" is a number Excel shortened to scientific notation, and its digits are lost; format the {column} column as Text in Excel, paste the original value again and save"),
            format!("“{value}”是被 Excel 改成科学计数法的数字，原来的数字已丢失；请在 Excel 中把 {column} 列设为“文本”格式，重新粘贴原值后保存"),
        ));
    }
    if numeric {
        return Some((
            format!("{column} is stored as a number (\"{value}\"), which Excel rounds and shortens; format the column as Text in Excel and type or paste it again"),
            format!("{column} 被 Excel 存成了数字（“{value}”）；请把该列设为“文本”格式后重新填写"),
        ));
    }
    None
}

/// `1.23E+31`, `4.5e-07`, `1E+17`: how Excel writes a number too long for its column.
fn is_scientific(value: &str) -> bool {
    let Some((mantissa, exponent)) = value.split_once(['E', 'e']) else {
        return false;
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let exponent = exponent.strip_prefix(['+', '-']);
    digits(whole) && digits(fraction) && exponent.is_some_and(digits)
}

fn check_image(path: &Path, written: &str) -> Result<(String, ImageKind, u64), Reason> {
    if !path.is_file() {
        return Err((
            format!("file \"{written}\" does not exist (looked for {})", path.display()),
            format!("找不到文件“{written}”"),
        ));
    }
    match Image::load(path) {
        // The step records the file as written; the 2 MB rule is on what is uploaded.
        Ok(image) => Ok((image.source_sha256, image.source_kind, image.bytes.len() as u64)),
        Err(ImageError::TooLarge { size, .. }) => Err((
            format!("\"{written}\" is {size} bytes, over WeChat's limit of {MAX_IMAGE_BYTES} bytes (2 MB)"),
            format!("“{written}”大小为 {size} 字节，超过 2M 的限制"),
        )),
        Err(ImageError::ConvertedTooLarge { size, .. }) => Err((
            format!("\"{written}\" is a BMP, which WeChat does not take; as the PNG wxprov would upload it is {size} bytes, over WeChat's limit of {MAX_IMAGE_BYTES} bytes (2 MB): make the picture smaller, or save it as JPEG"),
            format!("“{written}”是 BMP 图片，微信不收 BMP；转换成 PNG 后大小为 {size} 字节，超过 2M 的限制：请缩小图片或另存为 JPEG"),
        )),
        Err(ImageError::BmpTooLarge { size, .. }) => Err((
            format!("\"{written}\" is a BMP of {size} bytes, more than wxprov converts to PNG ({MAX_BMP_BYTES} bytes): save it as PNG or JPEG under 2 MB"),
            format!("“{written}”是 {size} 字节的 BMP 图片，太大无法转换：请另存为 2M 以内的 PNG 或 JPEG"),
        )),
        Err(ImageError::BadBmp { reason, .. }) => Err((
            format!("\"{written}\" starts like a BMP image but cannot be read as one ({reason}): save it again as PNG or JPEG"),
            format!("“{written}”看起来是 BMP 图片，但无法读取（{reason}）：请重新另存为 PNG 或 JPEG"),
        )),
        Err(ImageError::NotAnImage { .. }) | Err(ImageError::Empty { .. }) => Err((
            format!("\"{written}\" is not a BMP, JPEG, GIF or PNG image (judged by its content, not its name)"),
            format!("“{written}”不是 BMP、JPEG、GIF 或 PNG 图片（按文件内容判断）"),
        )),
        Err(ImageError::Unreadable { reason, .. }) => {
            Err((format!("cannot read \"{written}\": {reason}"), format!("无法读取“{written}”")))
        }
    }
}

/// `x1,y1,x2,y2`, each in [0,1], x1 < x2, y1 < y2.
fn parse_crop(cell: &str) -> Result<Crop, Reason> {
    let bad = |why_en: &str, why_zh: &str| {
        (
            format!("\"{cell}\" is not a crop box x1,y1,x2,y2: {why_en}"),
            format!("“{cell}”不是有效的裁剪框 x1,y1,x2,y2：{why_zh}"),
        )
    };
    let parts: Vec<&str> = cell.split([',', '，']).map(str::trim).collect();
    if parts.len() != 4 {
        return Err(bad(
            &format!("it has {} numbers, not 4", parts.len()),
            &format!("有 {} 个数，应为 4 个", parts.len()),
        ));
    }
    let mut v = [0f64; 4];
    for (slot, part) in v.iter_mut().zip(&parts) {
        match part.parse::<f64>() {
            Ok(n) if n.is_finite() => *slot = n,
            _ => return Err(bad(&format!("\"{part}\" is not a number"), &format!("“{part}”不是数字"))),
        }
    }
    if v.iter().any(|n| !(0.0..=1.0).contains(n)) {
        return Err(bad("each number must be between 0 and 1", "每个数都应在 0 到 1 之间"));
    }
    let [x1, y1, x2, y2] = v;
    if x1 >= x2 || y1 >= y2 {
        return Err(bad("x1 must be less than x2 and y1 less than y2", "x1 应小于 x2，y1 应小于 y2"));
    }
    Ok(Crop { x1, y1, x2, y2 })
}

/// Characters that count 2 towards a nickname's length: CJK and full-width forms.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops() {
        assert_eq!(parse_crop("0, 0, 1, 1").unwrap().normalized(), "0,0,1,1");
        assert_eq!(parse_crop("0.0,0.1,0.50,1.0").unwrap().normalized(), "0,0.1,0.5,1");
        assert!(parse_crop("0,0,1.5,1").is_err());
        assert!(parse_crop("1,0,0.5,1").is_err());
        assert!(parse_crop("0,0,1").is_err());
        assert!(parse_crop("0,0,NaN,1").is_err());
    }

    #[test]
    fn error_values_and_mangled_numbers() {
        assert!(cell_problem(Column::Signature, "#N/A", false).unwrap().0.contains("#N/A"));
        assert!(cell_problem(Column::Nickname, "#ref!", false).unwrap().0.contains("#REF!"));
        assert!(cell_problem(Column::Signature, "#N/A 以外的文字", false).is_none());
        assert!(cell_problem(Column::RebindTaskid, "1.23E+31", false).unwrap().0.contains("as Text"));
        assert!(cell_problem(Column::Ticket, "1E+17", false).is_some());
        assert!(cell_problem(Column::Appid, "12300000000", true).unwrap().0.contains("stored as a number"));
        assert!(cell_problem(Column::Signature, "1.23E+31", false).is_none(), "only identifiers");
        // Hex taskids never carry a sign or a point.
        assert!(cell_problem(Column::RebindTaskid, "1234e5678", false).is_none());
        assert!(cell_problem(Column::RebindTaskid, "b25519093b1e97239eff9d2bfc07e08e", false).is_none());
    }

    #[test]
    fn wide_characters() {
        assert!(is_wide('测'));
        assert!(!is_wide('a'));
    }
}
