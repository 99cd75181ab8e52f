#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a fixed time each and prints one line per target:
# executions, executions per second, corpus entries, and the outcome. New corpus entries go to
# BUILD/fuzz-corpus/<target>/ (the repository's seeds in tests/fuzz/corpus/<target>/ are only read);
# a crashing input is saved as BUILD/fuzz-artifacts/<target>-crash-... and the script exits 1.
#
# Per-target libFuzzer flags (-max_len, ...) come from tests/fuzz/<target>.options (OSS-Fuzz format: a
# [libfuzzer] section of `name = value` lines), so `make fuzz`, CI and a hand run use the same limits.
#
# FUZZ_SEED (environment): libFuzzer's -seed; set, a run explores the same inputs in the same order every
# time (CI uses 1, so a red run is reproducible and a local run of the same seed for longer covers it).
#
# FUZZ_JOBS (environment, default 1): fuzzing processes per target, run side by side on one shared corpus
# directory (each reads what the others add), so a target's time slot uses that many cores. Worker i gets
# seed FUZZ_SEED+i and its own log (<target>.<i>.log); executions are summed over the workers.
#
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
set -uo pipefail
build=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/tests/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$bin"/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets in $bin (build them: make fuzz)" >&2
  exit 2
fi
jobs=${FUZZ_JOBS:-1}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: FUZZ_JOBS must be a positive whole number, not '$jobs'" >&2; exit 2; }
# libFuzzer takes -seed=0 as "pick one at random": a set seed must be positive to replay.
[[ -z "${FUZZ_SEED:-}" || "$FUZZ_SEED" =~ ^[1-9][0-9]*$ ]] ||
  { echo "run.sh: FUZZ_SEED must be a positive whole number, not '$FUZZ_SEED'" >&2; exit 2; }
mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts" "$build/fuzz-logs"
# exec/s is per wall-clock second; cpu_s and exec/cpu_s (the fuzzer's own CPU time) tell a slow target from a
# busy machine, and load is the 1-minute load average when the target finished.
printf '%-22s %8s %7s %14s %10s %8s %10s %8s %6s  %s\n' target seconds workers executions exec/s cpu_s exec/cpu_s corpus load \
  outcome
failed=0
for t in "${targets[@]}"; do
  work="$build/fuzz-corpus/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$work"
  rm -f "$log" "$build/fuzz-logs/$t".[0-9]*.log  # a previous run's (perhaps with another FUZZ_JOBS)
  seeds="$here/corpus/$t"
  [ -d "$seeds" ] || { echo "run.sh: $t has no seed corpus ($seeds)" >&2; failed=1; continue; }
  flags=()
  if [ -f "$here/$t.options" ]; then
    mapfile -t flags < <(awk '/^\[/{in_lf=($0=="[libfuzzer]");next} in_lf && /=/{gsub(/ /,"");print "-"$0}' "$here/$t.options")
  fi
  logs=("$log")
  [ "$jobs" -gt 1 ] && { logs=(); for ((w = 0; w < jobs; w++)); do logs+=("$build/fuzz-logs/$t.$w.log"); done; }
  # One process per worker; rc is the first failing worker's exit status (0 when all passed).
  run_workers() {
    local pids=() w status
    for ((w = 0; w < jobs; w++)); do
      "$bin/$t" "${flags[@]}" -max_total_time="$seconds" ${FUZZ_SEED:+-seed="$((FUZZ_SEED + w))"} -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/fuzz-artifacts/$t-" "$work" "$seeds" >"${logs[$w]}" 2>&1 &
      pids+=($!)
    done
    rc=0
    for w in "${pids[@]}"; do
      wait "$w"
      status=$?
      [ $rc -eq 0 ] && rc=$status
    done
  }
  TIMEFORMAT='%U %S'
  # The shell's own messages (a worker killed by a signal) go to a log of their own, not into the timing.
  { time run_workers 2>"$build/fuzz-logs/$t.shell.log"; } 2>"$log.time"
  cpu=$(tail -n1 "$log.time" | awk '{printf "%.1f", $1 + $2}')
  load=$(cut -d' ' -f1 /proc/loadavg)
  execs=0
  for l in "${logs[@]}"; do
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$l" | tail -1)
    execs=$((execs + ${n:-0}))
  done
  entries=$(find "$work" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    outcome="ok"
  else
    outcome="FAILED (exit $rc; log ${logs[*]})"
    failed=1
  fi
  per_cpu=$(awk -v e="$execs" -v c="$cpu" 'BEGIN{printf "%d", (c > 0 ? e / c : 0)}')
  printf '%-22s %8s %7s %14s %10s %8s %10s %8s %6s  %s\n' "$t" "$seconds" "$jobs" "$execs" "$((execs / seconds))" "$cpu" \
    "$per_cpu" "$entries" "$load" "$outcome"
  echo "{\"bench\":\"fuzz\",\"target\":\"$t\",\"seconds\":$seconds,\"workers\":$jobs,\"executions\":$execs,\"cpu_seconds\":$cpu,\"corpus\":$entries,\"load\":$load,\"ok\":$([ $rc -eq 0 ] && echo true || echo false)}" >> "$build/fuzz-logs/results.jsonl"
done
if [ $failed -ne 0 ]; then
  for f in "$build"/fuzz-artifacts/*; do [ -e "$f" ] && echo "crash input: $f"; done
  for t in "${targets[@]}"; do
    for l in "$build/fuzz-logs/$t.log" "$build/fuzz-logs/$t".[0-9]*.log; do
      [ -f "$l" ] && grep -m5 -E "ERROR|fuzz invariant|runtime error" "$l" | sed "s/^/$t: /"
    done
  done
fi
exit $failed
