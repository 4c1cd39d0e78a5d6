//! The manifest's columns (DESIGN §3) and how a header row maps onto them.
//!
//! Sheets come from many hands: English or Chinese names, odd case, stray spaces and
//! punctuation, a BOM or a zero-width space pasted from a web page. Names are matched
//! leniently (without case, spaces or punctuation) against [`TABLE`], the one list of every
//! column and its aliases. A header cell that matches nothing is never dropped quietly: one
//! that resembles a known name is a typo and refused with the suggestion, any other is refused
//! too unless the job lists it in `ignore_columns` (or `--ignore-column`).

use std::fmt;

/// One column a manifest may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Appid,
    OfficialAppid,
    CopyWxVerify,
    Ticket,
    Nickname,
    License,
    IdCard,
    NamingMaterials,
    Signature,
    Avatar,
    AvatarCrop,
    Categories,
    RebindTaskid,
    TemplateId,
    UserVersion,
    UserDesc,
    ExtJson,
    ServerDomains,
    WebviewDomains,
    Privacy,
    AuditItems,
    VersionDesc,
    Release,
    Golive,
}

/// One row of the column table: the English name, its aliases, and whether the column asks
/// for something by itself (a step), as opposed to qualifying another column.
pub struct Spec {
    pub column: Column,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub asks: bool,
}

/// Every manifest column with its aliases, as DESIGN §3 and §9 (the go-live columns) list
/// them. The one place a column name is spelled: matching, typo suggestions and messages all
/// read it.
pub const TABLE: [Spec; 24] = [
    Spec { column: Column::Appid, name: "appid", aliases: &["小程序appid", "AppID"], asks: false },
    Spec { column: Column::OfficialAppid, name: "official_appid", aliases: &["公众号appid"], asks: true },
    Spec { column: Column::CopyWxVerify, name: "copy_wx_verify", aliases: &["复用认证"], asks: false },
    Spec { column: Column::Ticket, name: "ticket", aliases: &["ticket"], asks: false },
    Spec { column: Column::Nickname, name: "nickname", aliases: &["名称", "小程序名称"], asks: true },
    Spec { column: Column::License, name: "license", aliases: &["营业执照"], asks: false },
    Spec { column: Column::IdCard, name: "id_card", aliases: &["身份证"], asks: false },
    Spec { column: Column::NamingMaterials, name: "naming_materials", aliases: &["其他证明材料"], asks: false },
    Spec {
        column: Column::Signature, name: "signature", aliases: &["简介", "功能介绍", "小程序简介"], asks: true
    },
    Spec { column: Column::Avatar, name: "avatar", aliases: &["头像", "小程序头像"], asks: true },
    Spec { column: Column::AvatarCrop, name: "avatar_crop", aliases: &["头像裁剪"], asks: false },
    Spec { column: Column::Categories, name: "categories", aliases: &["类目", "服务类目"], asks: true },
    Spec { column: Column::RebindTaskid, name: "rebind_taskid", aliases: &["换绑taskid"], asks: true },
    Spec { column: Column::TemplateId, name: "template_id", aliases: &["模板ID"], asks: true },
    Spec { column: Column::UserVersion, name: "user_version", aliases: &["版本号"], asks: false },
    Spec { column: Column::UserDesc, name: "user_desc", aliases: &["版本描述"], asks: false },
    Spec { column: Column::ExtJson, name: "ext_json", aliases: &["ext_json"], asks: false },
    Spec { column: Column::ServerDomains, name: "server_domains", aliases: &["服务器域名"], asks: false },
    Spec { column: Column::WebviewDomains, name: "webview_domains", aliases: &["业务域名"], asks: false },
    Spec { column: Column::Privacy, name: "privacy", aliases: &["隐私设置"], asks: false },
    Spec { column: Column::AuditItems, name: "audit_items", aliases: &["提审页面"], asks: false },
    Spec { column: Column::VersionDesc, name: "version_desc", aliases: &["提审说明"], asks: false },
    Spec { column: Column::Release, name: "release", aliases: &["发布"], asks: false },
    Spec { column: Column::Golive, name: "golive", aliases: &["上线"], asks: true },
];

/// Columns wxprov writes into its own reports and reads back without using: `failed.csv`'s
/// `error` column, so that a fixed failed.csv is a manifest again (DESIGN §6).
pub const OWN_COLUMNS: [&str; 1] = ["error"];

/// How alike (0..1, `strsim::normalized_damerau_levenshtein` of the normalized names) an
/// unknown header must be to a known name to be taken for a typo of it: `nicknme` is 0.88,
/// `signture` 0.89, `备注` against `名称` 0.
const TYPO_SIMILARITY: f64 = 0.75;

