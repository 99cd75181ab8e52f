#!/usr/bin/env bash
# make bench: runs every bench program one after another, gathers all their JSON lines into one file with
# the machine they ran on, and prints one summary table at the end. A bench that fails, hangs (past
# --timeout) or was not built is reported as such and the others still run.
#
#   bench/run_all.sh [--build DIR(build)] [--out FILE(DIR/bench-results.jsonl)] [--quick]
#                    [--only NAME,NAME...] [--timeout SECONDS(3600; --quick: 300)]
#
#   --quick  every bench with small arguments (seconds each): checks the suite, not the figures.
#   --only   run only these benches (names as in the table below, e.g. --only pipeline_poll,wake).
#
# Each bench's full output goes to DIR/bench-logs/NAME.log. To add a bench: add one `run` line below with its
# full and quick arguments; its JSON lines (stdout lines starting with '{') are collected automatically.
set -u
cd "$(dirname "$0")/.." || exit 2   # benches read data/ relative to the repository root

BUILD=build
OUT=""
QUICK=0
ONLY=""
TIMEOUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --only) ONLY=",$2,"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$BUILD/bench-results.jsonl}
TIMEOUT=${TIMEOUT:-$([ $QUICK = 1 ] && echo 300 || echo 3600)}
LOGS="$BUILD/bench-logs"
mkdir -p "$LOGS" "$(dirname "$OUT")" || exit 2
: > "$OUT"
STATUS="$LOGS/status.tsv"
: > "$STATUS"

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//; s/\\/\\\\/g; s/"/\\"/g')
printf '{"bench": "machine", "cores": %s, "cpu_model": "%s", "kernel": "%s", "started_utc": "%s", "quick": %s}\n' \
  "$(nproc)" "${cpu_model:-unknown}" "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  "$([ $QUICK = 1 ] && echo true || echo false)" >> "$OUT"
echo "machine: $(nproc) cores, ${cpu_model:-unknown}; results -> $OUT, logs -> $LOGS/"

# run NAME "FULL ARGS" "QUICK ARGS" PROGRAM
run() {
  local name="$1" full="$2" quick="$3" prog="$4"
  if [ -n "$ONLY" ] && [[ "$ONLY" != *",$name,"* ]]; then return; fi
  local args="$full"
  [ $QUICK = 1 ] && args="$quick"
  local log="$LOGS/$name.log"
  if [ ! -x "$prog" ]; then
    echo "== $name: not built ($prog)"
    printf '%s\tnot built\t0\t0\n' "$name" >> "$STATUS"
    return
  fi
  echo "== $name: $prog $args"
  local start end rc lines
  start=$(date +%s.%N)
  # shellcheck disable=SC2086  # args are word-split on purpose
  timeout --kill-after=10 "$TIMEOUT" "$prog" $args > "$log" 2>&1 < /dev/null
  rc=$?
  end=$(date +%s.%N)
  lines=$(grep -c '^{.*}[[:space:]]*$' "$log")
  # each line gains "run": NAME, which tells apart runs of one program (pipeline_poll, pipeline_block)
  grep '^{.*}[[:space:]]*$' "$log" | sed "s/^{/{\"run\": \"$name\", /" >> "$OUT"
  local status="ok"
  if [ $rc = 124 ] || [ $rc = 137 ]; then status="timed out (${TIMEOUT}s)"
  elif [ $rc != 0 ]; then status="failed (exit $rc)"; fi
  [ "$status" != ok ] && { echo "   $status; last lines of $log:"; tail -5 "$log" | sed 's/^/   | /'; }
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(awk "BEGIN { printf \"%.1f\", $end - $start }")" "$lines" >> "$STATUS"
}

B="$BUILD/bench"
run pipeline_poll  "--sessions 8 --scheduler-idle poll"  "--sessions 2 --turns 300 --scheduler-idle poll"  "$B/bench_pipeline"
run pipeline_block "--sessions 8 --scheduler-idle block" "--sessions 2 --turns 300 --scheduler-idle block" "$B/bench_pipeline"
run gateway        ""  "--connections 20 --active 4 --rate 40 --seconds 2 --warmup 1"  "$B/bench_gateway"
run provider       ""  "--streams 20 --rounds 1 --ttft-ms 50 --short-ttft-ms 5 --serial 10 --hedge-calls 10 --hedge-concurrency 5 --stall-ms 2000" "$B/bench_provider"
run cluster        ""  "--turns 20 --warmup 5 --sessions 2 --rounds 1 --moved 2"  "$B/bench_cluster"
run memory         ""  "--appends 2000 --loads 2000 --rounds 1"  "$B/bench_memory"
run memory_tls     "--tls 1"  "--appends 2000 --loads 2000 --rounds 1 --tls 1"  "$B/bench_memory"
run wake           ""  "--samples 200"  "$B/bench_wake"
run retrieval      ""  "--chunks 600 --queries 200"  "$B/bench_retrieval"
run retrieval_quality "" "--rounds 1"  "$B/bench_retrieval_quality"
run audit          ""  "--records 300 --rounds 1"  "$B/bench_audit"
run safety         ""  ""  "$B/bench_safety"
run eval           "eval data/eval/demo.jsonl"  "eval data/eval/demo.jsonl --limit 20"  "$BUILD/actors/support-agent"

python3 bench/summarize.py "$OUT" "$STATUS"
