//! The record of every API call the simulator received, served at `GET /__sim/calls`.
//!
//! Tests read it to check what the client sent, in what order, and whether a call took
//! effect. It must never hold a credential, since tests also check that no issued token
//! leaks anywhere: request bodies are stored with every secret-looking field replaced by
//! `***`, and the query string (which carries the access token) is not stored at all.

use serde::Serialize;
use serde_json::Value;

/// One API call as received.
#[derive(Debug, Clone, Serialize)]
pub(super) struct CallRecord {
    pub seq: u64,
    /// Unix time in milliseconds when the call arrived.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    /// The appid the call acted on, from its authorizer token; null for component calls or
    /// when the token was not valid.
    pub appid: Option<String>,
    /// The request body, redacted.
    pub body: Value,
    /// 0 on success; null when the client got no JSON answer (HTTP fault, dropped connection).
    pub errcode: Option<i64>,
    /// The HTTP status sent; null when the connection was dropped.
    pub http_status: Option<u16>,
    /// The injected fault's kind, if any.
    pub fault: Option<&'static str>,
    /// True when the call changed business state (token issuance does not count).
    pub effect: bool,
}

/// The call log.
#[derive(Debug, Default)]
pub(super) struct CallLog {
    next_seq: u64,
    pub calls: Vec<CallRecord>,
}

impl CallLog {
    /// Appends a record, numbering it.
    pub(super) fn push(&mut self, mut rec: CallRecord) {
        self.next_seq += 1;
        rec.seq = self.next_seq;
        self.calls.push(rec);
    }

    /// Forgets every call (numbering continues).
    pub(super) fn clear(&mut self) {
        self.calls.clear();
    }
}

/// Is a JSON field with this name a credential?
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("token") || k.contains("secret") || k.contains("ticket") || k == "authorization_code"
}

/// A copy of `v` with every credential field's value replaced by `"***"`.
pub(super) fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) { Value::String("***".into()) } else { redact(v) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_nested_credentials() {
        let v = json!({"component_appsecret":"s","component_verify_ticket":"t","ticket":"x",
            "component_appid":"wxc","list":[{"authorizer_refresh_token":"r","n":1}]});
        assert_eq!(
            redact(&v),
            json!({"component_appsecret":"***","component_verify_ticket":"***","ticket":"***",
                "component_appid":"wxc","list":[{"authorizer_refresh_token":"***","n":1}]})
        );
    }
}
