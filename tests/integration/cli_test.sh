#!/usr/bin/env bash
# Command-line integration tests for support-agent: real processes, real files, the shipped data.
#
#   cli_test.sh SUPPORT_AGENT_BINARY [CASE...]     no CASE = every case
#
# Run with the repository root as working directory (the default config's paths are relative to it:
# data/..., var/...). Every case works in its own `mktemp -d` directory and points
# classifier.model_path there, so cases can run in parallel without sharing or clobbering a model.
# Each case prints "ok - <name>" or "not ok - <name>: why"; the script exits non-zero if any failed.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 SUPPORT_AGENT_BINARY [CASE...]" >&2
  exit 2
fi
BIN=$1
shift
if [[ ! -x $BIN ]]; then
  echo "not ok - setup: '$BIN' is not an executable" >&2
  exit 1
fi
if [[ ! -f data/intents/intents.csv || ! -f data/tenants/accounts.json ]]; then
  echo "not ok - setup: run from the repository root (no data/ in $(pwd))" >&2
  exit 1
fi

ROOT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sa-cli-test.XXXXXX")
cleanup() { rm -rf "$ROOT_TMP"; }
trap cleanup EXIT

# Every invocation of the product is bounded, so a hang fails the case instead of the ctest timeout.
RUN_TIMEOUT=${SA_CLI_TEST_RUN_TIMEOUT:-90}

# Per-case state, set up by the runner: CASE, T (the case's temp dir), MODEL (a per-case model path).
CASE=""
T=""
MODEL=""
# Set by run_agent: RC, and the files $T/out and $T/err.
RC=0

fail() {
  echo "not ok - $CASE: $*"
  : >"$T/.reported"
  if [[ -s $T/out ]]; then
    echo "# --- stdout (first 40 lines) ---"
    head -n 40 "$T/out" | cut -c1-300 | sed 's/^/#   /'
  fi
  if [[ -s $T/err ]]; then
    echo "# --- stderr (first 40 lines) ---"
    head -n 40 "$T/err" | cut -c1-300 | sed 's/^/#   /'
  fi
  exit 1
}

# run_agent STDIN_FILE ARGS... : runs the product with ARGS, stdin from STDIN_FILE (/dev/null for none).
# Sets RC; stdout in $T/out, stderr in $T/err.
run_agent() {
  local input=$1
  shift
  RC=0
  timeout "$RUN_TIMEOUT" "$BIN" "$@" <"$input" >"$T/out" 2>"$T/err" || RC=$?
  if [[ $RC -eq 124 ]]; then
    fail "timed out after ${RUN_TIMEOUT}s: support-agent $*"
  fi
}

expect_rc() {
  local want=$1 what=$2
  [[ $RC -eq $want ]] || fail "$what: expected exit code $want, got $RC"
}

# expect_in FILE FIXED_TEXT WHAT / expect_not_in FILE FIXED_TEXT WHAT
expect_in() {
  grep -aqF -- "$2" "$1" || fail "$3: expected $(basename "$1") to contain '$2'"
}
expect_not_in() {
  if grep -aqF -- "$2" "$1"; then
    fail "$3: expected $(basename "$1") not to contain '$2' (found: $(grep -aF -m1 -- "$2" "$1" | cut -c1-200))"
  fi
}
# expect_match FILE EXTENDED_REGEX WHAT
expect_match() {
  grep -aqE -- "$2" "$1" || fail "$3: expected $(basename "$1") to match /$2/"
}

# A chat run against the per-case model (trained on first use, ~1-2 s).
chat() {
  local input=$1
  shift
  run_agent "$input" chat --set "classifier.model_path=$MODEL" "$@"
}

# Trains a model into $1 with train-intents and checks it succeeded.
train_model() {
  run_agent /dev/null train-intents data/intents/intents.csv --out "$1"
  expect_rc 0 "train-intents"
  [[ -s $1 ]] || fail "train-intents exited 0 but wrote no model at $1"
}

