//! The `categories` cell: its grammar, and resolving it against WeChat's category tree.
//!
//! Ops staff write categories by id (`8/39`) or by the names they see in the admin console
//! (`教育/出国移民`), with the certificates a sensitive category needs. Names only mean
//! something against the tree `getallcategories` returns, so the caller fetches it and hands
//! it in as a [`CategoryTree`]; without one, id pairs pass as written and names are refused.
//!
//! Grammar of a cell (whitespace around every token is ignored):
//!
//! ```text
//! cell   := item { ";" item }            empty items (a trailing ";") are ignored
//! item   := [ "-" ] part "/" part [ "[" cert { ";" cert } "]" ]
//! part   := digits                      an id
//!         | text                        a name: no "/", "[", "]", ";"
//! cert   := name "=" path               name may be written with or without 《》
//! ```
//!
//! A `;` inside brackets separates certificates, not items. A leading `-` removes the
//! category and takes no certificates. Both parts of an item are ids or both are names.
//! Full-width `；`, `／`, `［`, `］` and `＝` are read as their ASCII forms. A certificate path
//! cannot contain `;`, `]` or `=`.

use std::collections::HashMap;

use wechat_open::api::{AllCategories, Category};

/// What validation knows of WeChat's category tree.
#[derive(Debug, Clone, Copy)]
pub enum Tree<'t> {
    /// Fetched: names resolve, ids and certificates are checked against it.
    Known(&'t CategoryTree),
    /// Not asked for: ids are taken as written, names are refused (write ids instead).
    Absent,
    /// Asked for but not readable (no token to read it with, WeChat did not answer): ids are
    /// taken as written, names are kept unresolved and the row's `categories` step waits for
    /// the tree — a cause outside the sheet, not the cell's fault.
    Unreadable,
}

impl<'t> Tree<'t> {
    /// The tree, when there is one.
    pub fn known(self) -> Option<&'t CategoryTree> {
        match self {
            Tree::Known(tree) => Some(tree),
            Tree::Absent | Tree::Unreadable => None,
        }
    }
}

impl<'t> From<Option<&'t CategoryTree>> for Tree<'t> {
    fn from(tree: Option<&'t CategoryTree>) -> Tree<'t> {
        tree.map_or(Tree::Absent, Tree::Known)
    }
}

/// WeChat's category tree, indexed for resolving names.
#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    by_id: HashMap<i64, Category>,
    by_name: HashMap<(String, String), (i64, i64)>,
}

impl CategoryTree {
    pub fn new(categories: Vec<Category>) -> CategoryTree {
        let by_id: HashMap<i64, Category> = categories.into_iter().map(|c| (c.id, c)).collect();
        let mut by_name = HashMap::new();
        for c in by_id.values() {
            if let Some(parent) = by_id.get(&c.father).filter(|_| c.father != 0) {
                by_name.insert((parent.name.trim().to_string(), c.name.trim().to_string()), (parent.id, c.id));
            }
        }
        CategoryTree { by_id, by_name }
    }

    /// Parses a `getallcategories` response (or just its `categories` array).
    pub fn from_json(json: &str) -> Result<CategoryTree, serde_json::Error> {
        if json.trim_start().starts_with('[') {
            return Ok(CategoryTree::new(serde_json::from_str(json)?));
        }
        let all: AllCategories = serde_json::from_str(json)?;
        Ok(CategoryTree::new(all.into_tree().unwrap_or_default()))
    }

    pub fn get(&self, id: i64) -> Option<&Category> {
        self.by_id.get(&id)
    }

    /// The id pair of `first/second` by names.
    pub fn find(&self, first: &str, second: &str) -> Option<(i64, i64)> {
        self.by_name.get(&(first.to_string(), second.to_string())).copied()
    }

    /// The `first/second` name pair closest to what was written, if one is close enough to
    /// be what was meant.
    pub fn suggest(&self, first: &str, second: &str) -> Option<String> {
        let wanted = format!("{first}/{second}");
        let budget = (wanted.chars().count() / 3).max(1);
        self.by_name
            .keys()
            .filter_map(|(f, s)| {
                let candidate = format!("{f}/{s}");
                let distance = levenshtein(&wanted, &candidate);
                let close = s == second
                    || distance <= budget
                    || (!second.is_empty() && (s.contains(second) || second.contains(s.as_str())));
                close.then_some((s != second, distance, candidate))
            })
            .min()
            .map(|(_, _, candidate)| candidate)
    }
}

