//! Keeping the simulator's world in a file between processes ([`super::SimOptions::state_file`]).
//!
//! wxprov's ledger outlives a process; with a state file, so does the simulator's world, and a
//! later run finds the audits, tokens and mini-programs an earlier one left. The file holds
//! everything a later run could refer to: accounts, mini-programs (with their categories and
//! counters), access tokens (with their wall-clock expiry, so a token issued an hour before
//! still expires at the same moment), refresh tokens, authorization codes, tickets, rebind
//! tasks, audits, media, path quotas, the verify ticket, the next audit id, the go-live world
//! (each mini-program's trial version, guide, domains and releases; the templates, the audit
//! pool, the code audits and the go-live settings as control calls left them) and a seed for
//! the id generator. The fixture still supplies the platform's appid and secret, the category
//! tree and the rules (but for go-live's, which the file keeps); the call log and scheduled faults belong to one process only.
//!
//! Writes are atomic (a temporary file in the same folder, then a rename) and private (mode
//! 0600: the file holds simulated credentials). A write happens after any request that left the
//! state different from what the file holds, compared on the serialized bytes so that no
//! handler has to declare its changes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::state::{
    AccessToken, AuthCode, Media, MiniProgram, NicknameAuditRec, OfficialAccount, PathQuota, RebindTask, RefreshToken,
    State, Ticket,
};
use super::{lock, Error};

/// The file format's version; a file with another one is refused.
const FORMAT: u32 = 1;

/// The persisted part of [`State`]: what the file holds.
#[derive(Serialize, Deserialize)]
pub(super) struct Snapshot {
    format: u32,
    component_appid: String,
    verify_ticket: String,
    old_verify_tickets: Vec<String>,
    official_accounts: BTreeMap<String, OfficialAccount>,
    mini_programs: BTreeMap<String, MiniProgram>,
    access_tokens: BTreeMap<String, AccessToken>,
    refresh_tokens: BTreeMap<String, RefreshToken>,
    auth_codes: BTreeMap<String, AuthCode>,
    tickets: BTreeMap<String, Ticket>,
    rebind_tasks: BTreeMap<String, RebindTask>,
    audits: BTreeMap<i64, NicknameAuditRec>,
    media: BTreeMap<String, Media>,
    quotas: BTreeMap<String, PathQuota>,
    next_audit_id: i64,
    /// Absent from files written before it was kept: the fixture's then stand.
    #[serde(default)]
    func_info: Option<BTreeMap<String, Vec<i64>>>,
    /// Absent from files written before go-live was simulated: the fixture's then stands.
    #[serde(default)]
    golive: Option<super::golive::Golive>,
    /// Seeds the id generator of the next process, so that it does not repeat this one's ids.
    rng_seed: String,
}

impl Snapshot {
    /// A copy of `st`'s persisted part: cheap enough to take under the state lock, so that
    /// serializing it can happen outside.
    pub(super) fn of(st: &State) -> Snapshot {
        // The next seed comes from a copy of the generator: the live one is left untouched,
        // and the seed only changes when the generator has been used (when ids were made).
        let mut seed = <StdRng as SeedableRng>::Seed::default();
        st.rng.clone().fill(&mut seed[..]);
        Snapshot {
            format: FORMAT,
            component_appid: st.component.appid.clone(),
            verify_ticket: st.component.verify_ticket.clone(),
            old_verify_tickets: st.component.old_verify_tickets.clone(),
            official_accounts: st.official_accounts.clone(),
            mini_programs: st.mini_programs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            access_tokens: st.access_tokens.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            refresh_tokens: st.refresh_tokens.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            auth_codes: st.auth_codes.clone(),
            tickets: st.tickets.clone(),
            rebind_tasks: st.rebind_tasks.clone(),
            audits: st.audits.clone(),
            media: st.media.clone(),
            quotas: st.quotas.clone(),
            next_audit_id: st.next_audit_id,
            func_info: Some(st.func_info.clone()),
            golive: Some(st.golive.clone()),
            rng_seed: hex::encode(seed),
        }
    }

