//! The manifest's columns (DESIGN §3) and how a header row maps onto them.
//!
//! Sheets come from many hands: English or Chinese names, odd case, stray spaces, a BOM or a
//! zero-width space pasted from a web page. We match names leniently but report every column
//! we do not know, once, so a typo does not silently drop a whole column of changes.

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
}

impl Column {
    pub const ALL: [Column; 13] = [
        Column::Appid,
        Column::OfficialAppid,
        Column::CopyWxVerify,
        Column::Ticket,
        Column::Nickname,
        Column::License,
        Column::IdCard,
        Column::NamingMaterials,
        Column::Signature,
        Column::Avatar,
        Column::AvatarCrop,
        Column::Categories,
        Column::RebindTaskid,
    ];

    /// The English name, as DESIGN §3 spells it; used in every report.
    pub fn name(self) -> &'static str {
        match self {
            Column::Appid => "appid",
            Column::OfficialAppid => "official_appid",
            Column::CopyWxVerify => "copy_wx_verify",
            Column::Ticket => "ticket",
            Column::Nickname => "nickname",
            Column::License => "license",
            Column::IdCard => "id_card",
            Column::NamingMaterials => "naming_materials",
            Column::Signature => "signature",
            Column::Avatar => "avatar",
            Column::AvatarCrop => "avatar_crop",
            Column::Categories => "categories",
            Column::RebindTaskid => "rebind_taskid",
        }
    }

    /// The Chinese aliases (already in normalized form).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Appid => &["小程序appid"],
            Column::OfficialAppid => &["公众号appid"],
            Column::CopyWxVerify => &["复用认证"],
            Column::Ticket => &["ticket"],
            Column::Nickname => &["名称"],
            Column::License => &["营业执照"],
            Column::IdCard => &["身份证"],
            Column::NamingMaterials => &["其他证明材料"],
            Column::Signature => &["简介", "功能介绍"],
            Column::Avatar => &["头像"],
            Column::AvatarCrop => &["头像裁剪"],
            Column::Categories => &["类目"],
            Column::RebindTaskid => &["换绑taskid"],
        }
    }

    /// The column a header cell names, if any.
    pub fn from_header(cell: &str) -> Option<Column> {
        let key = normalize_header(cell);
        Column::ALL.into_iter().find(|c| c.name() == key || c.aliases().contains(&key.as_str()))
    }

    /// "`appid` (小程序appid)" — for messages that list accepted names.
    pub fn accepted_names(self) -> String {
        let mut s = format!("`{}`", self.name());
        for alias in self.aliases().iter().filter(|a| **a != self.name()) {
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

/// A header cell as we compare it: invisible characters removed, trimmed, lower case.
pub fn normalize_header(cell: &str) -> String {
    let visible: String = cell.chars().filter(|c| !is_invisible(*c)).collect();
    visible.trim().to_lowercase()
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
}

/// Where each known column sits in the file's rows.
#[derive(Debug, Clone)]
pub struct Columns {
    index: [Option<usize>; Column::ALL.len()],
    header: Vec<String>,
}

impl Columns {
    /// Maps a header row. Returns the mapping and one warning per unknown column.
    pub fn from_header(header: &[String]) -> Result<(Columns, Vec<String>), HeaderError> {
        let mut index: [Option<usize>; Column::ALL.len()] = [None; Column::ALL.len()];
        let mut warnings = Vec::new();
        for (i, cell) in header.iter().enumerate() {
            if normalize_header(cell).is_empty() {
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
                None => warnings.push(format!(
                    "column {} \"{}\" is not a manifest column and is ignored / 未知的列“{}”，已忽略",
                    i + 1,
                    cell.trim(),
                    cell.trim()
                )),
            }
        }
        let columns = Columns { index, header: header.to_vec() };
        if !columns.has(Column::Appid) && !columns.has(Column::OfficialAppid) {
            return Err(HeaderError::NoIdentity);
        }
        Ok((columns, warnings))
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
    fn matches_names_and_aliases_leniently() {
        let (cols, warnings) = Columns::from_header(&header(&[
            "\u{FEFF}小程序AppID",
            "  Official_AppID ",
            "名\u{200B}称",
            "功能介绍",
            "remark",
        ]))
        .unwrap();
        assert_eq!(cols.get(Column::Appid), Some(0));
        assert_eq!(cols.get(Column::OfficialAppid), Some(1));
        assert_eq!(cols.get(Column::Nickname), Some(2));
        assert_eq!(cols.get(Column::Signature), Some(3));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("remark"));
    }

    #[test]
    fn needs_an_identity_column() {
        let err = Columns::from_header(&header(&["nickname"])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`appid`") && text.contains("`公众号appid`"), "{text}");
    }

    #[test]
    fn rejects_a_column_named_twice() {
        let err = Columns::from_header(&header(&["appid", "简介", "signature"])).unwrap_err();
        assert!(matches!(err, HeaderError::Duplicate { column: Column::Signature, .. }));
    }
}
