//! The replay token's grammar for a shuttle schedule: [`Decisions`], the ways a schedule differs
//! from the default one.
//!
//! Invariant: `Decisions::parse(&d.to_string()) == Some(d)`, and the text is safe in a shell.

use std::fmt;

use crate::sync::choice::Choice;
use crate::sync::model::ThreadKey;

/// A schedule as the ways it differs from the default one (stay on the running thread, else
/// the next runnable one in id order; every choice 0). Each difference is keyed by the thread
/// it concerns and that thread's own progress, not by the global step count, so that taking
/// one out disturbs the others as little as possible: when task `t` is at its `k`-th
/// scheduling point, run task `u` instead (`s2k5t3`); the `k`-th choice (wait) of the thread
/// at spawn path `t0` takes value `v` (`dt0#2v3`). Items are joined by `_`; the default
/// schedule is `-`. Safe in a shell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decisions {
    pub switches: Vec<Switch>,
    pub draws: Vec<(Choice, u64)>,
}

/// Run task `to` when task `from` is at its `at`-th scheduling point (from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    pub from: usize,
    pub at: usize,
    pub to: usize,
}

impl Decisions {
    pub fn parse(text: &str) -> Option<Decisions> {
        let mut decisions = Decisions::default();
        if text == "-" {
            return Some(decisions);
        }
        for item in text.split('_') {
            if let Some(switch) = item.strip_prefix('s') {
                let (from, rest) = switch.split_once('k')?;
                let (at, to) = rest.split_once('t')?;
                decisions.switches.push(Switch {
                    from: from.parse().ok()?,
                    at: at.parse().ok()?,
                    to: to.parse().ok()?,
                });
            } else if let Some(draw) = item.strip_prefix('d') {
                let (choice, value) = draw.rsplit_once('v')?;
                let (thread, ordinal) = choice.split_once('#')?;
                let choice = Choice {
                    thread: ThreadKey::parse(thread)?,
                    ordinal: ordinal.parse().ok()?,
                };
                decisions.draws.push((choice, value.parse().ok()?));
            } else {
                return None;
            }
        }
        Some(decisions)
    }

    pub(super) fn len(&self) -> usize {
        self.switches.len() + self.draws.len()
    }

    /// The same decisions without the ones whose index (switches first, then draws) is in
    /// `removed`.
    pub(super) fn without(&self, removed: &[usize]) -> Decisions {
        let switches = self.switches.len();
        Decisions {
            switches: (self.switches.iter().enumerate())
                .filter(|(i, _)| !removed.contains(i))
                .map(|(_, s)| *s)
                .collect(),
            draws: (self.draws.iter().enumerate())
                .filter(|(i, _)| !removed.contains(&(switches + i)))
                .map(|(_, d)| d.clone())
                .collect(),
        }
    }
}

impl fmt::Display for Decisions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.switches.is_empty() && self.draws.is_empty() {
            return f.write_str("-");
        }
        let switches = (self.switches.iter()).map(|s| format!("s{}k{}t{}", s.from, s.at, s.to));
        let draws = (self.draws.iter()).map(|(choice, value)| format!("d{choice}v{value}"));
        f.write_str(&switches.chain(draws).collect::<Vec<_>>().join("_"))
    }
}
