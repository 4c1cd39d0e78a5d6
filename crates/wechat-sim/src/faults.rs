//! Fault injection: the failures a real network and a busy WeChat produce.
//!
//! Two sources: random faults at `SimOptions::fault_rate` (seeded, so a run can be
//! replayed), and faults scheduled through `POST /__sim/faults` for a path (and optionally an
//! appid), which tests use to put one failure exactly where they want it. A fault either
//! replaces the call (errcode, HTTP status, dropped connection: nothing happens at "WeChat")
//! or follows it (`effect_then_drop`: the call takes full effect, then the connection drops,
//! so the client cannot know it did; `effect_then_errcode`: the call takes full effect, then
//! WeChat answers an errcode as if it had not — as `fastregister` has been seen to answer
//! 61058 or −1 after creating the mini-program).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultKind {
    /// Answer `{"errcode": N}` with HTTP 200, without effect.
    Errcode,
    /// Answer an HTTP error status, without effect.
    Http,
    /// Close the connection without any response, without effect.
    Drop,
    /// Apply the call fully, then close the connection without any response.
    EffectThenDrop,
    /// Apply the call fully, then answer `{"errcode": N}` (default −1) with HTTP 200.
    EffectThenErrcode,
}

impl FaultKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FaultKind::Errcode => "errcode",
            FaultKind::Http => "http",
            FaultKind::Drop => "drop",
            FaultKind::EffectThenDrop => "effect_then_drop",
            FaultKind::EffectThenErrcode => "effect_then_errcode",
        }
    }
}

/// A fault scheduled through `POST /__sim/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduledFault {
    /// The API path it applies to, e.g. `/cgi-bin/account/fastregister`.
    pub path: String,
    pub kind: FaultKind,
    /// For `errcode` and `effect_then_errcode` (default −1).
    #[serde(default)]
    pub errcode: Option<i64>,
    /// For `http` (default 502).
    #[serde(default)]
    pub status: Option<u16>,
    /// How many matching calls fail (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// How many matching calls pass before the first failure (default 0).
    #[serde(default)]
    pub skip: u32,
    /// Only calls acting on this appid match (default: any).
    #[serde(default)]
    pub appid: Option<String>,
}

fn one() -> u32 {
    1
}

/// A fault chosen for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fault {
    pub kind: FaultKind,
    pub errcode: i64,
    pub status: u16,
}

/// The scheduled faults and the random-fault generator.
#[derive(Debug)]
pub(super) struct Faults {
    pub scheduled: Vec<ScheduledFault>,
    rate: f64,
    rng: StdRng,
}

impl Faults {
    pub(super) fn new(rate: f64, seed: Option<u64>) -> Faults {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let rate = if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 };
        Faults { scheduled: Vec::new(), rate, rng }
    }

    /// The fault, if any, for a call to `path` acting on `appid`. Scheduled faults come first;
    /// random ones only where `random_allowed`.
    pub(super) fn decide(&mut self, path: &str, appid: Option<&str>, random_allowed: bool) -> Option<Fault> {
        let matching = self
            .scheduled
            .iter_mut()
            .position(|f| f.path == path && f.appid.as_deref().is_none_or(|a| Some(a) == appid));
        if let Some(i) = matching {
            let f = &mut self.scheduled[i];
            if f.skip > 0 {
                f.skip -= 1;
                return None;
            }
            let fault = Fault { kind: f.kind, errcode: f.errcode.unwrap_or(-1), status: f.status.unwrap_or(502) };
            f.times = f.times.saturating_sub(1);
            if f.times == 0 {
                self.scheduled.remove(i);
            }
            return Some(fault);
        }
        if !random_allowed || self.rate <= 0.0 || !self.rng.gen_bool(self.rate) {
            return None;
        }
        Some(match self.rng.gen_range(0..4) {
            0 => Fault { kind: FaultKind::Errcode, errcode: -1, status: 200 },
            1 => Fault { kind: FaultKind::Errcode, errcode: 45011, status: 200 },
            2 => Fault { kind: FaultKind::Http, errcode: 0, status: 502 },
            _ => Fault { kind: FaultKind::Drop, errcode: 0, status: 0 },
        })
    }

    /// Adds scheduled faults; ones with `times == 0` are ignored.
    pub(super) fn add(&mut self, faults: Vec<ScheduledFault>) {
        self.scheduled.extend(faults.into_iter().filter(|f| f.times > 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(path: &str, skip: u32, times: u32) -> ScheduledFault {
        ScheduledFault {
            path: path.into(),
            kind: FaultKind::Errcode,
            errcode: Some(45011),
            status: None,
            times,
            skip,
            appid: None,
        }
    }

    #[test]
    fn scheduled_faults_skip_then_fire_then_end() {
        let mut f = Faults::new(0.0, Some(1));
        f.add(vec![sched("/p", 1, 2)]);
        assert_eq!(f.decide("/other", None, true), None);
        assert_eq!(f.decide("/p", None, true), None);
        assert_eq!(f.decide("/p", None, true).unwrap().errcode, 45011);
        assert_eq!(f.decide("/p", None, true).unwrap().errcode, 45011);
        assert_eq!(f.decide("/p", None, true), None);
        assert!(f.scheduled.is_empty());
    }

    #[test]
    fn scheduled_faults_can_target_one_appid() {
        let mut f = Faults::new(0.0, Some(1));
        let mut s = sched("/p", 0, 1);
        s.appid = Some("wxa".into());
        f.add(vec![s]);
        assert_eq!(f.decide("/p", Some("wxb"), true), None);
        assert!(f.decide("/p", Some("wxa"), true).is_some());
    }

    #[test]
    fn random_faults_follow_the_rate_and_seed() {
        let mut a = Faults::new(0.5, Some(7));
        let mut b = Faults::new(0.5, Some(7));
        let xs: Vec<_> = (0..200).map(|_| a.decide("/p", None, true)).collect();
        let ys: Vec<_> = (0..200).map(|_| b.decide("/p", None, true)).collect();
        assert_eq!(xs, ys);
        let n = xs.iter().filter(|x| x.is_some()).count();
        assert!((60..140).contains(&n), "{n}");
        let mut never = Faults::new(1.0, Some(7));
        assert_eq!(never.decide("/p", None, false), None);
    }
}
