//! The self-contained HTML report of `threadproof check --report`: the verdict table, each
//! exploration's outcome table, and each failure's explanation, replay command and an SVG
//! swimlane of its interleaving.
//!
//! Invariant: it shows what the text shows (the same [`Checked`] values, through the same
//! [`coverage`] and [`replay_command`]); a failure's swimlane shows the same threads as its
//! trace: all of them when they fit, else those involved in the failure.

use std::fmt::Write as _;

use threadproof::scenarios::{Checked, Params};
use threadproof::sync::trace::{Op, Phase, Trace};

use super::text::{coverage, replay_command};

/// A self-contained HTML report: the verdict table, each exploration's outcome table, and for
/// each failure its explanation, replay command and an SVG swimlane of the interleaving.
pub fn html(all: &[Checked], params: &Params) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>threadproof check</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n\
         table{border-collapse:collapse;margin:1em 0}\n\
         td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:14px}\n\
         td.num{text-align:right}\n\
         tr.unexpected{background:#fdd}tr.caught{background:#efe}tr.unsupported{background:#eee}\n\
         pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}\n\
         .FORBIDDEN{color:#b00;font-weight:bold}.ACCEPTABLE{color:#070}\n\
         svg text{font-family:monospace;font-size:11px}\n\
         </style>\n</head>\n<body>\n<h1>threadproof check</h1>\n",
    );
    let unsupported = all
        .iter()
        .filter(|c| c.report.unsupported().is_some())
        .count();
    let unexpected = all
        .iter()
        .filter(|c| c.report.unsupported().is_none() && !c.as_expected())
        .count();
    let _ = writeln!(
        out,
        "<p id=\"summary\">{} explorations, {} unexpected verdicts, {} not run by their checker.</p>",
        all.len(),
        unexpected,
        unsupported
    );
    out += "<table id=\"verdicts\">\n<tr><th>scenario</th><th>variant</th><th>checker</th>\
            <th>executions</th><th>outcomes</th><th>coverage</th><th>verdict</th><th>time</th></tr>\n";
    for (i, c) in all.iter().enumerate() {
        let class = if c.report.unsupported().is_some() {
            "unsupported"
        } else if !c.as_expected() {
            "unexpected"
        } else if c.report.failure.is_some() {
            "caught"
        } else {
            "expected"
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td><a href=\"#run{i}\">{}</a></td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{:.2?}</td></tr>",
            escape(c.scenario),
            escape(c.variant),
            escape(c.checker.kind().name()),
            c.report.executions,
            c.report.outcomes.len(),
            coverage(c),
            escape(&c.verdict()),
            c.report.elapsed
        );
    }
    out += "</table>\n";
    for (i, c) in all.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"run{i}\">\n<h2>{} / {} / {}</h2>\n<p>{}</p>",
            escape(c.scenario),
            escape(c.variant),
            escape(&c.checker.describe()),
            escape(&c.report.summary())
        );
        out += "<table class=\"outcomes\"><tr><th>count</th><th>grade</th><th>outcome</th></tr>\n";
        for (graded, count) in &c.report.outcomes {
            let grade = if graded.acceptable {
                "ACCEPTABLE"
            } else {
                "FORBIDDEN"
            };
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{count}</td><td class=\"{grade}\">{grade}</td><td>{}</td></tr>",
                escape(&graded.outcome)
            );
        }
        out += "</table>\n";
        if let Some(failure) = &c.report.failure {
            let _ = writeln!(
                out,
                "<pre class=\"failure\">{}</pre>",
                escape(&failure.explain())
            );
            if let Some(command) = replay_command(c, params) {
                let _ = writeln!(
                    out,
                    "<p>Replay: <code class=\"replay\">{}</code></p>",
                    escape(&command)
                );
            }
            if let Some(trace) = &failure.trace {
                out += &swimlane(trace);
            }
        }
        out += "</section>\n";
    }
    out += "</body>\n</html>\n";
    out
}