/// Edit distance in characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != *cb)).min(row[j] + 1).min(up + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// One item of a `categories` cell, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryItem {
    pub remove: bool,
    pub first: String,
    pub second: String,
    /// `(name, path)` as written.
    pub certificates: Vec<(String, String)>,
}

/// Why a `categories` cell does not parse; `(en, zh)`.
pub type Reason = (String, String);

fn normalize_punctuation(cell: &str) -> String {
    cell.chars()
        .map(|c| match c {
            '；' => ';',
            '／' => '/',
            '［' => '[',
            '］' => ']',
            '＝' => '=',
            other => other,
        })
        .collect()
}

/// Splits a cell into items by `;` outside brackets.
pub fn parse_cell(cell: &str) -> Result<Vec<CategoryItem>, Reason> {
    let cell = normalize_punctuation(cell);
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in cell.char_indices() {
        match c {
            '[' => {
                depth += 1;
                if depth > 1 {
                    return Err(("brackets inside brackets".into(), "方括号不能嵌套".into()));
                }
            }
            ']' => {
                if depth == 0 {
                    return Err(("a \"]\" without its \"[\"".into(), "多余的“]”".into()));
                }
                depth -= 1;
            }
            ';' if depth == 0 => {
                items.push(&cell[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(("a \"[\" is never closed with \"]\"".into(), "“[”没有对应的“]”".into()));
    }
    items.push(&cell[start..]);
    let items: Vec<&str> = items.into_iter().map(str::trim).filter(|s| !s.is_empty()).collect();
    for item in &items {
        wrong_separator(item)?;
    }
    items.into_iter().map(parse_item).collect()
}

/// What ops staff put between categories instead of `;`.
const NOT_SEPARATORS: [char; 3] = ['，', '、', ','];

/// Refuses an item that is several categories joined by `，`, `、` or `,` (outside brackets),
/// saying how to write it. A `、` inside one category's name is left alone.
fn wrong_separator(item: &str) -> Result<(), Reason> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    let mut used = None;
    for (i, c) in item.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 && NOT_SEPARATORS.contains(&c) => {
                parts.push(item[start..i].trim());
                start = i + c.len_utf8();
                used.get_or_insert(c);
            }
            _ => {}
        }
    }
    parts.push(item[start..].trim());
    let Some(used) = used else { return Ok(()) };
    if parts.iter().any(|p| !p.contains('/')) {
        return Ok(());
    }
    let fixed = parts.join(";");
    Err((
        format!("\"{item}\" is several categories separated by \"{used}\"; separate categories with \";\" (or \"；\"): {fixed}"),
        format!("“{item}”是用“{used}”分隔的多个类目；多个类目之间请用“;”（或“；”）分隔：{fixed}"),
    ))
}

fn parse_item(item: &str) -> Result<CategoryItem, Reason> {
    let (remove, rest) = match item.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, item),
    };
    let (pair, certs) = match rest.find('[') {
        Some(open) => {
            let close = rest.rfind(']').unwrap_or(rest.len());
            if !rest[close..].trim_start_matches(']').trim().is_empty() {
                return Err((format!("\"{item}\" has text after its \"]\""), format!("“{item}”的“]”后面不能再有内容")));
            }
            (&rest[..open], Some(&rest[open + 1..close]))
        }
        None => (rest, None),
    };
    let Some((first, second)) = pair.split_once('/') else {
        return Err((
            format!("\"{item}\" is not first/second (e.g. 8/39 or 教育/出国移民)"),
            format!("“{item}”应写成“一级类目/二级类目”，例如 8/39 或 教育/出国移民"),
        ));
    };
    let (first, second) = (first.trim(), second.trim());
    if first.is_empty() || second.is_empty() || second.contains('/') {
        return Err((
            format!("\"{item}\" is not first/second (e.g. 8/39 or 教育/出国移民)"),
            format!("“{item}”应写成“一级类目/二级类目”，例如 8/39 或 教育/出国移民"),
        ));
    }
    let mut certificates = Vec::new();
    if let Some(certs) = certs {
        for cert in certs.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((name, path)) = cert.split_once('=') else {
                return Err((
                    format!("certificate \"{cert}\" is not name=path"),
                    format!("资质“{cert}”应写成“资质名称=图片路径”"),
                ));
            };
            let (name, path) = (name.trim(), path.trim());
            if name.is_empty() || path.is_empty() || path.contains('=') {
                return Err((
                    format!("certificate \"{cert}\" is not name=path"),
                    format!("资质“{cert}”应写成“资质名称=图片路径”"),
                ));
            }
            certificates.push((name.to_string(), path.to_string()));
        }
        if certificates.is_empty() {
            return Err((format!("\"{item}\" has empty brackets"), format!("“{item}”的方括号里没有资质")));
        }
    }
    if remove && !certificates.is_empty() {
        return Err((
            format!("\"{item}\" removes a category, which takes no certificates"),
            format!("“{item}”是删除类目，不需要资质"),
        ));
    }
    Ok(CategoryItem { remove, first: first.to_string(), second: second.to_string(), certificates })
}

