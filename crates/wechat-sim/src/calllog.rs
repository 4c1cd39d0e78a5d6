//! The record of every API call the simulator received, served at `GET /__sim/calls`.
//!
//! Tests read it to check what the client sent, in what order, and whether a call took
//! effect. It must never hold a credential, since tests also check that no issued token
//! leaks anywhere: request bodies are stored with every secret-looking field replaced by
//! `***`, and the query string (which carries the access token) is not stored at all.
//!
//! A benchmark sends it millions of calls, so a record is kept compact (the body as its JSON
//! text, the path shared with every call to it) and the log grows in fixed-size blocks: a
//! block, once full, is never moved again, so the log never copies itself while a handler
//! waits for its lock, and `GET /__sim/calls` takes the blocks (not a copy of them) and
//! writes the answer after letting the lock go.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// One API call as received.
#[derive(Debug, Clone, Serialize)]
pub(super) struct CallRecord {
    pub seq: u64,
    /// Unix time in milliseconds when the call arrived.
    pub at_ms: u64,
    pub method: &'static str,
    pub path: Arc<str>,
    /// The appid the call acted on, from its authorizer token; null for component calls or
    /// when the token was not valid.
    pub appid: Option<Box<str>>,
    /// The request body, redacted, as JSON text.
    pub body: Box<RawValue>,
    /// 0 on success; null when the client got no JSON answer (HTTP fault, dropped connection).
    pub errcode: Option<i64>,
    /// The HTTP status sent; null when the connection was dropped.
    pub http_status: Option<u16>,
    /// The injected fault's kind, if any.
    pub fault: Option<&'static str>,
    /// True when the call changed business state (token issuance does not count).
    pub effect: bool,
}

/// Records in one block of the log.
const BLOCK: usize = 4096;

/// The call log.
#[derive(Debug, Default)]
pub(super) struct CallLog {
    next_seq: u64,
    /// Full blocks, oldest first.
    full: Vec<Arc<[CallRecord]>>,
    /// The block being filled (at most [`BLOCK`] records).
    open: Vec<CallRecord>,
    /// Every path called, shared by its records.
    paths: HashSet<Arc<str>>,
}

/// The log as it was when [`CallLog::snapshot`] took it, to be written without the lock.
pub(super) struct Snapshot {
    full: Vec<Arc<[CallRecord]>>,
    open: Vec<CallRecord>,
}

impl Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.full.iter().flat_map(|b| b.iter()).chain(&self.open))
    }
}

impl CallLog {
    /// The shared copy of `path`.
    pub(super) fn path(&mut self, path: &str) -> Arc<str> {
        if let Some(p) = self.paths.get(path) {
            return p.clone();
        }
        let p: Arc<str> = path.into();
        self.paths.insert(p.clone());
        p
    }

    /// Appends a record, numbering it.
    pub(super) fn push(&mut self, mut rec: CallRecord) {
        self.next_seq += 1;
        rec.seq = self.next_seq;
        if self.open.capacity() == 0 {
            self.open.reserve_exact(BLOCK);
        }
        self.open.push(rec);
        if self.open.len() == BLOCK {
            self.full.push(std::mem::take(&mut self.open).into());
        }
    }

    /// Forgets every call (numbering continues).
    pub(super) fn clear(&mut self) {
        self.full.clear();
        self.open.clear();
    }

    /// Every record so far: the full blocks shared, the open one copied.
    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot { full: self.full.clone(), open: self.open.clone() }
    }
}

/// `body` as the JSON text a record keeps.
pub(super) fn raw(body: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(body)
        .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"))
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
