//! Steps (DESIGN §4) and their input hashes.
//!
//! The ledger decides whether a step runs again by comparing input hashes, so a hash must
//! depend on what the step would send and nothing else: the step's kind, its normalized
//! inputs and the SHA-256 of every file it reads — never a file path, a line number, the
//! file's encoding or whether it was a CSV or an `.xlsx`. The canonical form is a JSON
//! object with a fixed field order (declaration order of the structs below) and a version
//! field; its SHA-256 in lower-case hex is the hash. Changing the form changes every hash,
//! which makes every step run again: bump `FORMAT` only deliberately.

use serde::Serialize;

use crate::image::sha256_hex;

use super::row::Row;
pub use crate::lifecycle::StepKind;

/// The version of the canonical form, part of every hashed object.
const FORMAT: u32 = 1;

/// A step a row asks for, with the hash of its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    /// Lower-case hex SHA-256 of the step's canonical input.
    pub input_hash: String,
}

#[derive(Serialize)]
struct Canonical<'a, T: Serialize> {
    v: u32,
    step: &'a str,
    input: T,
}

fn step<T: Serialize>(kind: StepKind, input: T) -> Step {
    Step { kind, input_hash: input_hash(kind.as_str(), input) }
}

/// The input hash of the step named `step` (the go-live stages are hashed by it too).
pub fn input_hash<T: Serialize>(step: &str, input: T) -> String {
    let canonical = Canonical { v: FORMAT, step, input };
    // Serializing plain structs of strings and numbers cannot fail.
    let json = serde_json::to_vec(&canonical).unwrap_or_default();
    sha256_hex(&json)
}

#[derive(Serialize)]
struct RegisterInput<'a> {
    official_appid: &'a str,
    copy_wx_verify: bool,
    ticket: &'a str,
}

#[derive(Serialize)]
struct NicknameInput<'a> {
    nickname: &'a str,
    license: Option<&'a str>,
    id_card: Option<&'a str>,
    materials: Vec<&'a str>,
}

#[derive(Serialize)]
struct AvatarInput<'a> {
    image: &'a str,
    crop: String,
}

#[derive(Serialize)]
struct SignatureInput<'a> {
    signature: &'a str,
}

#[derive(Serialize)]
struct CertificateInput<'a> {
    name: &'a str,
    image: &'a str,
}

#[derive(Serialize)]
struct AddInput<'a> {
    first: i64,
    second: i64,
    certificates: Vec<CertificateInput<'a>>,
}

#[derive(Serialize)]
struct CategoriesInput<'a> {
    add: Vec<AddInput<'a>>,
    remove: Vec<(i64, i64)>,
    /// Left out when empty, so that hashes from before it existed stay the same.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    unresolved: &'a [String],
}

#[derive(Serialize)]
struct RebindInput<'a> {
    appid: &'a str,
    taskid: &'a str,
}

/// The steps `row` asks for, in run order, with their input hashes.
pub fn steps_for(row: &Row) -> Vec<Step> {
    let mut steps = Vec::new();
    if row.appid.is_none() {
        steps.push(step(
            StepKind::Register,
            RegisterInput {
                official_appid: row.official_appid.as_deref().unwrap_or_default(),
                copy_wx_verify: row.copy_wx_verify,
                ticket: row.ticket.as_deref().unwrap_or_default(),
            },
        ));
    }
    if let Some(n) = &row.nickname {
        steps.push(step(
            StepKind::Nickname,
            NicknameInput {
                nickname: &n.nickname,
                license: n.license.as_ref().map(|i| i.sha256.as_str()),
                id_card: n.id_card.as_ref().map(|i| i.sha256.as_str()),
                materials: n.materials.iter().map(|i| i.sha256.as_str()).collect(),
            },
        ));
    }
    if let Some(a) = &row.avatar {
        steps.push(step(StepKind::Avatar, AvatarInput { image: &a.image.sha256, crop: a.crop.normalized() }));
    }
    if let Some(s) = &row.signature {
        steps.push(step(StepKind::Signature, SignatureInput { signature: s }));
    }
    if let Some(c) = &row.categories {
        let mut add: Vec<AddInput> = c
            .add
            .iter()
            .map(|a| {
                let mut certificates: Vec<CertificateInput> = a
                    .certificates
                    .iter()
                    .map(|cert| CertificateInput { name: &cert.name, image: &cert.image.sha256 })
                    .collect();
                certificates.sort_by(|x, y| (x.name, x.image).cmp(&(y.name, y.image)));
                AddInput { first: a.first, second: a.second, certificates }
            })
            .collect();
        add.sort_by_key(|a| (a.first, a.second));
        let mut remove = c.remove.clone();
        remove.sort_unstable();
        steps.push(step(StepKind::Categories, CategoriesInput { add, remove, unresolved: &c.unresolved }));
    }
    if let Some(r) = &row.rebind {
        steps.push(step(
            StepKind::RebindAdmin,
            RebindInput {
                appid: row.appid.as_deref().unwrap_or_default(),
                taskid: r.taskid.as_deref().unwrap_or_default(),
            },
        ));
    }
    if let Some(golive) = &row.golive {
        steps.extend(golive.steps.iter().cloned());
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_designs() {
        let names: Vec<&str> = StepKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "register",
                "nickname",
                "avatar",
                "signature",
                "categories",
                "rebind_admin",
                "domains",
                "code",
                "privacy",
                "audit",
                "release"
            ]
        );
    }

    #[test]
    fn hash_is_pinned() {
        // A change here changes every ledger's hashes: every step would run again.
        let s = step(StepKind::Signature, SignatureInput { signature: "提供好玩的服务。" });
        let json = r#"{"v":1,"step":"signature","input":{"signature":"提供好玩的服务。"}}"#;
        assert_eq!(s.input_hash, sha256_hex(json.as_bytes()));
    }
}
