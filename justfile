# threadproof's recipes; `.ci/run` and the GitHub workflow run the same commands.

# Run every scenario on production primitives and print what the Python notes print.
run *ARGS:
    cargo run --release -- run {{ARGS}}

# Every test that fits in a few minutes: production, properties, CLI, quick loom, shuttle, mutants.
test:
    cargo test

# The deep loom suite (exhaustive proofs at the seed's sizes), with each model's figures.
loom:
    RUSTFLAGS="--cfg loom" cargo test --release --test loom -- --nocapture

# The shuttle suite and the mutant kill matrix, with each run's figures.
shuttle:
    cargo test --release --test shuttle --test mutants -- --nocapture

# Model-check every scenario and mutant; gate on the verdicts (the README's main job).
check *ARGS:
    cargo run --release -- check --mutants {{ARGS}}

# Replay a failure from the schedule `check` printed.
replay *ARGS:
    cargo run --release -- replay {{ARGS}}

# Render an HTML check report to PNG in headless Chromium (target/report/).
report:
    bash .ci/render-report target/report

# The user example: a bounded buffer with a lost wakeup, found and explained.
example:
    cargo run --release --example bounded_buffer

# Review pending snapshots (installs cargo-insta on first use).
snap:
    command -v cargo-insta >/dev/null || cargo install cargo-insta --locked
    cargo insta test --review

# Criterion benchmarks; compare figures side by side within one run.
bench *ARGS:
    cargo bench --benches -- {{ARGS}}

# Each Rust benchmark beside its Python twin (benches/python/), unpinned and under
# `taskset -c 0`, with the physical limits (benches/limits.rs); writes benches/RESULTS.md.
# About 6 minutes on 2 cores. ARGS: e.g. `--pinning unpinned`, `--python-scale 0.1`.
bench-vs-python *ARGS:
    python3 benches/python/vs_rust.py {{ARGS}}

# One shard of the shuttle suite and kill matrix, as one CI machine runs it: `just shard 2 4`.
shard I N:
    cargo nextest run --partition count:{{I}}/{{N}} --test shuttle --test mutants

# Everything CI runs.
ci:
    bash .ci/run