/// A certificate name as compared: no whitespace, no 《》, no colons.
fn cert_key(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace() && !matches!(c, '《' | '》' | ':' | '：')).collect()
}

/// The tree's certificate name that `written` stands for: equal once normalized, or the
/// `《…》` title inside a longer name ("有资质证件：《互联网新闻信息服务许可证》").
pub fn match_certificate<'a>(written: &str, names: &[&'a str]) -> Option<&'a str> {
    let key = cert_key(written);
    if key.is_empty() {
        return None;
    }
    names
        .iter()
        .find(|n| cert_key(n) == key)
        .or_else(|| names.iter().find(|n| key.chars().count() >= 2 && cert_key(n).contains(&key)))
        .copied()
}

impl CategoryItem {
    /// The id pair this item names: ids as written (checked against the tree when there is
    /// one), names looked up in the tree; `None` for names while the tree is unreadable.
    pub fn resolve(&self, tree: Tree<'_>) -> Result<Option<(i64, i64)>, Reason> {
        let ids = (self.first.parse::<i64>(), self.second.parse::<i64>());
        let written = format!("{}/{}", self.first, self.second);
        match ids {
            (Ok(first), Ok(second)) => {
                if first <= 0 || second <= 0 {
                    return Err((
                        format!("\"{written}\": category ids are positive numbers"),
                        format!("“{written}”：类目 ID 必须是正整数"),
                    ));
                }
                let Some(tree) = tree.known() else {
                    return Ok(Some((first, second)));
                };
                match tree.get(second) {
                    Some(c) if c.father == first => Ok(Some((first, second))),
                    Some(c) => Err((
                        format!(
                            "\"{written}\": category {second} ({}) is not under {first}; it is under {}",
                            c.name, c.father
                        ),
                        format!("“{written}”：类目 {second}（{}）不属于一级类目 {first}，而属于 {}", c.name, c.father),
                    )),
                    None => Err((
                        format!("\"{written}\": there is no category {second}"),
                        format!("“{written}”：类目 {second} 不存在"),
                    )),
                }
            }
            (Err(_), Err(_)) => {
                let tree = match tree {
                    Tree::Known(tree) => tree,
                    Tree::Unreadable => return Ok(None),
                    Tree::Absent => return Err((
                        format!("\"{written}\": category names need the category tree; write ids (e.g. 8/39) or let wxprov fetch the tree"),
                        format!("“{written}”：按名称填写类目需要类目列表；请改填类目 ID（如 8/39）"),
                    )),
                };
                if let Some(pair) = tree.find(&self.first, &self.second) {
                    return Ok(Some(pair));
                }
                let hint_en = tree.suggest(&self.first, &self.second).map(|s| format!("; did you mean \"{s}\"?"));
                let hint_zh = tree.suggest(&self.first, &self.second).map(|s| format!("；是不是“{s}”？"));
                Err((
                    format!("\"{written}\" is not a category{}", hint_en.unwrap_or_default()),
                    format!("类目“{written}”不存在{}", hint_zh.unwrap_or_default()),
                ))
            }
            _ => Err((
                format!("\"{written}\" mixes an id and a name; write both as ids or both as names"),
                format!("“{written}”混用了 ID 和名称；请都写 ID 或都写名称"),
            )),
        }
    }
}