/// One lane per thread shown (all of them when they fit, else those involved in the failure,
/// and one lane for the others' steps), one column per step; arrows from a spawn to the
/// thread's first step, from a notify to the step where each thread it woke ran again, and
/// from a thread's last step to the join that waited for it. Objects carry their labels (the
/// user's names where given).
pub fn swimlane(trace: &Trace) -> String {
    const LANE: usize = 46;
    const STEP: usize = 26;
    const LEFT: usize = 120;
    let shown = trace.shown_threads();
    let folded = trace.threads().len() - shown.len();
    let others = shown.len();
    let lane_of = |thread: &str| shown.iter().position(|t| *t == thread).unwrap_or(others);
    let lanes = if folded > 0 { others + 1 } else { others };
    let x = |step: usize| LEFT + step * STEP + STEP / 2;
    let y = |lane: usize| 30 + lane * LANE;
    let width = LEFT + trace.events.len() * STEP + 20;
    let height = 30 + lanes * LANE;
    let mut svg = format!(
        "<svg class=\"swimlane\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\n<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" \
         refX=\"7\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#36c\"/></marker></defs>\n"
    );
    let mut names: Vec<String> = shown.iter().map(|t| t.to_string()).collect();
    if folded > 0 {
        names.push(format!("{folded} others"));
    }
    for (lane, thread) in names.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<g class=\"lane\"><text x=\"4\" y=\"{}\">{}</text><line x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" \
             stroke=\"#ddd\"/></g>",
            y(lane) + 4,
            escape(thread),
            y(lane),
            width - 10,
            y(lane)
        );
    }
    let texts = trace.texts();
    let mut arrows = Vec::new();
    for (i, event) in trace.events.iter().enumerate() {
        let next_of = |thread: &str, after: usize| {
            trace
                .events
                .iter()
                .enumerate()
                .skip(after + 1)
                .find(|(_, e)| *e.thread == *thread)
                .map(|(j, _)| j)
        };
        match event.op {
            Op::Spawn => {
                if let Some(j) = next_of(&event.object, i) {
                    arrows.push((i, j, lane_of(&event.object)));
                }
            }
            Op::Join if event.phase != Phase::Began => {
                let last = trace.events[..i]
                    .iter()
                    .rposition(|e| e.thread == event.object);
                if let Some(j) = last {
                    arrows.push((j, i, lane_of(&event.thread)));
                }
            }
            Op::NotifyOne | Op::NotifyAll => {
                // The threads this notify woke, as the trace's text says.
                for thread in trace.threads() {
                    if *thread == *event.thread {
                        continue;
                    }
                    let woke = texts[i].split(", woke ").nth(1).is_some_and(|woken| {
                        woken
                            .split(" @")
                            .next()
                            .unwrap_or("")
                            .split(", ")
                            .any(|t| t == thread)
                    });
                    if let (true, Some(j)) = (woke, next_of(thread, i)) {
                        arrows.push((i, j, lane_of(thread)));
                    }
                }
            }
            _ => {}
        }
    }
    for (from, to, to_lane) in arrows {
        let from_lane = lane_of(&trace.events[from].thread);
        let _ = writeln!(
            svg,
            "<line class=\"arrow\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#36c\" stroke-width=\"1.2\" \
             marker-end=\"url(#arrow)\"/>",
            x(from),
            y(from_lane),
            x(to),
            y(to_lane)
        );
    }
    for (i, event) in trace.events.iter().enumerate() {
        let colour = match event.op {
            Op::Lock | Op::Unlock => "#888",
            Op::Wait => "#e90",
            Op::NotifyOne | Op::NotifyAll => "#36c",
            Op::Spawn | Op::Join => "#393",
            Op::Read | Op::Write => "#c60",
            _ => "#a3a",
        };
        let (fill, stroke) = if event.phase == Phase::Began {
            ("#fff", "#c00")
        } else {
            (colour, colour)
        };
        let lane = lane_of(&event.thread);
        let _ = writeln!(
            svg,
            "<g class=\"step\"><title>{}: {}</title><circle cx=\"{}\" cy=\"{}\" r=\"7\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            escape(&event.thread),
            escape(&texts[i]),
            x(i),
            y(lane),
            x(i),
            y(lane) - 11,
            event.op.symbol()
        );
    }
    svg += "</svg>\n";
    svg
}

/// Text safe inside HTML and SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use threadproof::explore::{shuttle, ShuttleConfig};
    use threadproof::sync::trace::Trace;
    use threadproof::sync::{spawn, Mutex, Shuttle};

    use super::swimlane;

    /// 100 threads increment a named counter, read and write back under separate locks.
    fn hundred_lost_updates() -> usize {
        let board = Arc::new(Mutex::<Shuttle, usize>::named("board", 0));
        let threads: Vec<_> = (0..100)
            .map(|i| {
                let board = Arc::clone(&board);
                spawn::<Shuttle, _, _>(format!("T{i}"), move || {
                    let seen = *board.lock();
                    *board.lock() = seen + 1;
                })
                .unwrap()
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let total = *board.lock();
        total
    }

    #[test]
    fn a_swimlane_of_101_threads_folds_the_uninvolved_into_one_lane() {
        let report =
            shuttle::explore(
                &ShuttleConfig::random(100),
                hundred_lost_updates,
                |total| match *total {
                    100 => Ok(()),
                    lost => Err(format!("{lost} of 100 increments")),
                },
            );
        let failure = report.failure.expect("an update is lost");
        let trace = failure.trace.as_ref().unwrap();
        assert_eq!(trace.threads().len(), 101);
        let svg = swimlane(trace);
        // The user's name for the lock, and at most the trace's columns plus the others' lane.
        assert!(svg.contains("board"));
        let lanes = svg.matches("<g class=\"lane\">").count();
        assert!(lanes <= Trace::MAX_COLUMNS + 1, "{lanes} lanes");
        assert!(
            svg.contains(" others</text>"),
            "the uninvolved threads fold"
        );
    }
}
