//! A checker with its settings, as one value that prints as a replay token and parses back.
//!
//! Invariant: `Checker::parse(&c.token()) == Ok(c)` up to the budget, which is not part of a
//! token; and exploration is deterministic, so `token@N` names one execution: re-exploring
//! with the same checker reaches the same failure at execution N, with the same trace. A
//! failure's own token replays only its execution: loom's names the preemption bound and the
//! spurious plan it failed under (`loom:preemptions=1:spurious=1:plan=t0#2@17`), shuttle's the
//! schedule itself (`random:spurious=4:replay=s2k3t1_dt0#1v3@1`). Tokens are safe to paste into a
//! shell unquoted.

use std::fmt;

use super::{Budget, Decisions, LoomConfig, Report, Schedules, ShuttleConfig};
use crate::sync::choice::Plan;

/// The kinds of exploration a [`Checker`] can be, as reports and expectations name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckerKind {
    /// Loom: every interleaving (within its bounds), weak memory included.
    Loom,
    /// Shuttle with uniformly random schedules.
    Random,
    /// Shuttle with PCT schedules.
    Pct,
    /// Shuttle with uniform-random-walk schedules.
    Urw,
}

impl CheckerKind {
    /// The kinds `threadproof check` and the kill matrix run: every kind, URW included (it
    /// alone finds the gallery's many-thread straggler; docs/gallery.md).
    pub const ALL: [CheckerKind; 4] = [
        CheckerKind::Loom,
        CheckerKind::Random,
        CheckerKind::Pct,
        CheckerKind::Urw,
    ];

    /// `loom`, `random`, `pct` or `urw`.
    pub fn name(self) -> &'static str {
        match self {
            CheckerKind::Loom => "loom",
            CheckerKind::Random => "random",
            CheckerKind::Pct => "pct",
            CheckerKind::Urw => "urw",
        }
    }

    /// Whether shuttle runs it: every atomic is then `SeqCst`, and plain memory unchecked.
    pub fn is_shuttle(self) -> bool {
        self != CheckerKind::Loom
    }
}

impl fmt::Display for CheckerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which model checker explores, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checker {
    Loom(LoomConfig),
    Shuttle(ShuttleConfig),
}

impl Checker {
    /// Explores `body` (which must use the matching backend's primitives).
    pub fn explore<O, B, I>(&self, body: B, invariant: I) -> Report<O>
    where
        O: Ord + Send + 'static,
        B: Fn() -> O + Send + Sync + 'static,
        I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
    {
        match self {
            Checker::Loom(config) => super::loom::explore(config, body, invariant),
            Checker::Shuttle(config) => super::shuttle::explore(config, body, invariant),
        }
    }

    /// Explores the body written for this checker's backend: `on_loom` under loom, `on_shuttle`
    /// under shuttle's schedulers. The one place where a checker picks its backend.
    pub fn explore_either<O, L, S, I>(&self, on_loom: L, on_shuttle: S, invariant: I) -> Report<O>
    where
        O: Ord + Send + 'static,
        L: Fn() -> O + Send + Sync + 'static,
        S: Fn() -> O + Send + Sync + 'static,
        I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
    {
        match self {
            Checker::Loom(_) => self.explore(on_loom, invariant),
            Checker::Shuttle(_) => self.explore(on_shuttle, invariant),
        }
    }

    pub fn budget(&self) -> Budget {
        match self {
            Checker::Loom(config) => config.budget,
            Checker::Shuttle(config) => config.budget,
        }
    }

    pub fn with_budget(mut self, budget: Budget) -> Self {
        match &mut self {
            Checker::Loom(config) => config.budget = budget,
            Checker::Shuttle(config) => config.budget = budget,
        }
        self
    }

    pub fn with_traces(mut self, record: bool) -> Self {
        match &mut self {
            Checker::Loom(config) => config.record_traces = record,
            Checker::Shuttle(config) => config.record_traces = record,
        }
        self
    }

    /// The settings as a report names them.
    pub fn describe(&self) -> String {
        match self {
            Checker::Loom(config) => config.describe(),
            Checker::Shuttle(config) => config.describe(),
        }
    }

    /// Loom, random, PCT or URW.
    pub fn kind(&self) -> CheckerKind {
        match self {
            Checker::Loom(_) => CheckerKind::Loom,
            Checker::Shuttle(config) => match config.schedules {
                Schedules::Random => CheckerKind::Random,
                Schedules::Pct { .. } => CheckerKind::Pct,
                Schedules::Urw => CheckerKind::Urw,
            },
        }
    }