# ---------------------------------------------------------------------------------------------------------
# 1. A scripted chat is answered with sources, and a request for a person is escalated.
case_scripted_chat() {
  printf 'How do I add a custom domain?\nlet me talk to a human\n' >"$T/in"
  chat "$T/in" --tenant acme --user alice
  expect_rc 0 "chat"
  expect_in "$T/out" "agent> " "answer"
  expect_match "$T/out" '^  \[[0-9]+\] .* - https?://[^ ]*custom-domains' "custom-domain source line"
  expect_match "$T/out" '^  intent: [a-z_]+   confidence: [0-9]+\.[0-9]{2}' "intent line"
  expect_in "$T/out" "escalated to a human: user_requested" "escalation of 'let me talk to a human'"
  # Exactly two turns, each answered once.
  local answers
  answers=$(grep -ac '^agent> ' "$T/out" || true)
  [[ $answers -eq 2 ]] || fail "expected 2 'agent> ' answers, got $answers"
  expect_not_in "$T/out" "[error" "no turn failed"
}

# 2. Billing answers carry the customer's own account facts, never another tenant's.
case_billing_tenant_isolation() {
  printf 'How much is my invoice?\n' >"$T/in"
  chat "$T/in" --tenant acme --user alice
  expect_rc 0 "acme/alice chat"
  expect_match "$T/out" '^  intent: billing ' "acme/alice billing intent"
  expect_in "$T/out" "Acme Corporation" "acme/alice billing answer"
  expect_match "$T/out" 'INV-2026-[0-9]+' "acme/alice invoice id"

  chat "$T/in" --tenant globex --user carol
  expect_rc 0 "globex/carol chat"
  expect_match "$T/out" '^  intent: billing ' "globex/carol billing intent"
  expect_in "$T/out" "Globex" "globex/carol billing answer names its own account"
  expect_not_in "$T/out" "Acme" "globex/carol billing answer"
  expect_not_in "$T/out" "acme.example" "globex/carol billing answer"
  expect_not_in "$T/out" "4242" "globex/carol billing answer (acme's card)"
  local acme_invoices inv
  acme_invoices=$(python3 -c '
import json
d = json.load(open("data/tenants/accounts.json"))
for t in d["tenants"]:
    if t["id"] == "acme":
        for i in t.get("invoices", []):
            print(i["id"])
')
  [[ -n $acme_invoices ]] || fail "test data: acme has no invoices in data/tenants/accounts.json"
  for inv in $acme_invoices; do
    expect_not_in "$T/out" "$inv" "globex/carol billing answer (acme's invoice)"
  done
}

# 3. Unknown tenant / unknown user: usage error naming it and listing the known ones.
case_unknown_tenant() {
  printf 'hello\n' >"$T/in"
  chat "$T/in" --tenant nosuchtenant --user alice
  expect_rc 2 "unknown tenant"
  expect_in "$T/err" "nosuchtenant" "stderr names the tenant"
  expect_match "$T/err" 'known:.*acme' "stderr lists known tenants (acme)"
  expect_match "$T/err" 'known:.*globex' "stderr lists known tenants (globex)"
  expect_not_in "$T/out" "agent> " "no chat started"
}

case_unknown_user() {
  printf 'hello\n' >"$T/in"
  chat "$T/in" --tenant acme --user nosuchuser
  expect_rc 2 "unknown user"
  expect_in "$T/err" "nosuchuser" "stderr names the user"
  expect_in "$T/err" "acme" "stderr names the tenant"
  expect_match "$T/err" 'known:.*alice' "stderr lists acme's users (alice)"
  expect_match "$T/err" 'known:.*bob' "stderr lists acme's users (bob)"
  # carol belongs to globex: she must not be offered as an acme user.
  expect_not_in "$T/err" "carol" "stderr lists only acme's users"
  expect_not_in "$T/out" "agent> " "no chat started"
}

# 4. Configuration errors are usage errors (exit 2) that say exactly what is wrong.
case_malformed_config() {
  cat >"$T/bad.jsonc" <<'EOF'
// a config file with a syntax error on line 5
{
  "node": {
    "name": "test-node",
    "log_level": "info",,
  }
}
EOF
  run_agent /dev/null config --config "$T/bad.jsonc"
  expect_rc 2 "malformed config"
  expect_in "$T/err" "$T/bad.jsonc" "error names the file"
  expect_match "$T/err" 'line 5' "error names the line"
  # The chat command refuses it the same way, before doing any work.
  run_agent /dev/null chat --tenant acme --user alice --config "$T/bad.jsonc" \
    --set "classifier.model_path=$MODEL"
  expect_rc 2 "chat with malformed config"
  expect_in "$T/err" "$T/bad.jsonc" "chat: error names the file"
  [[ ! -e $MODEL ]] || fail "chat trained a model although its config was refused"
}

case_unknown_config_key() {
  cat >"$T/unknown.jsonc" <<'EOF'
{
  // typo: turn_timeout_msec instead of turn_timeout_ms
  "session": { "turn_timeout_msec": 2000 }
}
EOF
  run_agent /dev/null config --config "$T/unknown.jsonc"
  expect_rc 2 "unknown key in file"
  expect_in "$T/err" "session.turn_timeout_msec" "error names the key path"
  # Unknown keys are refused from --set as well.
  run_agent /dev/null config --set escalation.confidence_treshold=0.5
  expect_rc 2 "unknown key via --set"
  expect_in "$T/err" "escalation.confidence_treshold" "--set: error names the key path"
}

case_out_of_range_set() {
  run_agent /dev/null config --set escalation.confidence_threshold=1.5
  expect_rc 2 "out-of-range --set"
  expect_in "$T/err" "escalation.confidence_threshold" "error names the key"
  expect_in "$T/err" "1.5" "error names the value"
  expect_match "$T/err" '\[0(\.0)?, 1(\.0)?\]' "error names the expected range"
  # An in-range value is accepted and shows in the effective config.
  run_agent /dev/null config --set escalation.confidence_threshold=0.55
  expect_rc 0 "in-range --set"
  python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
v = c["escalation"]["confidence_threshold"]
sys.exit(0 if abs(v - 0.55) < 1e-9 else "confidence_threshold is %r, expected 0.55" % v)
' "$T/out" || fail "--set escalation.confidence_threshold=0.55 not reflected in 'config' output"
}

case_bad_env_type() {
  RC=0
  SUPPORT_AGENT_SESSION__TURN_TIMEOUT_MS=abc timeout "$RUN_TIMEOUT" "$BIN" config \
    </dev/null >"$T/out" 2>"$T/err" || RC=$?
  expect_rc 2 "non-integer env value"
  expect_in "$T/err" "SUPPORT_AGENT_SESSION__TURN_TIMEOUT_MS" "error names the environment variable"
  expect_in "$T/err" "session.turn_timeout_ms" "error names the key"
  expect_in "$T/err" "abc" "error names the value"
  # A well-typed env value is applied.
  RC=0
  SUPPORT_AGENT_SESSION__TURN_TIMEOUT_MS=2500 timeout "$RUN_TIMEOUT" "$BIN" config \
    </dev/null >"$T/out" 2>"$T/err" || RC=$?
  expect_rc 0 "valid env value"
  python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
sys.exit(0 if c["session"]["turn_timeout_ms"] == 2500 else "turn_timeout_ms is %r" % c["session"]["turn_timeout_ms"])
' "$T/out" || fail "SUPPORT_AGENT_SESSION__TURN_TIMEOUT_MS=2500 not reflected in 'config' output"
}

# 5. A damaged model is a runtime failure (exit 1) naming the file, never silently used or retrained.
case_corrupt_model() {
  local m="$T/m.bin"
  train_model "$m"
  local before
  before=$(python3 - "$m" <<'EOF'
import os, sys
p = sys.argv[1]
n = os.path.getsize(p)
with open(p, "r+b") as f:
    f.seek(n // 2)
    b = f.read(1)
    f.seek(n // 2)
    f.write(bytes([b[0] ^ 0xFF]))
print(n)
EOF
)
  printf 'How do I add a custom domain?\n' >"$T/in"
  run_agent "$T/in" chat --tenant acme --user alice --set "classifier.model_path=$m"
  expect_rc 1 "chat with a corrupt model"
  expect_in "$T/err" "$m" "error names the model file"
  expect_not_in "$T/out" "agent> " "no chat with a corrupt model"
  [[ $(stat -c %s "$m") -eq $before ]] || fail "the corrupt model file was replaced or changed"
}

case_truncated_model() {
  local m="$T/m.bin"
  train_model "$m"
  local size
  size=$(stat -c %s "$m")
  truncate -s $((size / 2)) "$m"
  printf 'How do I add a custom domain?\n' >"$T/in"
  run_agent "$T/in" chat --tenant acme --user alice --set "classifier.model_path=$m"
  expect_rc 1 "chat with a truncated model"
  expect_in "$T/err" "$m" "error names the model file"
  expect_match "$T/err" 'truncat' "error says the file is truncated"
  expect_not_in "$T/out" "agent> " "no chat with a truncated model"
}

# 6. Missing knowledge: the node still serves; questions go to a human with the reason.
case_missing_knowledge() {
  printf 'How do I add a custom domain?\n' >"$T/in"
  chat "$T/in" --tenant acme --user alice --set 'retriever.knowledge_paths=["/nonexistent/kb"]'
  expect_rc 0 "chat without a knowledge base"
  expect_match "$T/err" 'knowledge.*acme.*unavailable|acme.*knowledge.*unavailable' \
    "stderr reports acme's knowledge problem"
  expect_match "$T/err" 'knowledge.*globex.*unavailable|globex.*knowledge.*unavailable' \
    "stderr reports globex's knowledge problem"
  expect_in "$T/err" "/nonexistent/kb" "stderr names the missing path"
  expect_in "$T/out" "escalated to a human: knowledge_unavailable" "question is escalated"
  expect_not_in "$T/out" "custom-domains" "no sources cited without knowledge"
}

# 7. Bad messages fail their own turn only; the session keeps answering.
case_bad_messages() {
  {
    python3 -c 'import sys; sys.stdout.write("a" * 102400 + "\n")'
    printf '\xc3\x28 broken\n'
    printf 'How do I add a custom domain?\n'
  } >"$T/in"
  chat "$T/in" --tenant acme --user alice
  expect_rc 0 "chat with bad messages"
  expect_in "$T/out" "[error message_too_long]" "100 KB line refused"
  expect_in "$T/out" "[error invalid_utf8]" "invalid UTF-8 refused"
  expect_match "$T/out" '^  \[[0-9]+\] .*custom-domains' "next question still answered with sources"
  local answers errors
  answers=$(grep -ac '^agent> ' "$T/out" || true)
  errors=$(grep -ac '\[error' "$T/out" || true)
  [[ $answers -eq 3 ]] || fail "expected 3 'agent> ' replies, got $answers"
  [[ $errors -eq 2 ]] || fail "expected exactly 2 error replies, got $errors"
  # The order is preserved: errors for lines 1 and 2, the answer for line 3.
  local order
  order=$(grep -aoE '\[error [a-z0-9_]+\]|^  intent: [a-z_]+' "$T/out" | tr '\n' ';')
  [[ $order == "[error message_too_long];[error invalid_utf8];  intent: technical;" ]] ||
    fail "unexpected reply order: $order"
}

# 8. The config command and the usage text.
case_config_describe() {
  run_agent /dev/null config --describe
  expect_rc 0 "config --describe"
  local key
  for key in escalation.confidence_threshold session.turn_timeout_ms classifier.model_path \
    retriever.knowledge_paths limits.max_message_bytes tenants.accounts_file; do
    expect_match "$T/out" "^${key//./\\.}\$" "describe lists $key"
  done
}

case_config_print_json() {
  run_agent /dev/null config
  expect_rc 0 "config"
  python3 -m json.tool "$T/out" >/dev/null 2>"$T/json_err" ||
    fail "'config' output is not JSON: $(head -c 300 "$T/json_err")"
  # The printed config loads back unchanged (to_json_text promises a round trip).
  cp "$T/out" "$T/printed.json"
  run_agent /dev/null config --config "$T/printed.json"
  expect_rc 0 "config --config <printed config>"
  cmp -s "$T/printed.json" "$T/out" || fail "printing the printed config gives a different config"
  run_agent /dev/null config --print
  expect_rc 0 "config --print"
  python3 -m json.tool "$T/out" >/dev/null 2>&1 || fail "'config --print' output is not JSON"
}

case_bogus_command() {
  run_agent /dev/null bogus
  expect_rc 2 "unknown command"
  expect_in "$T/err" "bogus" "stderr names the command"
  expect_in "$T/err" "usage: support-agent" "stderr shows usage"
  run_agent /dev/null
  expect_rc 2 "no command"
  expect_in "$T/out" "usage: support-agent" "usage without a command"
  run_agent /dev/null chat --tenant acme
  expect_rc 2 "chat without --user"
  expect_in "$T/err" "usage: support-agent" "chat without --user shows usage"
}

# 9. Training data problems are runtime failures naming the file and the problem.
case_train_missing_column() {
  printf 'text,label\nhow much is my invoice,billing\nmy build fails,technical\n' >"$T/nolabel.csv"
  run_agent /dev/null train-intents "$T/nolabel.csv" --out "$T/x.bin"
  expect_rc 1 "CSV without an intent column"
  expect_in "$T/err" "$T/nolabel.csv" "error names the file"
  expect_in "$T/err" "intent" "error names the missing column"
  [[ ! -e $T/x.bin ]] || fail "a model was written from a broken CSV"

  printf 'text,intent\nhow much is my invoice,billing\nmy build fails\n' >"$T/short.csv"
  run_agent /dev/null train-intents "$T/short.csv" --out "$T/x.bin"
  expect_rc 1 "CSV row with a missing field"
  expect_in "$T/err" "$T/short.csv:3" "error names the file and line"
  [[ ! -e $T/x.bin ]] || fail "a model was written from a broken CSV"

  run_agent /dev/null train-intents "$T/does-not-exist.csv" --out "$T/x.bin"
  expect_rc 1 "missing CSV"
  expect_in "$T/err" "$T/does-not-exist.csv" "error names the missing file"
}

# 8. support-agent ingest: a tenant's own knowledge base on disk, picked up by chat, re-ingested incrementally.
case_ingest_round_trip() {
  mkdir -p "$T/kb/guides"
  printf -- '---\ntitle: Zebra invoices\nurl: https://help.example/zebra\n---\n# Zebra invoices\n\nZebra invoices are issued on the zebra date with the zebra plan and its price.\n' >"$T/kb/guides/zebra.md"
  printf 'id,question,answer\nz1,Who signs zebra contracts?,The zebra desk signs them.\n' >"$T/kb/faq.csv"
  printf '[{"id": "j1", "question": "Can zebras be exported?", "answer": "Yes, as CSV."}]\n' >"$T/kb/faq.json"
  local state=$T/state
  run_agent /dev/null ingest --tenant acme "$T/kb" --set "node.state_dir=$state"
  expect_rc 0 "first ingest"
  expect_in "$T/out" "ingested tenant acme into $state/knowledge/acme/index.sqlite (generation 1)" "summary"
  expect_match "$T/out" '^  files +3 found: 3 added, 0 updated, 0 removed, 0 unchanged' "files line"
  expect_match "$T/out" '^  chunks +3 in the index \(\+3 -0\)' "chunks line"
  expect_match "$T/out" '^  index +[0-9.]+ MB \([0-9]+ bytes\)' "index size line"
  [[ -s $state/knowledge/acme/index.sqlite ]] || fail "no index file at $state/knowledge/acme/index.sqlite"

  # A chat on the same state dir answers acme from the ingested index (not from data/kb).
  printf 'When are zebra invoices issued?\n' >"$T/in"
  chat "$T/in" --tenant acme --user alice --set "node.state_dir=$state"
  expect_rc 0 "chat after ingest"
  expect_match "$T/out" '^  \[[0-9]+\] Zebra invoices .*https://help.example/zebra' "source from the ingested page"

  run_agent /dev/null ingest --tenant acme "$T/kb" --set "node.state_dir=$state"
  expect_rc 0 "second ingest"
  expect_in "$T/out" "nothing changed for tenant acme" "unchanged re-ingest"
  expect_match "$T/out" '3 unchanged \(skipped\)' "all skipped"

  printf '# Zebra invoices\n\nZebra invoices now arrive on the first of the month.\n' >"$T/kb/guides/zebra.md"
  touch -d '2001-01-01' "$T/kb/guides/zebra.md"
  rm "$T/kb/faq.json"
  run_agent /dev/null ingest --tenant acme "$T/kb" --set "node.state_dir=$state"
  expect_rc 0 "third ingest"
  expect_in "$T/out" "(generation 2)" "new generation"
  expect_match "$T/out" '0 added, 1 updated, 1 removed, 1 unchanged' "incremental counts"
  [[ ! -e $state/knowledge/globex ]] || fail "acme's ingest created something for globex"
}

# 9. Bad sources: every one named with file (and line), nothing written; --skip-bad commits the rest.
case_ingest_bad_input() {
  mkdir -p "$T/kb"
  printf '# Good\n\nA good page about webhooks.\n' >"$T/kb/good.md"
  printf '# Bin\n\x00\x01' >"$T/kb/bin.md"
  printf 'id,question\n1,What?\n' >"$T/kb/faq.csv"
  printf '<html><body><p>unclosed <a href="x\n</body>\n' >"$T/kb/page.html"
  local state=$T/state
  run_agent /dev/null ingest --tenant acme "$T/kb" --set "node.state_dir=$state"
  expect_rc 1 "ingest with bad sources"
  expect_in "$T/err" "3 bad sources" "count"
  expect_in "$T/err" "$T/kb/bin.md: binary file" "binary file named"
  expect_in "$T/err" "$T/kb/faq.csv:1: missing required column 'answer'" "CSV file and line named"
  expect_in "$T/err" "$T/kb/page.html:1: tag '<a' is never closed" "broken HTML file and line named"
  expect_in "$T/err" "the previous index is unchanged" "nothing written"
  [[ ! -e $state/knowledge/acme/index.sqlite ]] || fail "an index was written despite bad sources"

  run_agent /dev/null ingest --tenant acme "$T/kb" --skip-bad --set "node.state_dir=$state"
  expect_rc 1 "--skip-bad still exits non-zero"
  expect_in "$T/err" "skipped: $T/kb/bin.md: binary file" "skipped file listed"
  expect_in "$T/out" "ingested tenant acme" "the rest was ingested"
  expect_match "$T/out" '1 added, .* 3 bad \(skipped\)' "summary counts the skipped files"

  printf 'x\n' >"$T/kb/huge.md"
  head -c 3000 /dev/zero | tr '\0' 'a' >>"$T/kb/huge.md"
  run_agent /dev/null ingest --tenant acme "$T/kb/huge.md" --set "node.state_dir=$state" --set retriever.max_file_bytes=2048
  expect_rc 1 "file over retriever.max_file_bytes"
  expect_in "$T/err" "$T/kb/huge.md: too large" "huge file named"
  expect_in "$T/err" "retriever.max_file_bytes = 2048" "the limit's key named"

  mkdir -p "$T/empty"
  printf '\n\n' >"$T/empty/blank.md"
  run_agent /dev/null ingest --tenant acme "$T/empty" --set "node.state_dir=$state"
  expect_rc 1 "empty knowledge base"
  expect_in "$T/err" "would be empty" "empty knowledge base refused"

  run_agent /dev/null ingest --tenant ../globex "$T/kb" --set "node.state_dir=$state"
  expect_rc 2 "path traversal in the tenant name"
  expect_in "$T/err" "invalid tenant name '../globex'" "tenant name refused"
  [[ ! -e $state/globex && ! -e $T/globex ]] || fail "something was created outside the knowledge root"
  run_agent /dev/null ingest "$T/kb" --set "node.state_dir=$state"
  expect_rc 2 "ingest without --tenant"
  expect_in "$T/err" "ingest needs --tenant" "usage error"
}

# 10. Ctrl-C during a long ingest: exit 130, nothing written, the previous generation still in place.
case_ingest_interrupted() {
  local state=$T/state
  mkdir -p "$T/small"
  printf '# Base\n\nThe base page.\n' >"$T/small/base.md"
  run_agent /dev/null ingest --tenant acme "$T/small" --set "node.state_dir=$state"
  expect_rc 0 "first ingest"
  python3 - "$T/big" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "p%05d.md" % i), "w") as f:
        f.write("# Page %d\n\n" % i + ("Section %d explains quotas, retries and webhooks in plain words. " % i) * 40 + "\n")
PY
  # Not under `timeout`: the signal goes to the product itself. The wait below has its own deadline. The
  # files are emptied first, so the progress line looked for cannot be the first ingest's.
  : >"$T/out"
  : >"$T/err"
  "$BIN" ingest --tenant acme "$T/big" --set "node.state_dir=$state" >"$T/out" 2>"$T/err" &
  local pid=$! waited=0
  until grep -aq 'ingest acme: read ' "$T/err"; do  # the first progress line (after one file): it is running
    if [[ $waited -ge 6000 ]]; then
      kill -9 "$pid" 2>/dev/null || true
      fail "no progress line within 60 s"
    fi
    kill -0 "$pid" 2>/dev/null || fail "ingest ended before it could be interrupted"
    sleep 0.01  # a poll with a deadline, not a wait for an event that could be missed
    waited=$((waited + 1))
  done
  kill -INT "$pid"
  RC=0
  wait "$pid" || RC=$?
  expect_rc 130 "interrupted ingest"
  expect_in "$T/err" "interrupted" "interruption reported"
  [[ ! -e $state/knowledge/acme/index.sqlite.tmp ]] || fail "a temporary index was left behind"
  run_agent /dev/null ingest --tenant acme "$T/small" --set "node.state_dir=$state"
  expect_rc 0 "ingest after the interruption"
  expect_in "$T/out" "nothing changed for tenant acme" "the first generation is still in place"
  expect_in "$T/out" "(generation 1)" "generation 1"
}

# 11. The audit trail: escalations are audited; audit verify exits 0 for the intact chain, 3 naming the first
#     broken link after an edit, 1 for a file it cannot read, 2 for bad usage; audit show prints one tenant only.
case_audit_verify() {
  local audit="$T/audit/node-1.jsonl"
  printf 'let me talk to a human\n' >"$T/in"
  chat "$T/in" --tenant acme --user alice --set "audit.path=$audit"
  expect_rc 0 "acme chat"
  chat "$T/in" --tenant globex --user carol --set "audit.path=$audit"
  expect_rc 0 "globex chat"
  run_agent /dev/null audit verify --set "audit.path=$audit" --tenant globex
  expect_rc 0 "audit verify of the intact chain"
  expect_in "$T/out" "chain intact" "verify's verdict"
  expect_in "$T/out" "tenant globex: 1 records" "verify counts the tenant's records"
  run_agent /dev/null audit show --tenant globex --set "audit.path=$audit"
  expect_rc 0 "audit show"
  expect_in "$T/out" '"action":"escalate"' "globex's escalation shown"
  expect_not_in "$T/out" '"tenant":"acme"' "audit show --tenant globex"
  expect_not_in "$T/out" "talk to a human" "the customer's words are never audited"
  sed -i '0,/"result":"user_requested"/s//"result":"low_confidence"/' "$audit"
  run_agent /dev/null audit verify --file "$audit"
  expect_rc 3 "audit verify after an edit"
  expect_in "$T/out" "chain BROKEN" "verify's verdict after the edit"
  expect_in "$T/out" "edited content" "the broken link is named"
  run_agent /dev/null audit verify --file "$T/nothing.jsonl"
  expect_rc 1 "audit verify of a missing file"
  run_agent /dev/null audit frobnicate
  expect_rc 2 "audit with an unknown subcommand"
}

# ---------------------------------------------------------------------------------------------------------
# Actions: a ticket is proposed, opened on "yes", and found by a lookup; a workflow whose signing secret is
# not in the environment stops start-up naming the variable (and never the secret).
case_actions() {
  printf 'Please open a ticket about my custom domain certificate still pending\nyes\nWhat is the status of ticket TCK-7001?\n' >"$T/in"
  chat "$T/in" --tenant acme --user bob
  expect_rc 0 "chat"
  expect_in "$T/out" "Shall I go ahead?" "proposal question"
  expect_in "$T/out" "actions: create_ticket:proposed" "proposal"
  expect_in "$T/out" "actions: create_ticket:ok" "confirmed ticket"
  expect_in "$T/out" "I've opened support ticket TCK-7001" "ticket id told to the customer"
  expect_in "$T/out" "actions: lookup_order_or_invoice:ok" "lookup of the new ticket"
  expect_in "$T/out" "Ticket TCK-7001" "the new ticket found"
  expect_not_in "$T/out" "[error" "no turn failed"

  printf 'hello\n' >"$T/in"
  unset SA_CLI_UNSET_WORKFLOW_SECRET
  chat "$T/in" --tenant acme --user bob \
    --set actions.workflows.order_escalation.url=https://ops.example.com/hooks/order \
    --set actions.workflows.order_escalation.secret_env=SA_CLI_UNSET_WORKFLOW_SECRET
  expect_rc 1 "chat with a workflow whose secret is unset"
  expect_in "$T/err" "actions.workflows.order_escalation.secret_env names SA_CLI_UNSET_WORKFLOW_SECRET, which is not set" \
    "the unset variable named"
}

# Agents' tags of handoffs (docs/protocol.md, "Agent console") exported for train-intents, and agent tokens.
case_export_training() {
  local state="$T/state"
  mkdir -p "$state/handoff"
  cat >"$state/handoff/handoffs.jsonl" <<'JSONL'
{"id":"HO-aaa","tenant":"acme","user":"alice","session":"s-1","state":"closed","question":"why was I charged twice, \"again\"?","tags":{"intent":"billing","bot_could_answer":false}}
{"id":"HO-bbb","tenant":"acme","user":"bob","session":"s-2","state":"queued","question":"untagged question"}
{"id":"HO-ccc","tenant":"globex","user":"carol","session":"s-3","state":"closed","question":"another tenant's","tags":{"intent":"technical","bot_could_answer":true}}
{"id":"HO-ddd","tenant":"acme","user":"dana","session":"s-4","state":"returned_to_bot","question":"how do I add a seat","tags":{"intent":"account","bot_could_answer":true}}
JSONL
  run_agent /dev/null export-training --tenant acme --out "$T/tags.csv" --set "node.state_dir=$state"
  expect_rc 0 "export-training"
  expect_in "$T/err" "exported 2 tagged handoffs of tenant acme" "row count"
  expect_in "$T/tags.csv" "text,intent,bot_could_answer,handoff" "header"
  expect_in "$T/tags.csv" '"why was I charged twice, ""again""?",billing,false,HO-aaa' "quoted row"
  expect_not_in "$T/tags.csv" "HO-ccc" "another tenant's handoff"
  expect_not_in "$T/tags.csv" "untagged" "untagged handoff"
  { cat data/intents/intents.csv; tail -n +2 "$T/tags.csv"; } >"$T/train.csv"
  run_agent /dev/null train-intents "$T/train.csv" --out "$T/model.bin"
  expect_rc 0 "train-intents on the shipped examples plus the exported tags"

  run_agent /dev/null export-training --tenant acme --set "node.state_dir=$T/empty"
  expect_rc 0 "export-training without a handoff log"
  expect_in "$T/out" "text,intent" "header only"
  run_agent /dev/null export-training
  expect_rc 2 "export-training without --tenant"

  run_agent /dev/null token --tenant acme --user bob --role agent --set gateway.dev_tokens=true
  expect_rc 0 "agent token"
  run_agent /dev/null token --tenant acme --user bob --role admin --set gateway.dev_tokens=true
  expect_rc 2 "unknown role"
  expect_in "$T/err" "--role must be agent" "role refusal"
}

ALL_CASES=(
  scripted_chat billing_tenant_isolation unknown_tenant unknown_user
  malformed_config unknown_config_key out_of_range_set bad_env_type
  corrupt_model truncated_model missing_knowledge bad_messages
  config_describe config_print_json bogus_command train_missing_column
  ingest_round_trip ingest_bad_input ingest_interrupted
  audit_verify actions export_training
)

if [[ $# -eq 0 ]]; then
  set -- "${ALL_CASES[@]}"
fi

# Environment overrides from the caller's shell would change what the product sees.
while IFS= read -r var; do
  unset "$var"
done < <(env | sed -n 's/^\(SUPPORT_AGENT_[A-Za-z0-9_]*\)=.*/\1/p')

failed=0
for name in "$@"; do
  if ! declare -F "case_$name" >/dev/null; then
    echo "not ok - $name: no such case (known: ${ALL_CASES[*]})"
    failed=1
    continue
  fi
  CASE=$name
  T=$(mktemp -d "$ROOT_TMP/$name.XXXXXX")
  MODEL="$T/model/intents.bin"
  : >"$T/out"
  : >"$T/err"
  # The case runs in a subshell with errexit on: fail() or any unexpected failing command ends it.
  rc=0
  set +e
  (
    set -e
    "case_$name"
  )
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    echo "ok - $name"
  else
    # fail() already printed "not ok"; anything else is an unexpected command failure.
    if [[ ! -e $T/.reported ]]; then
      echo "not ok - $name: a test step failed unexpectedly (exit $rc); run with 'bash -x' for details"
    fi
    failed=1
  fi
done
exit $failed
