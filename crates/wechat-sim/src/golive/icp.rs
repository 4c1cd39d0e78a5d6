//! The ICP filing state (`get_icp_entrance_info`, golive.md §4.1): read-only here. Each
//! mini-program's status is the fixture's `golive.icp` entry, else `golive.icp_status`
//! (6 = filed); `POST /__sim/icp {appid, status}` changes it. `sms_verify_status` is given
//! while the status is 4 (1, waiting); a rejection (3 or 5) carries one `audit_data` item.
//! `query_icp_verifytask {task_id}` answers every task finished with the face check passed
//! (`is_finish` true, `face_status` 3) [assumed: filing itself is not simulated]; no `task_id`
//! 47001.

use serde_json::json;

use super::app;
use crate::api::{err, ok, Ctx, Reply};
use crate::state::State;

/// `get_icp_entrance_info`.
pub(crate) fn entrance_info(st: &mut State, ctx: &Ctx) -> Reply {
    let appid = app(st, ctx)?.appid.clone();
    let status = st.golive.config.icp_of(&appid);
    let mut info = json!({ "status": status, "is_canceling": false, "available": 1, "audit_data": [] });
    if status == 4 {
        info["sms_verify_status"] = json!(1);
    }
    if status == 3 || status == 5 {
        info["audit_data"] =
            json!([{ "key_name": "小程序名称", "error": "名称与主体不符", "suggest": "请修改小程序名称后重新提交" }]);
    }
    ok(json!({ "info": info }))
}

/// `query_icp_verifytask`.
pub(crate) fn verify_task(st: &mut State, ctx: &Ctx) -> Reply {
    app(st, ctx)?;
    if ctx.str("task_id").is_none_or(|t| t.trim().is_empty()) {
        return Err(err(47001, "data format error: task_id is required"));
    }
    ok(json!({ "is_finish": true, "face_status": 3 }))
}