    /// Whether this exploration injects spurious condvar wakeups.
    pub fn spurious_wakeups(&self) -> bool {
        match self {
            Checker::Loom(config) => config.spurious_wakeups > 0,
            Checker::Shuttle(config) => config.spurious_one_in > 0,
        }
    }

    /// The settings as a token: `loom:preemptions=3:spurious=1`,
    /// `random:seed=0x2a:iterations=1000:spurious=4`, `pct:depth=3:seed=...`; with the plan
    /// or schedule a replay runs.
    pub fn token(&self) -> String {
        match self {
            Checker::Loom(config) => {
                let mut token = "loom".to_string();
                if let Some(bound) = config.preemption_bound {
                    token += &format!(":preemptions={bound}");
                }
                token += &format!(":spurious={}", config.spurious_wakeups);
                if let Some(plan) = &config.plan {
                    token += &format!(":plan={plan}");
                }
                if config.barging {
                    token += ":rwlock=barging";
                }
                if config.timer {
                    token += ":timer=on";
                }
                token
            }
            Checker::Shuttle(config) => {
                let schedules = match config.schedules {
                    Schedules::Random => "random".to_string(),
                    Schedules::Pct { depth } => format!("pct:depth={depth}"),
                    Schedules::Urw => "urw".to_string(),
                };
                let timer = if config.timer { ":timer=on" } else { "" };
                match &config.replay {
                    Some(decisions) => format!(
                        "{schedules}:spurious={}{timer}:replay={decisions}",
                        config.spurious_one_in
                    ),
                    None => format!(
                        "{schedules}:seed={:#x}:iterations={}:spurious={}{timer}",
                        config.seed, config.iterations, config.spurious_one_in
                    ),
                }
            }
        }
    }

