#!/usr/bin/env python3
"""`just bench-vs-python`: each Rust benchmark and its Python twin, side by side in one run.

For each pinning (unpinned, then `taskset -c 0`), this script
  1. runs the Rust criterion benches with filters (`cargo bench --bench NAME -- FILTER`) and
     reads criterion's per-iteration estimates from
     `target/criterion/<group>/<id>/new/{benchmark,estimates}.json` (median point estimate, in
     ns per iteration, divided by the benchmark's declared `Throughput::Elements`);
  2. runs the Python twins in this directory (each prints one JSON line with its ops/s);
  3. measures the physical limits (benches/limits.rs) in the same run;
then prints one table (pattern, pinning, Rust figure, Python figure, ratio, multiple of the
limit, goal, met?) and writes it to benches/RESULTS.md.

A Rust benchmark that does not exist (yet) is reported as "n/a", never as a failure. Goals are
targets for benchmarks, not assertions: the exit status is 0 whatever the figures.

Only the standard library is used (Python 3.8+).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PINNINGS = {"unpinned": [], "pinned": ["taskset", "-c", "0"]}
# Short criterion runs keep `just bench-vs-python` near 10 minutes on 2 cores. Benches that
# set their own group timings keep them (criterion lets a group override the command line).
CRITERION_ARGS = ["--noplot", "--warm-up-time", "1", "--measurement-time", "3"]


# ── what is compared ─────────────────────────────────────────────────────────────────────────


@dataclass
class Rust:
    """One Rust figure: the first criterion id (full id, regex) that matches, from `bench`."""

    bench: str
    ids: list
    label: str = ""


@dataclass
class Row:
    pattern: str
    python: list  # twin script and arguments, or [] for none
    python_ops: int
    rust: list  # of Rust (one table row each)
    limit: str = ""  # criterion full id of the physical limit this pattern is measured against
    goal: float = 0.0  # Rust ops/s ÷ Python ops/s at least this (0: no goal)

    @property
    def note(self):
        """What the two sides measure, where they differ."""
        return NOTES.get(self.pattern.split(",")[0].split(" k=")[0], "")


NOTES = {
    "lock-protected appends (4 threads)": "both: 4 threads × 250,000 appends under one lock "
    "(Rust: the facade's `Mutex` over std or parking_lot, pushing an integer; Python: "
    "`threading.Lock`, appending a dict).",
    "thread pool": "both: 100,000 trivial tasks `submit`ted to a pool of 3 threads built once, "
    "results through `as_completed` (Rust: `threadproof::thread_pool::ThreadPool`; Python: "
    "`ThreadPoolExecutor(3)`).",
    "process pool": "Rust: 10,000 `echo` tasks to a pool of 3 worker processes created once, "
    "results awaited in submission order; Python: 10,000 `submit`s to a warmed "
    "`ProcessPoolExecutor(3)`, results through `as_completed`.",
    "manager list": "Rust: 3 worker processes × 1,000 appends through their proxy to one manager "
    "server; Python: 3 processes × 3,333 appends to a `Manager().list()` proxy (start-up untimed).",
    "singleton get (fast path)": "Rust: `get` on an initialised threadproof `OnceLock` "
    "(`get_or_init`) or `LazyLock`, criterion's loop; Python: `DatabaseConnection.get_connection()` "
    "in a `for` loop, after the first call.",
    "turns": "Python: the notes' NumberPrinter (one `Condition`, `notify_all`), n = 100,000 turns, "
    "lines collected in a list; the same Python figure is the twin of every Rust variant. Rust: "
    "`turns`, 20,000 turns per criterion iteration (benches/scenarios.rs), starting and joining "
    "the threads inside each iteration; `targeted` = one condvar per thread, the turn passed "
    "after letting go of the lock, only a sleeping next thread woken (one wakeup per turn); "
    "`notify-all` = the notes' one condvar; `under-lock` = the targeted version before one "
    "wakeup per turn (the next thread notified with the lock held), measured in the same run.",
}


LIMIT_HANDOFF = "limits-handoff/park-unpark"
LIMIT_LOCK = "limits-lock/std-mutex"
LIMIT_ONCE = "limits-once/std-once-lock-get"
LIMIT_PIPE = "limits-process/pipe-round-trip"

LIMITS = [
    (LIMIT_HANDOFF, "two-thread handoff, std park/unpark (per handoff)"),
    ("limits-handoff/futex", "two-thread handoff, raw futex (per handoff)"),
    (LIMIT_LOCK, "uncontended std Mutex lock+unlock"),
    ("limits-lock/parking-lot-mutex", "uncontended parking_lot Mutex lock+unlock"),
    (LIMIT_ONCE, "std OnceLock::get, initialised"),
    (LIMIT_PIPE, "empty round trip to a child `cat` over a pipe"),
]


# The singleton's fast path (benches/executors.rs), also checked against absolute and
# OnceLock-relative goals; the OnceLock reference is measured the same way in the same group.
SINGLETONS = [
    Rust("executors", [rf"^singleton/threadproof {kind}/{backend}$"], f"{kind}/{backend}")
    for kind in ("OnceLock", "LazyLock")
    for backend in ("std", "parking-lot")
]
SINGLETON_ONCE_LOCK = "singleton/std OnceLock"


def rows(scale):
    """The comparisons; `scale` shrinks the Python sizes (1.0 = the issue's sizes)."""

    def n(ops):
        return max(1, int(ops * scale))

    def backends(bench, template):
        return [Rust(bench, [template.format(b=b)], b) for b in ("std", "parking-lot")]

    return [
        Row(
            "lock-protected appends (4 threads)",
            ["lock_appends.py", "--ops", str(n(1_000_000))],
            n(1_000_000),
            backends("scenarios", r"^appends/scaled/{b}$"),
            LIMIT_LOCK,
            20,
        ),
        Row(
            "thread pool, 3 workers (per task)",
            ["thread_pool.py", "--ops", str(n(100_000))],
            n(100_000),
            backends("executors", r"^pool/submit\+as_completed/{b}$"),
            LIMIT_HANDOFF,
            10,
        ),
        Row(
            "process pool, 3 workers (per task)",
            ["process_pool.py", "--ops", str(n(10_000))],
            n(10_000),
            [Rust("processes", [r"^process_pool/trivial_tasks/", r"^process[-_]?pool/.*task"], "w=3")],
            LIMIT_PIPE,
            5,
        ),
        Row(
            "manager list, 3 processes (per append)",
            ["manager_list.py", "--ops", str(n(10_000))],
            n(10_000),
            [Rust("processes", [r"^manager/appends/", r"^manager/.*append"], "3 processes")],
            LIMIT_PIPE,
            5,
        ),
        Row(
            "singleton get (fast path)",
            ["singleton.py", "--ops", str(n(10_000_000))],
            n(10_000_000),
            SINGLETONS,
            LIMIT_ONCE,
            0,
        ),
        Row(
            "turns k=3, targeted wakeups",
            ["number_printer.py", "-k", "3", "--ops", str(n(100_000))],
            n(100_000),
            backends("scenarios", r"^turns/targeted/{b}/k=3$"),
            LIMIT_HANDOFF,
            4,
        ),
        Row(
            "turns k=8, targeted wakeups",
            ["number_printer.py", "-k", "8", "--ops", str(n(100_000))],
            n(100_000),
            backends("scenarios", r"^turns/targeted/{b}/k=8$"),
            LIMIT_HANDOFF,
            10,
        ),
        Row(
            "turns k=3, notify_all as in the notes",
            ["number_printer.py", "-k", "3", "--ops", str(n(100_000))],
            n(100_000),
            backends("scenarios", r"^turns/notify-all/{b}/k=3$"),
            LIMIT_HANDOFF,
        ),
        Row(
            "turns k=8, notify_all as in the notes",
            ["number_printer.py", "-k", "8", "--ops", str(n(100_000))],
            n(100_000),
            backends("scenarios", r"^turns/notify-all/{b}/k=8$"),
            LIMIT_HANDOFF,
        ),
        Row(
            "turns k=3, targeted, notified under the lock (before)",
            ["number_printer.py", "-k", "3", "--ops", str(n(100_000))],
            n(100_000),
            backends("scenarios", r"^turns/under-lock/{b}/k=3$"),
            LIMIT_HANDOFF,
        ),
        Row(
            "turns k=8, targeted, notified under the lock (before)",
            ["number_printer.py", "-k", "8", "--ops", str(n(100_000))],
            n(100_000),
            backends("scenarios", r"^turns/under-lock/{b}/k=8$"),
            LIMIT_HANDOFF,
        ),
    ]


# Criterion filters per bench: only what the tables use, so the run stays short.
FILTERS = {
    "scenarios": r"^(appends/scaled/|turns/(targeted|notify-all|under-lock)/(std|parking-lot)/k=(2|3|8)$)",
    "limits": r"^limits-",
    "executors": r"^(pool|singleton)/",
    "processes": r"^(process_pool/trivial_tasks|manager/appends)",
}


# ── running things ───────────────────────────────────────────────────────────────────────────


def log(message):
    print(f"[vs_rust {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def target_dir():
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Path(json.loads(out)["target_directory"])


def declared_benches():
    """Bench targets declared in Cargo.toml whose file exists and has a criterion main."""
    toml = (ROOT / "Cargo.toml").read_text()
    names = re.findall(r'\[\[bench\]\]\s*\nname\s*=\s*"([^"]+)"', toml)
    found = []
    for name in dict.fromkeys(names):
        path = ROOT / "benches" / f"{name}.rs"
        if path.exists() and "criterion_main!" in path.read_text():
            found.append(name)
    return found


def compile_benches(benches, logdir):
    """Build every bench once, unpinned (a pinned build would be slow for nothing)."""
    ok = []
    for bench in benches:
        log(f"building bench `{bench}`")
        with open(logdir / f"build-{bench}.log", "w") as out:
            done = subprocess.run(
                ["cargo", "bench", "--bench", bench, "--no-run"], cwd=ROOT, stdout=out, stderr=out
            )
        if done.returncode == 0:
            ok.append(bench)
        else:
            log(f"bench `{bench}` does not build (see {logdir}/build-{bench}.log): its figures are n/a")
    return ok


def run_rust(bench, pinning, logdir, criterion_dir):
    """Run one bench under `pinning`; return {full_id: ns per element} for what it measured."""
    start = time.time()
    cmd = PINNINGS[pinning] + ["cargo", "bench", "--bench", bench, "--", *CRITERION_ARGS, FILTERS.get(bench, "")]
    log(f"{pinning}: cargo bench --bench {bench} -- {FILTERS.get(bench, '')}")
    with open(logdir / f"bench-{bench}-{pinning}.log", "w") as out:
        done = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=out)
    if done.returncode != 0:
        log(f"bench `{bench}` failed {pinning} (see {logdir}/bench-{bench}-{pinning}.log); reading what it finished")
    return read_criterion(criterion_dir, since=start)


def read_criterion(criterion_dir, since):
    """Every estimate criterion wrote since `since`: {full_id: ns per element (median)}."""
    figures = {}
    if not criterion_dir.exists():
        return figures
    for meta_path in criterion_dir.glob("**/new/benchmark.json"):
        estimates_path = meta_path.with_name("estimates.json")
        if not estimates_path.exists() or estimates_path.stat().st_mtime < since:
            continue
        meta = json.loads(meta_path.read_text())
        estimates = json.loads(estimates_path.read_text())
        per_iteration = estimates["median"]["point_estimate"]
        throughput = meta.get("throughput") or {}
        elements = throughput.get("Elements") or throughput.get("ElementsAndBytes", {}).get("elements") or 1
        figures[meta["full_id"]] = per_iteration / elements
    return figures


def run_python(args, pinning, logdir):
    """Run one twin under `pinning`; return its JSON line, or None."""
    cmd = PINNINGS[pinning] + [sys.executable, "-B", str(HERE / args[0]), *args[1:]]
    log(f"{pinning}: python {' '.join(args)}")
    done = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True)
    stem = "-".join(a.lstrip("-") for a in args).replace(".py", "")
    (logdir / f"python-{stem}-{pinning}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        log(f"twin {args[0]} failed {pinning}: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# ── rendering ────────────────────────────────────────────────────────────────────────────────


def rate(ns):
    if ns is None:
        return "n/a"
    per_s = 1e9 / ns
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per_s >= scale:
            return f"{per_s / scale:.3g} {unit}/s"
    return f"{per_s:.3g} /s"


def duration(ns):
    if ns is None:
        return "n/a"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def figure(ns):
    return "n/a" if ns is None else f"{rate(ns)} ({duration(ns)})"


def times(x):
    return "n/a" if x is None else f"{x:.3g}×"


def verdict(ok):
    return "n/a" if ok is None else ("**yes**" if ok else "no")


def find(figures, rust):
    """The first criterion id matching one of `rust.ids`, in order of preference."""
    for pattern in rust.ids:
        matches = sorted(i for i in figures if re.search(pattern, i))
        if matches:
            return matches[0], figures[matches[0]]
    return None, None


def md_table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def render(results, table_rows, pinnings, meta):
    """The markdown report."""
    out = []
    out.append("# threadproof vs the notes' Python, side by side\n")
    out.append(
        "Written by `just bench-vs-python` (`benches/python/vs_rust.py`); every figure below comes "
        "from one run on one machine. Rust: criterion, median of the samples, per element of the "
        "bench's declared throughput. Python: one timed run of the twin in `benches/python/`. "
        "*Ratio* is Rust's throughput over Python's; *× limit* is the Rust cost per operation over "
        "the physical limit's (1× = at the machine's floor). Goals are benchmark targets, not test "
        "assertions.\n"
    )
    out.append("## Run\n")
    out.append("\n".join(f"- {k}: {v}" for k, v in meta.items()) + "\n")

    out.append("## Rust vs Python\n")
    body = []
    for row in table_rows:
        for pinning in pinnings:
            figures = results[pinning]["rust"]
            py = results[pinning]["python"].get(tuple(row.python)) if row.python else None
            py_ns = py["ns_per_op"] if py else None
            limit_ns = figures.get(row.limit) if row.limit else None
            for rust in row.rust:
                rid, ns = find(figures, rust)
                ratio = py_ns / ns if (ns and py_ns) else None
                goal = f"≥{row.goal:g}×" if row.goal else "—"
                met = (ratio >= row.goal if ratio is not None else None) if row.goal else None
                body.append(
                    [
                        row.pattern,
                        pinning,
                        f"`{rid}`" if rid else f"n/a ({rust.bench}: {rust.label or 'no bench'})",
                        figure(ns),
                        f"{figure(py_ns)}" + (f" n={py['ops']:,}" if py else ""),
                        times(ratio),
                        times(ns / limit_ns if (ns and limit_ns) else None),
                        goal,
                        verdict(met) if row.goal else "—",
                    ]
                )
    out.append(
        md_table(
            ["pattern", "pinning", "Rust bench", "Rust", "Python", "ratio", "× limit", "goal", "met?"],
            body,
        )
        + "\n"
    )

    notes = {row.note: row.pattern.split(",")[0].split(" k=")[0] for row in table_rows if row.note}
    if notes:
        listed = "\n".join(f"- **{name}**: {note}" for note, name in notes.items())
        out.append("What each row compares:\n\n" + listed + "\n")

    out.append("## Goals that are not a ratio to Python\n")
    body = []
    for pinning in pinnings:
        figures = results[pinning]["rust"]
        handoff = figures.get(LIMIT_HANDOFF)
        for backend in ("std", "parking-lot"):
            k2 = figures.get(f"turns/targeted/{backend}/k=2")
            k8 = figures.get(f"turns/targeted/{backend}/k=8")
            flat = k8 / k2 if (k2 and k8) else None
            body.append(
                [
                    f"turns targeted, {backend}: cost per turn flat in k (k=8 ÷ k=2)",
                    pinning,
                    f"{duration(k8)} ÷ {duration(k2)}",
                    times(flat),
                    "≤1.3×",
                    verdict(flat <= 1.3 if flat else None),
                ]
            )
            for k in (2, 3, 8):
                turn = figures.get(f"turns/targeted/{backend}/k={k}")
                x = turn / handoff if (turn and handoff) else None
                body.append(
                    [
                        f"turns targeted k={k}, {backend}: per turn ÷ two-thread handoff",
                        pinning,
                        f"{duration(turn)} ÷ {duration(handoff)}",
                        times(x),
                        "≤2×",
                        verdict(x <= 2 if x else None),
                    ]
                )
        once = figures.get(SINGLETON_ONCE_LOCK) or figures.get(LIMIT_ONCE)
        for singleton in SINGLETONS:
            rid, single = find(figures, singleton)
            body.append(
                [
                    f"singleton fast path `{rid or singleton.label}`",
                    pinning,
                    duration(single),
                    duration(single),
                    "≤2 ns",
                    verdict(single <= 2 if single else None),
                ]
            )
            body.append(
                [
                    f"singleton `{singleton.label}` ÷ `{SINGLETON_ONCE_LOCK}` (same group)",
                    pinning,
                    f"{duration(single)} ÷ {duration(once)}",
                    times(single / once if (single and once) else None),
                    "≤1.2×",
                    verdict(single / once <= 1.2 if (single and once) else None),
                ]
            )
    out.append(md_table(["goal", "pinning", "figures", "value", "goal", "met?"], body) + "\n")

    out.append("## Physical limits (benches/limits.rs)\n")
    body = []
    for lid, what in LIMITS:
        body.append([f"`{lid}`", what] + [figure(results[p]["rust"].get(lid)) for p in pinnings])
    out.append(md_table(["limit", "what", *pinnings], body) + "\n")
    out.append(
        "Which limit each pattern is measured against: appends → uncontended std Mutex; thread "
        "pool and turns → park/unpark handoff; process pool and manager → pipe round trip; "
        "singleton → OnceLock::get.\n"
    )

    other = sorted(
        set().union(*(results[p]["rust"] for p in pinnings))
        - {i for i, _ in LIMITS}
    )
    if other:
        out.append("## Every Rust figure of the run\n")
        body = [[f"`{i}`"] + [figure(results[p]["rust"].get(i)) for p in pinnings] for i in other]
        out.append(md_table(["criterion id", *pinnings], body) + "\n")
    return "\n".join(out)


# ── main ─────────────────────────────────────────────────────────────────────────────────────


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pinning",
        choices=["both", *PINNINGS],
        default="both",
        help="unpinned, pinned to CPU 0 with taskset, or both (default)",
    )
    parser.add_argument(
        "--python-scale",
        type=float,
        default=1.0,
        help="multiply the Python twins' sizes (default 1.0: the issue's sizes)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benches" / "RESULTS.md", help="markdown report")
    parser.add_argument("--no-rust", action="store_true", help="skip the Rust benches (read nothing)")
    parser.add_argument(
        "--bench",
        action="append",
        choices=sorted(FILTERS),
        help="run only this Rust bench (repeatable; default: every one that exists)",
    )
    parser.add_argument("--no-python", action="store_true", help="skip the Python twins")
    args = parser.parse_args()

    pinnings = list(PINNINGS) if args.pinning == "both" else [args.pinning]
    if "pinned" in pinnings and not shutil.which("taskset"):
        log("taskset not found: running unpinned only")
        pinnings = ["unpinned"]
    table_rows = rows(args.python_scale)
    tdir = target_dir()
    logdir = tdir / "bench-vs-python"
    logdir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    load_at_start = os.getloadavg()

    benches = []
    if not args.no_rust:
        wanted = [b for b in declared_benches() if b in (args.bench or FILTERS)]
        benches = compile_benches(wanted, logdir)
        missing = sorted(set(args.bench or FILTERS) - set(benches))
        if missing:
            log(f"no runnable bench for {missing}: their figures are n/a")

    results = {}
    for pinning in pinnings:
        rust = {}
        for bench in benches:
            rust.update(run_rust(bench, pinning, logdir, tdir / "criterion"))
        python = {}
        if not args.no_python:
            for row in table_rows:
                key = tuple(row.python)
                if row.python and key not in python:
                    python[key] = run_python(row.python, pinning, logdir)
        results[pinning] = {"rust": rust, "python": python}

    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"

    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": "`just bench-vs-python` = `python3 benches/python/vs_rust.py "
        + " ".join(sys.argv[1:])
        + "`",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}; "
        f"load average (1, 5, 15 min) at the start {', '.join(f'{x:.2f}' for x in load_at_start)}, "
        f"at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        "pinning": "unpinned = any CPU; pinned = `taskset -c 0` on both sides (Rust bench and Python twin)",
        "rust": sh(["rustc", "--version"]),
        "python": platform.python_version(),
        "commit": sh(["git", "rev-parse", "--short", "HEAD"]) + (" + uncommitted changes" if sh(["git", "status", "--porcelain"]) else ""),
        "python sizes": f"scale {args.python_scale:g} of the issue's sizes",
        "benches run": ", ".join(benches) or "none",
        "wall time": f"{time.time() - started:.0f} s",
    }
    report = render(results, table_rows, pinnings, meta)
    args.out.write_text(report.rstrip("\n") + "\n")
    print(report)
    log(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
