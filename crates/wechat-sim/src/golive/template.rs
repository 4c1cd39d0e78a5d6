//! The platform's code template library (`gettemplatelist`, golive.md §3.1): what `commit`
//! can upload. Templates come from the fixture and from `POST /__sim/template`.

use serde_json::{json, Value};

use super::rules::Template;
use crate::api::{err, ok, Ctx, Reply};
use crate::state::State;

/// A template id as the configured shape answers it: a number (live, new doc) or a string.
pub(crate) fn template_id_value(st: &State, id: i64) -> Value {
    if st.golive.config.shapes.template_id_as_string {
        json!(id.to_string())
    } else {
        json!(id)
    }
}

/// `gettemplatelist`: every template, or those of `template_type` (query, 0 or 1).
pub(crate) fn list(st: &mut State, ctx: &Ctx) -> Reply {
    let wanted = match ctx.query.get("template_type").map(String::as_str) {
        None | Some("") => None,
        Some(t) => Some(t.parse::<i64>().map_err(|_| err(40097, "invalid args: template_type"))?),
    };
    let list: Vec<Value> = st
        .golive
        .config
        .templates
        .iter()
        .filter(|t| wanted.is_none_or(|w| w == t.template_type))
        .map(|t| {
            json!({
                "template_id": template_id_value(st, t.template_id),
                "user_version": t.user_version,
                "user_desc": t.user_desc,
                "create_time": t.create_time,
                "draft_id": t.draft_id,
                "template_type": t.template_type,
                "source_miniprogram_appid": t.source_miniprogram_appid,
                "source_miniprogram": t.source_miniprogram,
                "developer": t.developer,
            })
        })
        .collect();
    ok(json!({ "template_list": list }))
}

/// The template `id`, if the library has it.
pub(crate) fn find(st: &State, id: i64) -> Option<&Template> {
    st.golive.config.templates.iter().find(|t| t.template_id == id)
}

/// Adds `t` to the library, replacing a template of the same id. The library holds at most
/// 200 (golive.md §3.1: `addtotemplate` answers 85065 beyond).
pub(crate) fn put(st: &mut State, t: Template) -> Result<(), String> {
    if t.pages.is_empty() {
        return Err(format!("template {} has no pages", t.template_id));
    }
    let templates = &mut st.golive.config.templates;
    let full = templates.len() >= 200;
    match templates.iter_mut().find(|x| x.template_id == t.template_id) {
        Some(slot) => *slot = t,
        None if full => return Err("the template library is full (200, 85065)".into()),
        None => templates.push(t),
    }
    Ok(())
}