    /// The file's bytes.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        // Maps with string or integer keys of plain data: serializing cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// Replaces `st`'s world (built from the fixture) with the one in `bytes`; else says why the
/// bytes are not usable.
fn apply(st: &mut State, bytes: &[u8]) -> Result<(), String> {
    let snap: Snapshot = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if snap.format != FORMAT {
        return Err(format!("it has format {}, this simulator reads format {FORMAT}", snap.format));
    }
    if snap.component_appid != st.component.appid {
        return Err(format!(
            "it belongs to platform {}, the fixture describes platform {}",
            snap.component_appid, st.component.appid
        ));
    }
    let seed: [u8; 32] = hex::decode(&snap.rng_seed)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| "rng_seed is not 64 hex digits".to_string())?;
    st.component.verify_ticket = snap.verify_ticket;
    st.component.old_verify_tickets = snap.old_verify_tickets;
    st.official_accounts = snap.official_accounts;
    st.mini_programs = snap.mini_programs.into_iter().collect();
    st.access_tokens = snap.access_tokens.into_iter().collect();
    st.refresh_tokens = snap.refresh_tokens.into_iter().collect();
    st.auth_codes = snap.auth_codes;
    st.tickets = snap.tickets;
    st.rebind_tasks = snap.rebind_tasks;
    st.audits = snap.audits;
    st.media = snap.media;
    st.quotas = snap.quotas;
    st.next_audit_id = snap.next_audit_id;
    if let Some(func_info) = snap.func_info {
        st.func_info = func_info;
    }
    if let Some(golive) = snap.golive {
        st.golive = golive;
    }
    st.rng = StdRng::from_seed(seed);
    Ok(())
}

/// Loads the file into `st` if it exists. Returns whether it did.
pub(super) fn load(path: &Path, st: &mut State) -> Result<bool, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(Error::StateUnreadable { path: path.to_path_buf(), error }),
    };
    apply(st, &bytes).map_err(|reason| Error::StateUnusable { path: path.to_path_buf(), reason })?;
    Ok(true)
}

/// Where the state goes, and what was last written there.
pub(super) struct Persist {
    path: PathBuf,
    /// Orders snapshots: taken under the state lock, so a higher number is a later state.
    seq: AtomicU64,
    written: Mutex<Written>,
}

#[derive(Default)]
struct Written {
    seq: u64,
    bytes: Vec<u8>,
}

impl Persist {
    pub(super) fn new(path: PathBuf) -> Persist {
        Persist { path, seq: AtomicU64::new(0), written: Mutex::default() }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Copies `st`'s persisted part (call with the state lock held) and numbers the copy.
    pub(super) fn snapshot(&self, st: &State) -> (u64, Snapshot) {
        (self.seq.fetch_add(1, Ordering::Relaxed) + 1, Snapshot::of(st))
    }

    /// Writes snapshot `seq` unless a later one was written or the file already holds it.
    pub(super) fn write(&self, seq: u64, snap: &Snapshot) -> Result<(), Error> {
        let bytes = snap.to_bytes();
        let mut w = lock(&self.written);
        if seq <= w.seq {
            return Ok(());
        }
        w.seq = seq;
        if w.bytes == bytes {
            return Ok(());
        }
        write_atomic(&self.path, &bytes).map_err(|error| Error::StateUnwritable { path: self.path.clone(), error })?;
        w.bytes = bytes;
        Ok(())
    }

    /// Records that the file holds `st` (just loaded from it).
    pub(super) fn mark_written(&self, st: &State) {
        lock(&self.written).bytes = Snapshot::of(st).to_bytes();
    }
}

/// Writes `bytes` to a private temporary file next to `path`, then renames it over `path`.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        // A temporary file left by a crash may have been created with other permissions.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        // No fsync: the rename keeps the file whole if the process dies, which is what a
        // rehearsal needs; surviving a power cut is not worth a disk flush on every call.
        file.write_all(bytes)?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
