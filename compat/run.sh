#!/usr/bin/env bash
# compat/run.sh — real-SDK compatibility suite ("change the base URL and nothing else"), `npm run compat`.
#
# Installs the pinned SDKs (compat/.venv from requirements.txt, compat/node from package-lock.json; both
# cached, reinstalled only when the pins change), builds SpendOps (`npm run build`), starts the scripted
# upstream (`spendops mock-provider`) and SpendOps all-in-one (`bin/spendops serve`, SPENDOPS_UPSTREAM_*) on
# free loopback ports, runs every SDK driver and the hosted docs' snippets through SpendOps, then checks the
# recorded usage events through the admin API (compat/verify.py).
#
#   bash compat/run.sh                  # both modes; writes compat/RESULTS.md and the README table
#   bash compat/run.sh --mode all-in-one|distributed   # one mode (distributed: RabbitMQ + PostgreSQL started here,
#                                       # one process per service, see compat/cluster.js)
#   bash compat/run.sh --broken MODE    # all-in-one through the breakable proxy in MODE; must fail
#   COMPAT_SKIP_BUILD=1 bash compat/run.sh   # reuse dist/ as it is
#
# Exit status 0 only when every step passed in every mode; otherwise the failing mode, SDK and step are printed
# (`FAIL [mode] <sdk> <step>: <reason>`). Output and logs: compat/out/<mode>/.
set -euo pipefail

BROKEN="${COMPAT_BROKEN:-}"
MODE=both
while [ $# -gt 0 ]; do
  case "$1" in
    --broken) BROKEN="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    *) echo "usage: $0 [--mode both|all-in-one|distributed] [--broken MODE]" >&2; exit 2 ;;
  esac
done
[ -n "$BROKEN" ] && MODE=all-in-one
case "$MODE" in
  both|all-in-one|distributed) ;;
  *) echo "compat: unknown --mode $MODE (both, all-in-one, distributed)" >&2; exit 2 ;;
esac

C="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$C/.." && pwd)"
if [ "$MODE" = both ]; then
  # One build, then each mode in turn; RESULTS.md and the README table show both.
  status=0
  bash "$0" --mode all-in-one || status=1
  COMPAT_SKIP_BUILD=1 bash "$0" --mode distributed || status=1
  PYV="$("$C/.venv/bin/python" --version)"
  "$C/.venv/bin/python" "$C/results_md.py" --label "$(uname -m), node $(node --version), $PYV" \
    --out "$C/RESULTS.md" all-in-one="$C/out/all-in-one/results.json" distributed="$C/out/distributed/results.json" \
    && "$C/.venv/bin/python" "$C/readme_table.py" || echo "compat: RESULTS.md / README table not updated" >&2
  exit "$status"
fi
OUT="$C/out/${BROKEN:+broken-$BROKEN}"
[ -z "$BROKEN" ] && OUT="$C/out/$MODE"
START=$(date +%s)
rm -rf "$OUT"; mkdir -p "$OUT"
log() { echo "compat: $*" >&2; }
elapsed() { echo "$(( $(date +%s) - START )) s"; }
fail() { log "FAIL [$MODE] $*"; exit 1; }

# --- installs (cached) -------------------------------------------------------
PY="${PYTHON:-python3}"
req_sum=$(sha256sum "$C/requirements.txt" | cut -c1-16)
if [ "$(cat "$C/.venv/.stamp" 2>/dev/null)" != "$req_sum" ]; then
  log "installing Python SDKs into compat/.venv"
  rm -rf "$C/.venv"
  "$PY" -m venv "$C/.venv" || fail "setup python-venv: $PY -m venv failed (install python3-venv)"
  "$C/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$C/requirements.txt" \
    || fail "setup pip-install: pip install -r compat/requirements.txt failed"
  echo "$req_sum" > "$C/.venv/.stamp"
fi
lock_sum=$(sha256sum "$C/node/package-lock.json" | cut -c1-16)
if [ "$(cat "$C/node/node_modules/.stamp" 2>/dev/null)" != "$lock_sum" ]; then
  log "installing Node SDKs into compat/node/node_modules"
  (cd "$C/node" && npm ci --no-audit --no-fund --loglevel=error) || fail "setup npm-ci: npm ci in compat/node failed"
  echo "$lock_sum" > "$C/node/node_modules/.stamp"
