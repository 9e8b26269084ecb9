#!/usr/bin/env bash
# The build cost of checking a user's crate under `--cfg threadproof` against under a cargo
# feature (`just build-cost`; README, "In your crate"). Copies examples/user-crate twice into a
# scratch directory: as it is (the cfg swap), and with the swap on `feature = "threadproof"`
# (an optional dependency). Both get `serde_json` as a stand-in for the user's own
# dependencies. Each copy builds its tests in a fresh target dir: production, then checked,
# then production again, timed; prints one markdown row per step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

copy() {
  mkdir -p "$scratch/$1"
  cp -r "$root/examples/user-crate/." "$scratch/$1/"
  rm -rf "$scratch/$1/target"
  sed -i "s|path = \"../..\"|path = \"$root\"|" "$scratch/$1/Cargo.toml"
  printf '\n[dependencies]\nserde_json = "1"\n' >>"$scratch/$1/Cargo.toml"
}

copy cfg
copy feature
# The feature variant: threadproof an optional dependency, the swap on the feature.
(cd "$scratch/feature" &&
  sed -i "s|^\[target.'cfg(threadproof)'.dependencies\]|[target.'cfg(any())'.dependencies]|" Cargo.toml &&
  sed -i "s|^serde_json = \"1\"|serde_json = \"1\"\nthreadproof = { path = \"$root\", default-features = false, optional = true }|" Cargo.toml &&
  printf '\n[features]\nthreadproof = ["dep:threadproof"]\n' >>Cargo.toml &&
  sed -i 's/cfg(threadproof)/cfg(feature = "threadproof")/; s/cfg(not(threadproof))/cfg(not(feature = "threadproof"))/' src/lib.rs tests/*.rs)

seconds() {
  local start
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  local ms=$((($(date +%s%N) - start) / 1000000))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

echo "| step | cfg (\`RUSTFLAGS=\"--cfg threadproof\"\`) | feature (\`--features threadproof\`) |"
echo "|---|---|---|"
cd "$scratch/cfg"
c1=$(seconds env -u RUSTFLAGS cargo test --no-run --offline)
c2=$(seconds env RUSTFLAGS="--cfg threadproof" cargo test --no-run --offline)
c3=$(seconds env -u RUSTFLAGS cargo test --no-run --offline)
cd "$scratch/feature"
f1=$(seconds env -u RUSTFLAGS cargo test --no-run --offline)
f2=$(seconds env -u RUSTFLAGS cargo test --no-run --offline --features threadproof)
f3=$(seconds env -u RUSTFLAGS cargo test --no-run --offline)
echo "| production tests, fresh target dir | $c1 s | $f1 s |"
echo "| then the checked tests | $c2 s | $f2 s |"
echo "| then production again | $c3 s | $f3 s |"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(rustc --version)"
