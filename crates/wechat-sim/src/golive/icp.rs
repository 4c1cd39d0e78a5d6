//! The ICP filing state (`get_icp_entrance_info`, golive.md §4.1): read-only here. Each
//! mini-program's status is the fixture's `golive.icp` entry, else `golive.icp_status`
//! (6 = filed); `POST /__sim/icp {appid, status}` changes it. `sms_verify_status` is given
//! while the status is 4 (1, waiting); a rejection (3 or 5) carries one `audit_data` item.

use serde_json::json;

use super::app;
use crate::api::{ok, Ctx, Reply};
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