fi
log "SDKs installed ($(elapsed))"

# --- build ---------------------------------------------------------------------
if [ -z "${COMPAT_SKIP_BUILD:-}" ]; then
  (cd "$ROOT" && npm run --silent build) > "$OUT/build.log" 2>&1 \
    || { tail -20 "$OUT/build.log" >&2; fail "setup build: npm run build failed (compat/out/build.log)"; }
  log "SpendOps built ($(elapsed))"
fi

# --- processes -----------------------------------------------------------------
PIDS=()
TMP="$(mktemp -d)"
# Embedded PostgreSQL runs as an unprivileged user when started as root: it must reach the data dir.
chmod 711 "$TMP"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

node "$C/mock-provider.js" --addr 127.0.0.1:0 --addr-file "$TMP/upstream.addr" > "$OUT/upstream.log" 2>&1 &
PIDS+=($!)
wait_file "$TMP/upstream.addr" || { cat "$OUT/upstream.log" >&2; fail "setup upstream: the scripted upstream did not start"; }
UPSTREAM="http://$(cat "$TMP/upstream.addr")"

if [ "$MODE" = distributed ]; then
  node "$C/cluster.js" --upstream "$UPSTREAM" --out "$TMP/cluster.json" > "$OUT/cluster.log" 2>&1 &
  CLUSTER_PID=$!
  PIDS+=($CLUSTER_PID)
  for _ in $(seq 1200); do
    [ -s "$TMP/cluster.json" ] && break
    kill -0 "$CLUSTER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$TMP/cluster.json" ] || { tail -30 "$OUT/cluster.log" >&2; fail "setup cluster: RabbitMQ, PostgreSQL or a service did not start (compat/out/distributed/cluster.log)"; }
  field() { node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=process.argv[2].split(".").reduce((o,k)=>o[k],d); process.stdout.write(String(v))' "$TMP/cluster.json" "$1"; }
  SPENDOPS="$(field proxy)"
  API="$(field api)"
  TOKEN="$(field admin_token)"
  export DATABASE_URL SPENDOPS_AMQP_URL SPENDOPS_SERVER_SECRET
  DATABASE_URL="$(field env.DATABASE_URL)"
  SPENDOPS_AMQP_URL="$(field env.SPENDOPS_AMQP_URL)"
  SPENDOPS_SERVER_SECRET="$(field env.SPENDOPS_SERVER_SECRET)"
  KEYS_ARGS=()
else
  TOKEN="compat-admin-token-$(date +%s)-$$"
  SPENDOPS_ADMIN_TOKEN="$TOKEN" SPENDOPS_LOG_LEVEL="${SPENDOPS_LOG_LEVEL:-warn}" \
    SPENDOPS_UPSTREAM_OPENAI="$UPSTREAM" SPENDOPS_UPSTREAM_ANTHROPIC="$UPSTREAM" SPENDOPS_UPSTREAM_GOOGLE="$UPSTREAM" \
    node "$ROOT/bin/spendops" serve --addr 127.0.0.1:0 --data-dir "$TMP/data" > "$OUT/spendops.log" 2>&1 &
  SPENDOPS_PID=$!
  PIDS+=($SPENDOPS_PID)
  SPENDOPS=""
  for _ in $(seq 600); do
    SPENDOPS=$(sed -n 's/^SpendOps listening on \(http:[^ ]*\).*/\1/p' "$OUT/spendops.log" | head -1)
    [ -n "$SPENDOPS" ] && break
    kill -0 "$SPENDOPS_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$SPENDOPS" ] || { tail -20 "$OUT/spendops.log" >&2; fail "setup spendops: bin/spendops serve did not start"; }
  API="$SPENDOPS"
  KEYS_ARGS=(--data-dir "$TMP/data")
fi
curl -fsS "$SPENDOPS/healthz" > /dev/null || fail "setup spendops: GET /healthz failed"
log "[$MODE] SpendOps proxy on $SPENDOPS, admin API on $API, scripted upstream on $UPSTREAM ($(elapsed))"

