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

# Review pending snapshots (installs cargo-insta on first use).
snap:
    command -v cargo-insta >/dev/null || cargo install cargo-insta --locked
    cargo insta test --review

# Criterion benchmarks; compare figures side by side within one run.
bench *ARGS:
    cargo bench --bench scenarios -- {{ARGS}}

# Everything CI runs.
ci:
    bash .ci/run
