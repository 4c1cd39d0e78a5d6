//! The `ext_json` a row commits (DESIGN §9): a JSON file shared by many rows, in which
//! `${appid}` and `${column:NAME}` stand for the row's appid and the row's cell under the
//! header `NAME`.
//!
//! The file is parsed as JSON first and the placeholders are replaced inside its strings, so a
//! cell holding a quote or a backslash can never break the document `commit` sends. Column
//! placeholders are filled when the sheet is validated (an unknown column or an empty cell is
//! a validation error); `${appid}` is filled by the `code` step, since a registration row has
//! no appid until it is registered.

use std::path::Path;

use serde_json::Value;

use crate::manifest::columns::{normalize_header, Columns};
use crate::manifest::Reason;

/// A parsed `ext_json` file whose placeholders are all known ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtTemplate {
    value: Value,
    /// The `NAME`s of its `${column:NAME}` placeholders, each once.
    columns: Vec<String>,
}

/// A row's `ext_json` with its column placeholders filled: only `${appid}` is left.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtJson(Value);

const APPID: &str = "${appid}";

impl ExtTemplate {
    /// Reads the file at `path` (`written` is how the sheet or job names it).
    pub fn load(path: &Path, written: &str) -> Result<ExtTemplate, Reason> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            (format!("cannot read the ext_json file {written}: {e}"), format!("无法读取 ext_json 文件 {written}：{e}"))
        })?;
        ExtTemplate::parse(&text).map_err(|(en, zh)| {
            (format!("the ext_json file {written}: {en}"), format!("ext_json 文件 {written}：{zh}"))
        })
    }

    fn parse(text: &str) -> Result<ExtTemplate, Reason> {
        let value: Value = serde_json::from_str(text.trim_start_matches('\u{FEFF}')).map_err(|e| {
            (
                format!("is not JSON (line {}, column {}: {e})", e.line(), e.column()),
                format!("不是有效的 JSON（第 {} 行第 {} 列）", e.line(), e.column()),
            )
        })?;
        if !value.is_object() {
            return Err(("must hold a JSON object ({ ... })".into(), "必须是一个 JSON 对象（{ ... }）".into()));
        }
        let mut columns = Vec::new();
        let mut problem = None;
        visit(&value, &mut |s| {
            for placeholder in placeholders(s) {
                match placeholder {
                    Placeholder::Appid => {}
                    Placeholder::Column(name) => {
                        if !columns.iter().any(|c| c == name) {
                            columns.push(name.to_string());
                        }
                    }
                    Placeholder::Unknown(text) => {
                        problem.get_or_insert_with(|| {
                            (
                                format!(
                                    "\"{text}\" is not a placeholder wxprov knows (${{appid}} or ${{column:NAME}})"
                                ),
                                format!("“{text}”不是可用的占位符（${{appid}} 或 ${{column:列名}}）"),
                            )
                        });
                    }
                }
            }
        });
        match problem {
            Some(p) => Err(p),
            None => Ok(ExtTemplate { value, columns }),
        }
    }

    /// The template with this row's cells in place of its `${column:NAME}` placeholders. A
    /// `NAME` is matched against the header as column names are (without case, spaces or
    /// punctuation), whether or not wxprov reads that column itself (an `ignore_columns` one
    /// such as `门店编号` is the usual case).
    pub fn fill(&self, columns: &Columns, cells: &[String]) -> Result<ExtJson, Reason> {
        let mut values = Vec::new();
        for name in &self.columns {
            let key = normalize_header(name);
            let Some(index) = columns.header().iter().position(|h| normalize_header(h) == key) else {
                return Err((
                    format!("ext_json uses ${{column:{name}}} but the sheet has no column {name}"),
                    format!("ext_json 使用了 ${{column:{name}}}，但表格没有“{name}”列"),
                ));
            };
            let cell = cells.get(index).map(|c| c.trim()).unwrap_or_default();
            if cell.is_empty() {
                return Err((
                    format!("ext_json uses ${{column:{name}}} but this row's {name} is empty"),
                    format!("ext_json 使用了 ${{column:{name}}}，但该行的“{name}”为空"),
                ));
            }
            values.push((format!("${{column:{name}}}"), cell.to_string()));
        }
        let mut value = self.value.clone();
        replace(&mut value, &|s| values.iter().fold(s.to_string(), |s, (from, to)| s.replace(from, to)));
        Ok(ExtJson(value))
    }
}