newkey() { node "$ROOT/bin/spendops" keys create --name "$1" --json "${KEYS_ARGS[@]}" 2>> "$OUT/keys.log" \
  || fail "setup keys: spendops keys create --name $1 failed (compat/out/keys.log)"; }
KEYJSON=$(newkey compat)
KEY=$(echo "$KEYJSON" | "$C/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["key"])')
SNIPPET_KEYS=$("$C/.venv/bin/python" -c 'import json,sys; print(json.dumps({n: json.loads(v) for n, v in zip(["curl","openai","anthropic"], sys.argv[1:])}))' \
  "$(newkey snippet-curl)" "$(newkey snippet-openai)" "$(newkey snippet-anthropic)")

FRONT="$SPENDOPS"
if [ -n "$BROKEN" ]; then
  node "$C/broken-proxy.js" --mode "$BROKEN" --target "$SPENDOPS" --addr-file "$TMP/broken.addr" > "$OUT/brokenproxy.log" 2>&1 &
  PIDS+=($!)
  wait_file "$TMP/broken.addr" || { cat "$OUT/brokenproxy.log" >&2; fail "setup broken-proxy: did not start"; }
  FRONT="http://$(cat "$TMP/broken.addr")"
  log "broken proxy mode=$BROKEN in front of SpendOps"
fi

# A new key reaches the proxy's replica through the auth service; wait until the proxy knows it (a request
# with it is not answered 401) so that the first driver step does not race the replication.
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$SPENDOPS/v1/openai/v1/embeddings" \
    -H "X-ASO-API-Key: $KEY" -H 'Authorization: Bearer sk-compat' -H 'Content-Type: application/json' \
    -H 'X-Compat-Trace: warmup' -d '{"model":"text-embedding-3-small","input":"warm up"}' || true)
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || fail "setup key-replication: a call with the new key answered $code"

export COMPAT_PROXY="$FRONT" COMPAT_DIRECT="$UPSTREAM" COMPAT_KEY="$KEY" COMPAT_RUN="r$$" \
  COMPAT_SNIPPET_KEYS="$SNIPPET_KEYS" COMPAT_OUT="$OUT/records.jsonl" PYTHONPATH="$C/py"
export LITELLM_LOCAL_MODEL_COST_MAP=True

# --- drivers: a Python lane and a Node lane, side by side -----------------------
run_driver() { # name cmd...
  local name="$1"; shift
  local t0; t0=$(date +%s)
  if ! timeout 240 "$@" >> "$OUT/drivers.log" 2>&1; then
    echo "$name" >> "$OUT/driver-failures"
  fi
  echo "$name $(( $(date +%s) - t0 ))" >> "$OUT/timings"
}
(
  for s in openai anthropic genai litellm; do run_driver "py-$s" "$C/.venv/bin/python" "$C/py/sdk_$s.py"; done
) &
PY_LANE=$!
(
  cd "$C/node"
  for s in openai anthropic genai vercel_ai; do run_driver "node-$s" node "sdk_$s.mjs"; done
  run_driver snippets "$C/.venv/bin/python" "$C/snippets.py"
) &
NODE_LANE=$!
wait "$PY_LANE" "$NODE_LANE" || true
log "drivers finished ($(elapsed)): $(tr '\n' ' ' < "$OUT/timings")"
grep -E '^\[(ok |FAIL)\]' "$OUT/drivers.log" | grep FAIL >&2 || true

# --- verify --------------------------------------------------------------------
API_FRONT="$API"
[ -n "$BROKEN" ] && API_FRONT="$FRONT"
VERIFY_ARGS=(--records "$OUT/records.jsonl" --api "$API_FRONT" --token "$TOKEN" --upstream "$UPSTREAM" --mode "$MODE"
  --expect-sdks openai-python,anthropic-python,google-genai-python,litellm-python,openai-node,anthropic-node,google-genai-node,vercel-ai,docs-snippets
  --json "$OUT/results.json" --known "$C/known-failures.txt")
set +e
"$C/.venv/bin/python" "$C/verify.py" "${VERIFY_ARGS[@]}" | tee "$OUT/verify.log"
status=${PIPESTATUS[0]}
set -e
log "[$MODE] finished in $(elapsed)${BROKEN:+ (broken mode $BROKEN)}"
exit "$status"
