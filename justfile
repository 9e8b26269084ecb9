# threadproof's recipes. The CI steps call `.ci/run STEP`, exactly as the GitHub workflow's
# jobs do, under the same names; the others are conveniences for a developer.

# List the recipes: a bare `just` runs nothing.
default:
    @just --list

# Every CI step in order (fmt clippy doc test gate example user-crate report deep snapshots).
ci:
    bash .ci/run

fmt:
    bash .ci/run fmt

clippy:
    bash .ci/run clippy

# The API docs, warnings as errors (broken links, unclosed HTML).
doc:
    bash .ci/run doc

# A build on the toolchain Cargo.toml's `rust-version` names (installs it with rustup).
msrv:
    bash .ci/run msrv

# Every test that fits in a few minutes (`cargo test`).
test:
    bash .ci/run test

# The README's main job: every scenario run, then checked with its mutants.
gate:
    bash .ci/run gate

# The user example: a bounded buffer with a lost wakeup, found and explained.
example:
    bash .ci/run example

# The bug gallery's table: executions to first bug per checker, threadproof beside raw loom
# and raw shuttle, over SEEDS seeds of BUDGET schedules (docs/gallery.md).
gallery SEEDS="10" BUDGET="1000":
    cargo run --release --example gallery -- {{SEEDS}} {{BUDGET}}

# A user's crate (examples/user-crate): checked under --cfg threadproof, then built on std.
user-crate:
    bash .ci/run user-crate

# Render an HTML check report to PNG in headless Chromium (under target/report).
report:
    bash .ci/run report

# The deep model proofs (release, `--features deep`), each printing its figures.
deep:
    bash .ci/run deep

# No pending or orphaned snapshots.
snapshots:
    bash .ci/run snapshots

# CI's benchmark job: the overhead, jobs and portfolio groups, the built primitives and
# instructions per execution, raw engines beside threadproof (figures, not a gate).
benchmarks:
    bash .ci/run benchmarks

# Loom's walk split into sub-walks against the whole walk, or (`contention`) walks beside other
# threads: experiments on raw loom (its own workspace; docs/performance.md).
loom-split *ARGS:
    cd benches/loom-split && cargo run --release --locked -- {{ARGS}}

# One shard of the model tests, as one CI machine runs it: `just shard 2 4`.
shard I N *ARGS:
    bash .ci/run shard {{I}} {{N}} {{ARGS}}

# Run every scenario on production primitives and print what the Python notes print.
run *ARGS:
    cargo run --release -- run {{ARGS}}

# Model-check scenarios; e.g. `just check turns --checkers shuttle`.
check *ARGS:
    cargo run --release -- check --mutants {{ARGS}}

# Replay a failure from the schedule `check` printed.
replay *ARGS:
    cargo run --release -- replay {{ARGS}}

# One scenario's model tests, e.g. `just models turns` (or `kill::`, `sampled::`, `proofs::`).
models FILTER="":
    cargo test --test models {{FILTER}} -- --nocapture

# Review pending snapshots (installs cargo-insta on first use).
snap:
    command -v cargo-insta >/dev/null || cargo install cargo-insta --locked
    cargo insta test --review

# Criterion benchmarks; compare figures side by side within one run (docs/performance.md).
bench *ARGS:
    cargo bench --benches -- {{ARGS}}

# Build time of a user's crate checked under `--cfg threadproof` against under a cargo feature.
build-cost:
    bash benches/build_cost.sh

# A user's checks in a debug build, with the README's dependency profile, and in release.
profiles:
    bash benches/profiles.sh

# Instructions per execution, raw engines against threadproof, under callgrind (valgrind).
instructions *MODES:
    bash benches/instructions.sh {{MODES}}

# Each Rust benchmark beside its Python twin; writes benches/RESULTS.md (docs/performance.md).
bench-vs-python *ARGS:
    python3 benches/python/vs_rust.py {{ARGS}}

# The pool under random worker kills (tests/load.rs), 20 runs beside 4 busy loops: all 20 pass.
load-kills:
    bash .ci/run load-kills
