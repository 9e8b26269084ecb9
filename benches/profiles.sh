#!/usr/bin/env bash
# How fast a user's `cargo test` runs its checks in each build profile (`just profiles`;
# README, "In your crate"): examples/user-crate's checked tests (three default `check!`s) in a
# debug build as cargo makes it, in a debug build with the README's one-line
# `[profile.dev.package."*"] opt-level = 3`, and in release. Each test binary runs three times
# (one test at a time); prints the fastest wall time of each, in one markdown table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/examples/user-crate/." "$scratch/"
rm -rf "$scratch/target"
sed -i "s|path = \"../..\"|path = \"$root\"|" "$scratch/Cargo.toml"
cd "$scratch"
export RUSTFLAGS="--cfg threadproof" CARGO_TARGET_DIR="$scratch/target"

# The checked test binary of the current manifest, built with cargo's `$@`.
binary() {
  cargo test --offline --test checked --no-run --message-format=json "$@" 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1
}

# The fastest of three runs of the binary $1, in seconds.
fastest() {
  local best=0
  for _ in 1 2 3; do
    local start ms
    start=$(date +%s%N)
    "$1" --test-threads 1 >/dev/null 2>&1 || { echo "failed: $1" >&2; exit 1; }
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ "$best" -eq 0 ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  printf '%d.%02d' $((best / 1000)) $((best % 1000 / 10))
}

with_package_opt=$(fastest "$(binary)")
release=$(fastest "$(binary --release)")
# As cargo makes a debug build when nothing says otherwise.
sed -i '/^\[profile.dev.package."\*"\]/,/^$/d' Cargo.toml
plain_debug=$(fastest "$(binary)")

echo "| build | the three checks |"
echo "|---|---|"
echo "| debug (\`cargo test\`, no profile setting) | $plain_debug s |"
echo "| debug with \`[profile.dev.package.\"*\"] opt-level = 3\` | $with_package_opt s |"
echo "| release (\`cargo test --release\`) | $release s |"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(rustc --version)"