impl ExtJson {
    /// The document as `commit` sends it (a string), `${appid}` replaced.
    pub fn render(&self, appid: &str) -> String {
        let mut value = self.0.clone();
        replace(&mut value, &|s| s.replace(APPID, appid));
        value.to_string()
    }

    /// What the `code` step's input hash covers: the document with `${appid}` still in it.
    pub fn canonical(&self) -> &Value {
        &self.0
    }
}

enum Placeholder<'a> {
    Appid,
    Column(&'a str),
    Unknown(&'a str),
}

/// The `${...}` placeholders in `s`.
fn placeholders(s: &str) -> impl Iterator<Item = Placeholder<'_>> {
    s.match_indices("${").map(move |(start, _)| {
        let Some(len) = s[start..].find('}') else {
            return Placeholder::Unknown(&s[start..]);
        };
        let text = &s[start..=(start + len)];
        let inner = &text[2..text.len() - 1];
        match inner.strip_prefix("column:") {
            _ if text == APPID => Placeholder::Appid,
            Some(name) if !name.trim().is_empty() => Placeholder::Column(name.trim()),
            _ => Placeholder::Unknown(text),
        }
    })
}

/// Calls `f` on every string of `value`, object keys included.
fn visit(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        Value::Object(map) => {
            for (k, v) in map {
                f(k);
                visit(v, f);
            }
        }
        _ => {}
    }
}

/// Replaces every string of `value`, object keys included, by `f` of it.
fn replace(value: &mut Value, f: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| replace(v, f)),
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (k, mut v) in old {
                replace(&mut v, f);
                map.insert(f(&k), v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(header: &[&str]) -> Columns {
        let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        Columns::from_header(&header, &["门店编号".to_string()]).unwrap()
    }

    #[test]
    fn cells_and_the_appid_are_put_in_place_inside_strings() {
        let t = ExtTemplate::parse(r#"{"extAppid":"${appid}","ext":{"shopId":"${column:门店编号}","n":1}}"#).unwrap();
        let cols = columns(&["appid", "signature", "门店编号"]);
        let ext = t.fill(&cols, &["wx1".into(), "s".into(), "S\"10\\24".into()]).unwrap();
        assert_eq!(
            ext.render("wx0123456789abcdef"),
            r#"{"ext":{"n":1,"shopId":"S\"10\\24"},"extAppid":"wx0123456789abcdef"}"#
        );
    }

    #[test]
    fn unknown_placeholders_missing_columns_and_empty_cells_are_refused() {
        assert_eq!(
            ExtTemplate::parse(r#"{"a":"${shop}"}"#).unwrap_err().0,
            "\"${shop}\" is not a placeholder wxprov knows (${appid} or ${column:NAME})"
        );
        assert_eq!(ExtTemplate::parse("[1]").unwrap_err().0, "must hold a JSON object ({ ... })");
        assert!(ExtTemplate::parse("{").unwrap_err().0.starts_with("is not JSON (line 1, column 1"));
        let t = ExtTemplate::parse(r#"{"a":"${column:门店编号}"}"#).unwrap();
        assert_eq!(
            t.fill(&columns(&["appid", "signature"]), &["wx1".into(), "s".into()]).unwrap_err().0,
            "ext_json uses ${column:门店编号} but the sheet has no column 门店编号"
        );
        assert_eq!(
            t.fill(&columns(&["appid", "signature", "门店编号"]), &["wx1".into(), "s".into(), " ".into()])
                .unwrap_err()
                .0,
            "ext_json uses ${column:门店编号} but this row's 门店编号 is empty"
        );
    }
}
