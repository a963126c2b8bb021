#!/usr/bin/env bash
# Builds every cargo-fuzz target once, then runs each target in $FUZZ_TARGETS for SECONDS
# (or until FUZZ_RUNS executions when that is set, whichever comes first), one after the
# other, and appends one line per target to fuzz/target/fuzz-long.tsv: target, executions,
# seconds, crash artifact (0 when none). The binaries are run directly (not through
# `cargo fuzz run`, which would rebuild whenever a source file changed mid-campaign);
# FUZZ_BIN_DIR runs already-built binaries from elsewhere and skips the build.
# The stable toolchain runs cargo-fuzz with RUSTC_BOOTSTRAP=1 and --sanitizer none:
# libFuzzer's coverage guidance without ASan (the crate has no `unsafe`; a panic or an
# assertion in src/fuzzing.rs is the failure looked for).
set -uo pipefail
seconds=${1:?usage: fuzz/run.sh SECONDS}
cd "$(dirname "$0")"
bins=${FUZZ_BIN_DIR:-target/x86_64-unknown-linux-gnu/release}
if [ -z "${FUZZ_BIN_DIR:-}" ]; then
  RUSTC_BOOTSTRAP=1 ../.tools/bin/cargo-fuzz build --sanitizer none -O || exit 2
fi
mkdir -p target
report=target/fuzz-long.tsv
status=0
for t in $FUZZ_TARGETS; do
  mkdir -p "target/corpus/$t" "corpus/$t" "artifacts/$t"
  log="target/$t.log"
  limit=(-max_total_time="$seconds")
  [ -n "${FUZZ_RUNS:-}" ] && limit+=(-runs="$FUZZ_RUNS")
  "$bins/$t" "target/corpus/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" \
    "${limit[@]}" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1)
  crash=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
  printf '%s\t%s\t%s\t%s\n' "$t" "${runs:-?}" "${secs:-$seconds}" "${crash:-0}" | tee -a "$report"
  [ $rc -ne 0 ] && { echo "fuzz target $t failed (rc $rc): see fuzz/$log" >&2; status=1; }
done
exit $status
