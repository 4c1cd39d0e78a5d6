//! What a row submits for audit besides its code (DESIGN §9 `audit_items`, `version_desc`):
//! the pages the reviewers are pointed to, checked against `submit_audit`'s limits
//! (golive.md §3.6: at most five items, tags and titles within their lengths, 85006/85011)
//! before any call. Each item's category is the first approved one, read by the `audit` step.

use serde::Serialize;

use crate::manifest::Reason;

/// At most this many items (85023).
pub const MAX_ITEMS: usize = 5;
/// At most this many tags per item, each at most [`TAG_CHARS`] characters (85006).
pub const MAX_TAGS: usize = 10;
pub const TAG_CHARS: usize = 20;
/// A title's length in characters (85011).
pub const TITLE_CHARS: usize = 32;

/// One `page|tag|title` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditItem {
    /// A page of the committed code, e.g. `pages/home/index`.
    pub address: String,
    /// Space-separated tags; may be empty.
    pub tag: String,
    pub title: String,
}

/// Parses `page|tag|title` items separated by `;` (a cell) or given one by one (the job file).
pub fn parse_items<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<AuditItem>, Reason> {
    let mut out = Vec::new();
    for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
        let mut parts = item.split(['|', '｜']).map(str::trim);
        let address = parts.next().unwrap_or_default().to_string();
        let tag = parts.next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
        let title = parts.next().unwrap_or_default().to_string();
        if parts.next().is_some() {
            return Err((
                format!("\"{item}\" has more than page|tag|title"),
                format!("“{item}”多于“页面|标签|标题”三部分"),
            ));
        }
        if address.is_empty() || address.starts_with('/') || address.contains(char::is_whitespace) {
            return Err((
                format!("\"{item}\": the page must be a path of the code such as pages/home/index (no leading /)"),
                format!("“{item}”：页面应为代码中的路径，如 pages/home/index（开头不要 /）"),
            ));
        }
        let tags: Vec<&str> = tag.split(' ').filter(|t| !t.is_empty()).collect();
        if tags.len() > MAX_TAGS || tags.iter().any(|t| t.chars().count() > TAG_CHARS) {
            return Err((
                format!("\"{item}\": at most {MAX_TAGS} tags of at most {TAG_CHARS} characters, separated by spaces"),
                format!("“{item}”：标签最多 {MAX_TAGS} 个，每个最多 {TAG_CHARS} 个字，用空格分隔"),
            ));
        }
        if title.chars().count() > TITLE_CHARS {
            return Err((
                format!("\"{item}\": the title is longer than {TITLE_CHARS} characters"),
                format!("“{item}”：标题超过 {TITLE_CHARS} 个字"),
            ));
        }
        out.push(AuditItem { address, tag, title });
    }
    if out.len() > MAX_ITEMS {
        return Err((
            format!("{} audit items; WeChat takes at most {MAX_ITEMS}", out.len()),
            format!("提审页面 {} 个，最多 {MAX_ITEMS} 个", out.len()),
        ));
    }
    Ok(out)
}

/// A cell: items separated by `;` or `；`.
pub fn parse_cell(cell: &str) -> Result<Vec<AuditItem>, Reason> {
    parse_items(cell.split([';', '；']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_take_a_page_and_optional_tags_and_title() {
        let items = parse_cell("pages/home/index|门店  预约|首页；pages/me/index").unwrap();
        assert_eq!(
            items,
            [
                AuditItem { address: "pages/home/index".into(), tag: "门店 预约".into(), title: "首页".into() },
                AuditItem { address: "pages/me/index".into(), tag: String::new(), title: String::new() },
            ]
        );
    }

    #[test]
    fn limits_are_checked() {
        let err = |cell: &str| parse_cell(cell).unwrap_err().0;
        assert_eq!(
            err("/pages/a"),
            "\"/pages/a\": the page must be a path of the code such as pages/home/index (no leading /)"
        );
        assert_eq!(err("p|t|x|y"), "\"p|t|x|y\" has more than page|tag|title");
        assert_eq!(
            err(&format!("p||{}", "题".repeat(33))),
            format!("\"p||{}\": the title is longer than 32 characters", "题".repeat(33))
        );
        assert_eq!(err("a;b;c;d;e;f"), "6 audit items; WeChat takes at most 5");
        assert_eq!(
            err("p|1 2 3 4 5 6 7 8 9 10 11"),
            "\"p|1 2 3 4 5 6 7 8 9 10 11\": at most 10 tags of at most 20 characters, separated by spaces"
        );
    }
}