/// Writes `items` back as a cell in the grammar above (its plain ASCII spelling), each
/// certificate path passed through `path`: how failed.csv rewrites certificate paths so that
/// they resolve from the report folder. `parse_cell` of the result gives `items` back.
pub fn write_cell(items: &[CategoryItem], mut path: impl FnMut(&str) -> String) -> String {
    let written: Vec<String> = items
        .iter()
        .map(|item| {
            let mut text = format!("{}{}/{}", if item.remove { "-" } else { "" }, item.first, item.second);
            if !item.certificates.is_empty() {
                let certs: Vec<String> =
                    item.certificates.iter().map(|(name, p)| format!("{name}={}", path(p))).collect();
                text.push_str(&format!("[{}]", certs.join(";")));
            }
            text
        })
        .collect();
    written.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_written_back_parses_to_the_same_items_with_its_paths_rewritten() {
        let cell = "教育／出国移民［《因私出入境中介机构经营许可证》＝certs/visa.jpg；其他=a b.png］； -287/288 ;8/42";
        let items = parse_cell(cell).unwrap();
        let back = write_cell(&items, |p| format!("../{p}"));
        assert_eq!(
            back,
            "教育/出国移民[《因私出入境中介机构经营许可证》=../certs/visa.jpg;其他=../a b.png];-287/288;8/42"
        );
        let again = parse_cell(&back).unwrap();
        assert_eq!(again[0].certificates[0].1, "../certs/visa.jpg");
        assert_eq!(write_cell(&again, str::to_string), back);
    }

    fn tree() -> CategoryTree {
        let json =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/categories.json")).unwrap();
        CategoryTree::from_json(&json).unwrap()
    }

    #[test]
    fn splits_items_outside_brackets_only() {
        let items =
            parse_cell("8/39[《因私出入境中介机构经营许可证》=a.jpg; 其他=b.jpg]; -287/612 ;工具/办公;").unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].certificates.len(), 2);
        assert!(items[1].remove);
        assert_eq!((items[2].first.as_str(), items[2].second.as_str()), ("工具", "办公"));
    }

    #[test]
    fn rejects_malformed_cells() {
        assert!(parse_cell("8/39[a=b").is_err());
        assert!(parse_cell("8").is_err());
        assert!(parse_cell("-8/39[a=b.jpg]").is_err());
        assert!(parse_cell("8/39[a]").is_err());
    }

    #[test]
    fn commas_between_categories_say_to_use_semicolons() {
        let (en, zh) = parse_cell("工具/计算器，教育/出国移民").unwrap_err();
        assert_eq!(
            en,
            "\"工具/计算器，教育/出国移民\" is several categories separated by \"，\"; separate categories with \";\" (or \"；\"): 工具/计算器;教育/出国移民"
        );
        assert!(zh.contains("请用“;”"), "{zh}");
        assert!(parse_cell("287/612、8/39[《因私出入境中介机构经营许可证》=a.jpg]")
            .unwrap_err()
            .0
            .contains("287/612;8/39["));
        assert!(parse_cell("287/612, 8/40").unwrap_err().0.contains("287/612;8/40"));
        // The full-width semicolon is a separator; a 、 inside a name is not one.
        assert_eq!(parse_cell("287/612；8/40").unwrap().len(), 2);
        assert_eq!(parse_cell("医疗/药品、器械").unwrap()[0].second, "药品、器械");
    }

    #[test]
    fn resolves_names_and_suggests() {
        let t = tree();
        let known = Tree::Known(&t);
        assert_eq!(parse_cell("教育/出国移民").unwrap()[0].resolve(known), Ok(Some((8, 39))));
        let (en, _) = parse_cell("工具/家政").unwrap()[0].resolve(known).unwrap_err();
        assert!(en.contains("生活服务/家政"), "{en}");
        let (en, _) = parse_cell("工具/计算").unwrap()[0].resolve(known).unwrap_err();
        assert!(en.contains("工具/计算器"), "{en}");
        assert!(parse_cell("8/612").unwrap()[0].resolve(known).is_err());
        for unknown in [Tree::Absent, Tree::Unreadable] {
            assert_eq!(parse_cell("8/612").unwrap()[0].resolve(unknown), Ok(Some((8, 612))));
        }
        assert!(parse_cell("教育/出国移民").unwrap()[0].resolve(Tree::Absent).is_err());
        // Unreadable: the name waits for the tree rather than being refused.
        assert_eq!(parse_cell("教育/出国移民").unwrap()[0].resolve(Tree::Unreadable), Ok(None));
        assert!(parse_cell("教育/8").unwrap()[0].resolve(Tree::Unreadable).is_err());
    }

    #[test]
    fn matches_certificates_loosely() {
        let names = ["有资质证件：《互联网新闻信息服务许可证》", "无资质：ICP 备案和《组织机构代码证》"];
        assert_eq!(match_certificate("《互联网新闻信息服务许可证》", &names), Some(names[0]));
        assert_eq!(match_certificate("ICP备案和《组织机构代码证》", &names), Some(names[1]));
        assert_eq!(match_certificate("营业执照", &names), None);
    }
}