    /// Parses a token made by [`Checker::token`].
    pub fn parse(token: &str) -> Result<Checker, String> {
        let mut parts = token.split(':');
        let kind = parts.next().unwrap_or_default();
        let mut fields: Vec<(&str, &str)> = Vec::new();
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` in checker `{token}` is not key=value"))?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(format!("`{key}` is set twice in checker `{token}`"));
            }
            fields.push((key, value));
        }
        let text = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let number = |key: &str| -> Result<Option<u64>, String> {
            match text(key) {
                None => Ok(None),
                Some(value) => parse_number(value)
                    .map(Some)
                    .ok_or_else(|| format!("`{value}` in `{key}={value}` is not a number")),
            }
        };
        let timer_on = || match text("timer") {
            None => Ok(false),
            Some("on") => Ok(true),
            Some(other) => Err(format!("`timer={other}` in `{token}`: expected on")),
        };
        let unknown = |allowed: &[&str]| {
            fields
                .iter()
                .find(|(k, _)| !allowed.contains(k))
                .map(|(k, _)| Err(format!("checker `{kind}` has no setting `{k}`")))
        };
        match kind {
            "loom" => {
                if let Some(err) = unknown(&["preemptions", "spurious", "plan", "rwlock", "timer"])
                {
                    return err;
                }
                let mut config = LoomConfig::exhaustive()
                    .spurious_wakeups(number("spurious")?.unwrap_or(0) as usize);
                config.preemption_bound = number("preemptions")?.map(|b| b as usize);
                if config
                    .preemption_bound
                    .is_some_and(|b| b > usize::from(u8::MAX))
                {
                    return Err("loom's preemption bound is at most 255".into());
                }
                if let Some(plan) = text("plan") {
                    let plan =
                        Plan::parse(plan).ok_or_else(|| format!("`{plan}` is not a plan"))?;
                    config.plan = Some(plan);
                }
                config.barging = match text("rwlock") {
                    None => false,
                    Some("barging") => true,
                    Some(other) => {
                        return Err(format!("`rwlock={other}` in `{token}`: expected barging"))
                    }
                };
                config.timer = timer_on()?;
                Ok(Checker::Loom(config))
            }
            "random" | "pct" | "urw" => {
                let allowed = ["depth", "seed", "iterations", "spurious", "timer", "replay"];
                if let Some(err) = unknown(&allowed) {
                    return err;
                }
                let iterations = number("iterations")?.unwrap_or(1000) as usize;
                let depth = number("depth")?.unwrap_or(3);
                if depth == 0 {
                    return Err(format!(
                        "depth=0 in checker `{token}`: PCT needs depth 1 or more"
                    ));
                }
                let mut config = match kind {
                    "random" => ShuttleConfig::random(iterations),
                    "urw" => ShuttleConfig::urw(iterations),
                    _ => ShuttleConfig::pct(depth as usize, iterations),
                };
                if let Some(seed) = number("seed")? {
                    config = config.seed(seed);
                }
                let spurious = u32::try_from(number("spurious")?.unwrap_or(0))
                    .map_err(|_| "spurious is too large")?;
                let mut config = config.spurious_one_in(spurious);
                config.timer = timer_on()?;
                match text("replay") {
                    None => Ok(Checker::Shuttle(config)),
                    Some(replay) => {
                        let decisions = Decisions::parse(replay)
                            .ok_or_else(|| format!("`{replay}` is not a schedule"))?;
                        Ok(Checker::Shuttle(config.replaying(decisions)))
                    }
                }
            }
            _ => Err(format!(
                "unknown checker `{kind}` (expected loom, random, pct or urw)"
            )),
        }
    }
}

impl fmt::Display for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A decimal or `0x` hexadecimal number.
fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// A checker token with the number of the execution it names: `TOKEN@N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayToken {
    pub checker: Checker,
    pub execution: u64,
}

impl ReplayToken {
    pub fn parse(text: &str) -> Result<ReplayToken, String> {
        let (token, execution) = text
            .rsplit_once('@')
            .ok_or_else(|| format!("replay token `{text}` has no `@EXECUTION`"))?;
        let execution = parse_number(execution)
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`{execution}` is not an execution number (1 or more)"))?;
        Ok(ReplayToken {
            checker: Checker::parse(token)?,
            execution,
        })
    }
}

impl fmt::Display for ReplayToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.checker.token(), self.execution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let checkers = [
            Checker::Loom(LoomConfig::exhaustive()),
            Checker::Loom(
                LoomConfig::exhaustive()
                    .preemption_bound(3)
                    .spurious_wakeups(1),
            ),
            Checker::Shuttle(ShuttleConfig::random(500).seed(42).spurious_one_in(4)),
            Checker::Shuttle(ShuttleConfig::pct(2, 100)),
            Checker::Loom(LoomConfig {
                plan: Plan::parse("t0#1+t#0=2"),
                barging: true,
                timer: true,
                ..LoomConfig::exhaustive()
                    .preemption_bound(1)
                    .spurious_wakeups(2)
            }),
            Checker::Shuttle(
                ShuttleConfig::pct(3, 1000)
                    .spurious_one_in(4)
                    .replaying(Decisions::parse("s2k3t1_s1k0t2_dt0#1v3").unwrap()),
            ),
            Checker::Shuttle(ShuttleConfig::random(7).replaying(Decisions::default())),
            Checker::Shuttle(ShuttleConfig {
                timer: true,
                ..ShuttleConfig::urw(9).replaying(Decisions::parse("s2k3t1").unwrap())
            }),
        ];
        // The timer's flag is in the token, and nothing else names it.
        let with_timer = Checker::Shuttle(ShuttleConfig {
            timer: true,
            ..ShuttleConfig::random(1).replaying(Decisions::default())
        });
        assert!(
            with_timer.token().contains(":timer=on:"),
            "{}",
            with_timer.token()
        );
        assert!(Checker::parse("loom:timer=off").is_err());
        for checker in checkers {
            assert_eq!(
                Checker::parse(&checker.token()),
                Ok(checker.clone()),
                "{}",
                checker.token()
            );
            let schedule = ReplayToken {
                checker,
                execution: 17,
            };
            assert_eq!(ReplayToken::parse(&schedule.to_string()), Ok(schedule));
        }
    }

    #[test]
    fn bad_tokens_are_errors() {
        for bad in [
            "",
            "lom",
            "loom:spurious",
            "loom:depth=3",
            "pct:depth=x",
            "random:spurious=99999999999",
            "pct:depth=0",
            "random:seed=1:seed=2",
            "loom:preemptions=1:preemptions=2",
            "loom:plan=t0",
            "loom:preemptions=300",
            "loom:rwlock=handover",
            "loom:rwlock=barging:rwlock=barging",
            "random:replay=s3>1",
            "random:replay=s3t1",
            "random:replay=x1",
        ] {
            assert!(Checker::parse(bad).is_err(), "{bad}");
        }
        for bad in ["loom", "loom@", "loom@0", "loom@x", "nope@3"] {
            assert!(ReplayToken::parse(bad).is_err(), "{bad}");
        }
    }
}
