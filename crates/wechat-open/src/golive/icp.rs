//! The ICP filing state (`golive.md` §4), read-only: [`GetIcpEntranceInfo`] (status 6 =
//! filed, the precondition wxprov sets for `release`) and the face-verification task of a
//! filing ([`QueryIcpVerifyTask`]). Both take permission set 18 or 156. Filing itself is out of
//! scope.

use serde::{Deserialize, Serialize};

use crate::api::endpoint;
use crate::lenient::{bool_any, i64_any, string_any, vec_any};

/// `GET /wxa/icp/get_icp_entrance_info` (GET, as WxJava and Senparc send it).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetIcpEntranceInfo {}

/// `status` 6: 已备案.
pub const ICP_FILED: i64 = 6;

/// One field's rejection reason.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IcpAuditData {
    /// The field.
    #[serde(default, deserialize_with = "string_any")]
    pub key_name: String,
    /// What is wrong.
    #[serde(default, deserialize_with = "string_any")]
    pub error: String,
    /// What to do.
    #[serde(default, deserialize_with = "string_any")]
    pub suggest: String,
}

/// The filing state (`info`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IcpInfo {
    /// 2 platform review, 3 rejected there, 4 bureau review, 5 rejected there, 6 filed, 1024–1031
    /// not filed (with what is missing).
    #[serde(default, deserialize_with = "i64_any")]
    pub status: i64,
    /// True while a cancellation runs.
    #[serde(default, deserialize_with = "bool_any")]
    pub is_canceling: bool,
    /// 1 when the filing entrance is open.
    #[serde(default, deserialize_with = "i64_any")]
    pub available: i64,
    /// While status is 4: 1 waiting, 2 verified, 3 timed out.
    #[serde(default, deserialize_with = "i64_any")]
    pub sms_verify_status: i64,
    /// Per-field rejection reasons.
    #[serde(default, deserialize_with = "vec_any")]
    pub audit_data: Vec<IcpAuditData>,
}

impl IcpInfo {
    /// True once filed (status 6).
    pub fn is_filed(&self) -> bool {
        self.status == ICP_FILED
    }

    /// The status in the document's words.
    pub fn describe(&self) -> &'static str {
        match self.status {
            2 => "平台审核中 (in the platform's review)",
            3 => "平台审核驳回 (rejected by the platform)",
            4 => "管局审核中 (in the bureau's review)",
            5 => "管局审核驳回 (rejected by the bureau)",
            6 => "已备案 (filed)",
            1024 => "未备案 (not filed)",
            1025 => "未备案，小程序基本信息未填 (not filed; basic information missing)",
            1026 => "未备案，小程序类目未填 (not filed; categories missing)",
            1027 => "未备案，基本信息与类目均未填 (not filed; basic information and categories missing)",
            1028..=1031 => "未备案，小程序未认证 (not filed; not verified)",
            _ => "unknown filing status",
        }
    }
}

/// The answer of `get_icp_entrance_info`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IcpEntranceInfo {
    /// The filing state.
    #[serde(default)]
    pub info: IcpInfo,
}
endpoint!(GetIcpEntranceInfo, "/wxa/icp/get_icp_entrance_info", Get, Authorizer, false, IcpEntranceInfo);

/// `POST /wxa/icp/query_icp_verifytask`: a face-verification task of a filing.
#[derive(Debug, Clone, Serialize)]
pub struct QueryIcpVerifyTask {
    /// The task.
    pub task_id: String,
}

/// The answer of `query_icp_verifytask`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IcpVerifyTask {
    /// True once the task is over (then `face_status` is final).
    #[serde(default, deserialize_with = "bool_any")]
    pub is_finish: bool,
    /// 0 not started, 1 waiting, 2 failed, 3 succeeded.
    #[serde(default, deserialize_with = "i64_any")]
    pub face_status: i64,
    /// 9 when the SMS check passed (a task started with 认证).
    #[serde(default, deserialize_with = "i64_any")]
    pub along_with_auth_result: i64,
}
endpoint!(QueryIcpVerifyTask, "/wxa/icp/query_icp_verifytask", Post, Authorizer, false, IcpVerifyTask);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golive::loopback::exchange;

    #[tokio::test]
    async fn get_icp_entrance_info_is_a_get() {
        let (answer, sent) = exchange(
            &GetIcpEntranceInfo {},
            r#"{ "errcode": 0, "errmsg": "ok",
              "info": { "status": 4, "is_canceling": false, "available": 1, "sms_verify_status": 1, "audit_data": [] } }"#,
        )
        .await;
        sent.is("GET", "/wxa/icp/get_icp_entrance_info?access_token=TOKEN", "");
        let info = answer.unwrap().info;
        assert_eq!((info.status, info.available, info.sms_verify_status), (4, 1, 1));
        assert!(!info.is_filed() && !info.is_canceling);
        assert_eq!(info.describe(), "管局审核中 (in the bureau's review)");
        let filed: IcpEntranceInfo = serde_json::from_str(
            r#"{"errcode":0,"info":{"status":"6","is_canceling":0,"audit_data":[{"key_name":"负责人","error":"照片模糊","suggest":"重拍"}]}}"#,
        )
        .unwrap();
        assert!(filed.info.is_filed());
        assert_eq!(filed.info.audit_data[0].suggest, "重拍");
        assert_eq!(
            IcpInfo { status: 1029, ..Default::default() }.describe(),
            "未备案，小程序未认证 (not filed; not verified)"
        );
    }

    #[tokio::test]
    async fn query_icp_verifytask_posts_the_task() {
        let (answer, sent) = exchange(
            &QueryIcpVerifyTask { task_id: "t-1".into() },
            r#"{"errcode":0,"errmsg":"ok","is_finish":true,"face_status":3,"along_with_auth_result":9}"#,
        )
        .await;
        sent.is("POST", "/wxa/icp/query_icp_verifytask?access_token=TOKEN", r#"{"task_id":"t-1"}"#);
        let task = answer.unwrap();
        assert_eq!((task.is_finish, task.face_status, task.along_with_auth_result), (true, 3, 9));
    }
}