impl Column {
    pub const ALL: [Column; TABLE.len()] = {
        let mut all = [Column::Appid; TABLE.len()];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].column;
            i += 1;
        }
        all
    };

    /// This column's row of [`TABLE`].
    pub fn spec(self) -> &'static Spec {
        &TABLE[self as usize]
    }

    /// The English name, as DESIGN §3 spells it; used in every report.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The aliases, as DESIGN §3 spells them.
    pub fn aliases(self) -> &'static [&'static str] {
        self.spec().aliases
    }

    /// Whether the column asks for something by itself (a step), not just qualifying another.
    pub fn asks(self) -> bool {
        self.spec().asks
    }

    /// The names this column answers to, normalized.
    fn keys(self) -> impl Iterator<Item = String> {
        std::iter::once(self.name()).chain(self.aliases().iter().copied()).map(normalize_header)
    }

    /// The column a header cell names, if any.
    pub fn from_header(cell: &str) -> Option<Column> {
        let key = normalize_header(cell);
        Column::ALL.into_iter().find(|c| c.keys().any(|k| k == key))
    }

    /// "`appid` or `小程序appid` or `AppID`" — for messages that list accepted names.
    pub fn accepted_names(self) -> String {
        let mut s = format!("`{}`", self.name());
        for alias in self.aliases().iter().filter(|a| normalize_header(a) != normalize_header(self.name())) {
            s.push_str(&format!(" or `{alias}`"));
        }
        s
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// True for the invisible characters that ride along with copied text: BOM, zero-width
/// space/joiners, word joiner.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{FEFF}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}')
}

/// A header name as we compare it: letters and digits only (no spaces, punctuation or
/// invisible characters), lower case. `Official AppID`, `official_appid` and `官方-AppID`
/// compare as `officialappid` and `官方appid`.
pub fn normalize_header(cell: &str) -> String {
    cell.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// "3 (C)": a 1-based column number and its spreadsheet letters, as ops staff see them.
pub fn column_label(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{} ({})", index + 1, letters.into_iter().collect::<String>())
}

/// The known name a header that matches none resembles, if it is close enough to be a typo.
pub fn suggest(cell: &str) -> Option<&'static str> {
    let key = normalize_header(cell);
    if key.is_empty() {
        return None;
    }
    TABLE
        .iter()
        .flat_map(|spec| std::iter::once(spec.name).chain(spec.aliases.iter().copied()))
        .map(|name| (strsim::normalized_damerau_levenshtein(&key, &normalize_header(name)), name))
        .filter(|(similarity, _)| *similarity >= TYPO_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// A header cell wxprov does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownColumn {
    /// 0-based position in the header.
    pub index: usize,
    /// As the file spells it (trimmed).
    pub written: String,
    /// The known name it resembles, when it looks like a typo.
    pub suggestion: Option<&'static str>,
}

/// The message for a header's unknown columns: one line per column, then what to do.
fn describe_unknown(unknown: &[UnknownColumn]) -> String {
    let mut out = String::from("columns wxprov does not know / 未知的列:");
    for u in unknown {
        out.push_str(&format!("\n  column {} \"{}\"", column_label(u.index), u.written));
        if let Some(s) = u.suggestion {
            out.push_str(&format!(": did you mean `{s}`? / 是不是“{s}”？"));
        }
    }
    let (mut en, mut zh) = (Vec::new(), Vec::new());
    if unknown.iter().any(|u| u.suggestion.is_some()) {
        en.push("rename a misspelt column");
        zh.push("拼错的列请改名");
    }
    en.push("list a column wxprov must not read in the job file's ignore_columns or pass --ignore-column NAME");
    zh.push("不需要 wxprov 读取的列请写进任务文件的 ignore_columns，或使用 --ignore-column 列名");
    out.push_str(&format!("\n{} / {}", en.join("; "), zh.join("；")));
    out
}

fn asking_columns() -> String {
    TABLE.iter().filter(|s| s.asks).map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")
}

/// A header that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error(
        "the header has no identity column: it needs {appid} or {official} (or both) / 表头缺少 appid 列：需要“小程序appid”或“公众号appid”",
        appid = Column::Appid.accepted_names(),
        official = Column::OfficialAppid.accepted_names()
    )]
    NoIdentity,
    #[error(
        "the header names column `{column}` twice (as \"{first}\" and \"{second}\") / 表头中 {column} 列出现了两次"
    )]
    Duplicate { column: Column, first: String, second: String },
    #[error("{}", describe_unknown(.0))]
    Unknown(Vec<UnknownColumn>),
    #[error(
        "the sheet has no column that asks for anything: it needs at least one of {} / 表头中没有任何要办理的列（名称、简介、头像、类目、注册、换绑或上线）",
        asking_columns()
    )]
    AsksNothing,
}

