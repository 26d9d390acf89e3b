#!/usr/bin/env bash
# compat/run.sh — real-SDK compatibility suite ("change the base URL and nothing else").
#
# Installs the pinned SDKs (compat/.venv from requirements.txt, compat/node from
# package-lock.json; both cached, reinstalled only when the pins change), builds
# SpendOps, the scripted upstream and the breakable proxy, starts them on free
# loopback ports, runs every SDK driver and the hosted docs' snippets through
# SpendOps, then checks the recorded usage events (compat/verify.py).
#
#   bash compat/run.sh                  # writes compat/RESULTS.md
#   bash compat/run.sh --broken MODE    # through compat/brokenproxy -mode MODE; must fail
#
# Exit status 0 only when every step passed. Output and logs: compat/out/.
set -euo pipefail

BROKEN="${COMPAT_BROKEN:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --broken) BROKEN="$2"; shift 2 ;;
    *) echo "usage: $0 [--broken MODE]" >&2; exit 2 ;;
  esac
done

C="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$C/.." && pwd)"
OUT="$C/out${BROKEN:+/broken-$BROKEN}"
START=$(date +%s)
rm -rf "$OUT"; mkdir -p "$OUT"
log() { echo "compat: $*" >&2; }

# --- installs (cached) -------------------------------------------------------
PY="${PYTHON:-python3}"
req_sum=$(sha256sum "$C/requirements.txt" | cut -c1-16)
if [ "$(cat "$C/.venv/.stamp" 2>/dev/null)" != "$req_sum" ]; then
  log "installing Python SDKs into compat/.venv"
  rm -rf "$C/.venv"
  "$PY" -m venv "$C/.venv"
  "$C/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$C/requirements.txt"
  echo "$req_sum" > "$C/.venv/.stamp"
fi
lock_sum=$(sha256sum "$C/node/package-lock.json" | cut -c1-16)
if [ "$(cat "$C/node/node_modules/.stamp" 2>/dev/null)" != "$lock_sum" ]; then
  log "installing Node SDKs into compat/node/node_modules"
  (cd "$C/node" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > "$C/node/node_modules/.stamp"
fi

# --- builds --------------------------------------------------------------------
(cd "$ROOT" && go build -o bin/spendops ./cmd/spendops \
  && go build -o compat/bin/upstream ./compat/upstream \
  && go build -o compat/bin/brokenproxy ./compat/brokenproxy)

# --- processes -----------------------------------------------------------------
PIDS=()
TMP="$(mktemp -d)"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; log "timed out waiting for $1"; return 1; }
free_port() { "$C/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$C/bin/upstream" -addr-file "$TMP/upstream.addr" > "$OUT/upstream.log" 2>&1 &
PIDS+=($!)
wait_file "$TMP/upstream.addr"
UPSTREAM="http://$(cat "$TMP/upstream.addr")"

TOKEN="compat-admin-token-$(date +%s)-$$"
PORT=$(free_port)
SPENDOPS="http://127.0.0.1:$PORT"
SPENDOPS_ADMIN_TOKEN="$TOKEN" "$ROOT/bin/spendops" serve --addr "127.0.0.1:$PORT" --data-dir "$TMP/data" \
  --upstream "openai=$UPSTREAM" --upstream "anthropic=$UPSTREAM" --upstream "google=$UPSTREAM" \
  > "$OUT/spendops.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do curl -fsS "$SPENDOPS/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS "$SPENDOPS/healthz" >/dev/null || { log "spendops did not become healthy"; cat "$OUT/spendops.log" >&2; exit 1; }

newkey() { "$ROOT/bin/spendops" keys create --name "$1" --json --data-dir "$TMP/data"; }
KEYJSON=$(newkey compat)
KEY=$(echo "$KEYJSON" | "$C/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["key"])')
SNIPPET_KEYS=$("$C/.venv/bin/python" -c 'import json,sys; print(json.dumps({n: json.loads(v) for n, v in zip(["curl","openai","anthropic"], sys.argv[1:])}))' \
  "$(newkey snippet-curl)" "$(newkey snippet-openai)" "$(newkey snippet-anthropic)")

FRONT="$SPENDOPS"
if [ -n "$BROKEN" ]; then
  "$C/bin/brokenproxy" -mode "$BROKEN" -target "$SPENDOPS" -addr-file "$TMP/broken.addr" > "$OUT/brokenproxy.log" 2>&1 &
  PIDS+=($!)
  wait_file "$TMP/broken.addr"
  FRONT="http://$(cat "$TMP/broken.addr")"
  log "broken proxy mode=$BROKEN in front of SpendOps"
fi

export COMPAT_PROXY="$FRONT" COMPAT_DIRECT="$UPSTREAM" COMPAT_KEY="$KEY" COMPAT_RUN="r$$" \
  COMPAT_SNIPPET_KEYS="$SNIPPET_KEYS" COMPAT_OUT="$OUT/records.jsonl" PYTHONPATH="$C/py"
export LITELLM_LOCAL_MODEL_COST_MAP=True

# --- drivers: a Python lane and a Node lane, side by side -----------------------
run_driver() { # name cmd...
  local name="$1"; shift
  if ! timeout 240 "$@" >> "$OUT/drivers.log" 2>&1; then
    echo "$name" >> "$OUT/driver-failures"
  fi
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
grep -E '^\[(ok |FAIL)\]' "$OUT/drivers.log" | grep FAIL >&2 || true

# --- verify --------------------------------------------------------------------
VERIFY_ARGS=(--records "$OUT/records.jsonl" --api "$FRONT" --token "$TOKEN" --upstream "$UPSTREAM"
  --expect-sdks openai-python,anthropic-python,google-genai-python,litellm-python,openai-node,anthropic-node,google-genai-node,vercel-ai,docs-snippets
  --json "$OUT/results.json" --known "$C/known-failures.txt")
if [ -z "$BROKEN" ]; then
  VERIFY_ARGS+=(--markdown "$C/RESULTS.md" --label "$(uname -m), node $(node --version), $("$C/.venv/bin/python" --version)")
fi
set +e
"$C/.venv/bin/python" "$C/verify.py" "${VERIFY_ARGS[@]}" | tee "$OUT/verify.log"
status=${PIPESTATUS[0]}
set -e
if [ -z "$BROKEN" ]; then
  "$C/.venv/bin/python" "$C/readme_table.py"
fi
log "finished in $(( $(date +%s) - START )) s${BROKEN:+ (broken mode $BROKEN)}"
exit "$status"
