#!/usr/bin/env bash
# Instructions per execution of the overhead bench's program, raw engine against threadproof
# (benches/instructions.rs), counted by valgrind's callgrind: deterministic, so unlike wall
# time it compares two builds on a loaded machine. `just instructions [MODE...]`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
modes=("$@")
if [ ${#modes[@]} -eq 0 ]; then
    modes=(loom-raw loom-traced loom-untraced random-raw random-traced random-untraced
           pct-raw pct-traced pct-untraced loom-raw-arc loom-mirror random-raw-arc random-mirror)
fi
binary=$(cargo bench --bench instructions --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*/instructions-[^"]*"' | cut -d'"' -f4 | tail -1)
[ -x "$binary" ] || { echo "instructions: the bench did not build" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-16s %12s %16s %14s\n' mode executions instructions per-execution
for mode in "${modes[@]}"; do
    line=$(valgrind --tool=callgrind --callgrind-out-file="$out/$mode" "$binary" "$mode" 2>"$out/$mode.err") \
        || { cat "$out/$mode.err" >&2; exit 1; }
    executions=${line##*: }; executions=${executions%% *}
    total=$(sed -n 's/^summary: //p' "$out/$mode")
    printf '%-16s %12s %16s %14s\n' "$mode" "$executions" "$total" "$((total / executions))"
done