/// Where each known column sits in the file's rows.
#[derive(Debug, Clone)]
pub struct Columns {
    index: [Option<usize>; Column::ALL.len()],
    header: Vec<String>,
    skipped: Vec<usize>,
    /// Header cells that are blank: a cell below one of them holds data no column names.
    unnamed: Vec<usize>,
}

impl Columns {
    /// Maps a header row. `ignore` names the columns the job says to skip (`ignore_columns`,
    /// `--ignore-column`), matched as header names are. Any other column that is not a
    /// manifest column, and a header that asks for nothing, is an error.
    pub fn from_header(header: &[String], ignore: &[String]) -> Result<Columns, HeaderError> {
        let ignore: Vec<String> = ignore.iter().map(|n| normalize_header(n)).filter(|n| !n.is_empty()).collect();
        let mut index: [Option<usize>; Column::ALL.len()] = [None; Column::ALL.len()];
        let mut skipped = Vec::new();
        let mut unnamed = Vec::new();
        let mut unknown = Vec::new();
        for (i, cell) in header.iter().enumerate() {
            let key = normalize_header(cell);
            if key.is_empty() && cell.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
                unnamed.push(i);
                continue;
            }
            if ignore.contains(&key) || OWN_COLUMNS.contains(&key.as_str()) {
                skipped.push(i);
                continue;
            }
            match Column::from_header(cell) {
                Some(col) => {
                    let slot = &mut index[col as usize];
                    if let Some(prev) = *slot {
                        return Err(HeaderError::Duplicate {
                            column: col,
                            first: header[prev].trim().to_string(),
                            second: cell.trim().to_string(),
                        });
                    }
                    *slot = Some(i);
                }
                None => unknown.push(UnknownColumn {
                    index: i,
                    written: cell.trim().to_string(),
                    suggestion: suggest(cell),
                }),
            }
        }
        let columns = Columns { index, header: header.to_vec(), skipped, unnamed };
        if !columns.has(Column::Appid) && !columns.has(Column::OfficialAppid) {
            return Err(HeaderError::NoIdentity);
        }
        if !unknown.is_empty() {
            return Err(HeaderError::Unknown(unknown));
        }
        if !columns.present().any(Column::asks) {
            return Err(HeaderError::AsksNothing);
        }
        Ok(columns)
    }

    /// True when `header` names an identity column (`appid` or `official_appid`): what makes a
    /// row the header row, below any title rows.
    pub fn is_header(header: &[String]) -> bool {
        header.iter().any(|c| matches!(Column::from_header(c), Some(Column::Appid | Column::OfficialAppid)))
    }

    /// The first cell of `cells` under a blank header cell that holds something: its position
    /// and text. Such data belongs to no column and must not be dropped quietly.
    pub fn unnamed_data<'c>(&self, cells: &'c [String]) -> Option<(usize, &'c str)> {
        self.unnamed.iter().find_map(|&i| {
            let text = cells.get(i)?.trim();
            (!text.is_empty()).then_some((i, text))
        })
    }

    /// The position of `column` in a row, if the header has it.
    pub fn get(&self, column: Column) -> Option<usize> {
        self.index[column as usize]
    }

    pub fn has(&self, column: Column) -> bool {
        self.get(column).is_some()
    }

    /// The header row as the file spells it.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The header cells skipped on purpose (`ignore_columns`, and wxprov's own `error`), as
    /// "column 4 (D) \"备注\"".
    pub fn skipped(&self) -> Vec<String> {
        self.skipped.iter().map(|&i| format!("column {} \"{}\"", column_label(i), self.header[i].trim())).collect()
    }

    /// The columns present, in `Column::ALL` order.
    pub fn present(&self) -> impl Iterator<Item = Column> + '_ {
        Column::ALL.into_iter().filter(|c| self.has(*c))
    }

    /// `column`'s cell in `cells`, invisible characters removed and trimmed; "" when the
    /// header has no such column.
    pub fn cell(&self, cells: &[String], column: Column) -> String {
        match self.get(column).and_then(|i| cells.get(i)) {
            Some(raw) if raw.chars().any(is_invisible) => {
                raw.chars().filter(|c| !is_invisible(*c)).collect::<String>().trim().to_string()
            }
            Some(raw) => raw.trim().to_string(),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_table_is_in_column_order() {
        for (i, spec) in TABLE.iter().enumerate() {
            assert_eq!(spec.column as usize, i, "{}", spec.name);
            assert_eq!(Column::ALL[i], spec.column);
        }
    }

    #[test]
    fn matches_names_and_aliases_leniently() {
        let cols = Columns::from_header(
            &header(&["\u{FEFF}小程序AppID", "  Official AppID ", "名\u{200B}称", "功能介绍", "Rebind-TaskID"]),
            &[],
        )
        .unwrap();
        assert_eq!(cols.get(Column::Appid), Some(0));
        assert_eq!(cols.get(Column::OfficialAppid), Some(1));
        assert_eq!(cols.get(Column::Nickname), Some(2));
        assert_eq!(cols.get(Column::Signature), Some(3));
        assert_eq!(cols.get(Column::RebindTaskid), Some(4));
    }

    #[test]
    fn every_alias_of_design_section_3_is_accepted() {
        let expected = [
            ("小程序appid", Column::Appid),
            ("AppID", Column::Appid),
            ("公众号appid", Column::OfficialAppid),
            ("复用认证", Column::CopyWxVerify),
            ("ticket", Column::Ticket),
            ("名称", Column::Nickname),
            ("小程序名称", Column::Nickname),
            ("营业执照", Column::License),
            ("身份证", Column::IdCard),
            ("其他证明材料", Column::NamingMaterials),
            ("简介", Column::Signature),
            ("功能介绍", Column::Signature),
            ("小程序简介", Column::Signature),
            ("头像", Column::Avatar),
            ("小程序头像", Column::Avatar),
            ("头像裁剪", Column::AvatarCrop),
            ("类目", Column::Categories),
            ("服务类目", Column::Categories),
            ("换绑taskid", Column::RebindTaskid),
        ];
        for (alias, column) in expected {
            assert_eq!(Column::from_header(alias), Some(column), "{alias}");
        }
        for column in Column::ALL {
            assert_eq!(Column::from_header(column.name()), Some(column));
        }
    }

    #[test]
    fn typos_are_suggested_and_other_names_are_not() {
        assert_eq!(suggest("nicknme"), Some("nickname"));
        assert_eq!(suggest("Signture"), Some("signature"));
        assert_eq!(suggest("official_apid"), Some("official_appid"));
        assert_eq!(suggest("小程序名字"), Some("小程序名称"));
        for other in ["备注", "商户名称", "remark", "联系人手机", "名字"] {
            assert_eq!(suggest(other), None, "{other}");
        }
    }

    #[test]
    fn unknown_columns_are_refused_unless_ignored() {
        let names = header(&["appid", "备注", "signature", "nicknme", "error"]);
        let err = Columns::from_header(&names, &[]).unwrap_err();
        let HeaderError::Unknown(unknown) = &err else { panic!("{err:?}") };
        assert_eq!(unknown.len(), 2);
        assert_eq!((unknown[0].index, unknown[0].suggestion), (1, None));
        assert_eq!((unknown[1].index, unknown[1].suggestion), (3, Some("nickname")));
        let cols = Columns::from_header(&names, &["备注".into(), " NICKNME ".into()]).unwrap();
        assert_eq!(cols.skipped(), ["column 2 (B) \"备注\"", "column 4 (D) \"nicknme\"", "column 5 (E) \"error\""]);
        assert_eq!(cols.get(Column::Signature), Some(2));
    }

    #[test]
    fn needs_an_identity_column() {
        let err = Columns::from_header(&header(&["nickname"]), &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`appid`") && text.contains("`公众号appid`"), "{text}");
    }

    #[test]
    fn needs_a_column_that_asks_for_something() {
        let err = Columns::from_header(&header(&["appid", "copy_wx_verify", "备注"]), &["备注".into()]).unwrap_err();
        assert_eq!(err, HeaderError::AsksNothing);
        assert!(Columns::from_header(&header(&["official_appid"]), &[]).is_ok(), "registration asks");
    }

    #[test]
    fn rejects_a_column_named_twice() {
        let err = Columns::from_header(&header(&["appid", "简介", "signature"]), &[]).unwrap_err();
        assert!(matches!(err, HeaderError::Duplicate { column: Column::Signature, .. }));
    }

    #[test]
    fn column_labels() {
        assert_eq!(column_label(0), "1 (A)");
        assert_eq!(column_label(25), "26 (Z)");
        assert_eq!(column_label(26), "27 (AA)");
    }
}
