#!/usr/bin/env bash
# tests/net/valgrind_serve.sh - valgrind memcheck over a short `senti serve`
# session: start, a few requests on every route (and some bad ones), SIGTERM,
# clean exit. Fails on any memcheck error (--error-exitcode=1) or definite leak.
# Environment: SENTI_BIN (a debug build), SHARED.
set -u
cd "$(dirname "$0")/../.." || exit 2
BIN="${SENTI_BIN:-build/debug/bin/senti}"
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
command -v valgrind >/dev/null || { echo "valgrind_serve: valgrind is required"; exit 1; }
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$TMP/cfg"
cat >"$TMP/cfg/base.yaml" <<'YAML'
server: {worker_threads: 2, drain_timeout_ms: 20000}
model: {warmup: true, isa: ref}
cache: {enabled: true}
rate_limit: {enabled: true, burst: 1000}
logging: {level: info}
YAML
: >"$TMP/cfg/dev.yaml"
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    --track-origins=yes "$BIN" serve --env dev --config-dir "$TMP/cfg" \
    --model "$SHARED/models/sst2-mini" --port 0 >"$TMP/log" 2>&1 &
PID=$!
PORT=""
for _ in $(seq 1 600); do
    PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$TMP/log" | head -1 | sed 's/.*://')
    [ -n "$PORT" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PORT/readyz")" = 200 ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
done
[ -n "$PORT" ] || { echo "valgrind_serve: server did not start"; cat "$TMP/log"; exit 1; }
U="http://127.0.0.1:$PORT"
C=(curl -s -o /dev/null -w '%{http_code} ' --max-time 60)
J=(-H 'Content-Type: application/json')
codes=""
codes+=$("${C[@]}" "$U/healthz")
codes+=$("${C[@]}" "$U/ready")
codes+=$("${C[@]}" "$U/metrics")
codes+=$("${C[@]}" "$U/model-info")
codes+=$("${C[@]}" -X POST "${J[@]}" -d '{"text":"a gorgeous, witty, seductive movie."}' "$U/predict")
codes+=$("${C[@]}" -X POST "${J[@]}" -d '{"text":"a gorgeous, witty, seductive movie."}' "$U/predict")
codes+=$("${C[@]}" -X POST "${J[@]}" -d '{"texts":["great fun","awful"]}' "$U/predict/batch")
codes+=$("${C[@]}" -X POST "${J[@]}" -d '{"inputs":["great","bad"],"raw_scores":true}' "$U/predict")
codes+=$("${C[@]}" -X POST "${J[@]}" -d '{"text":' "$U/predict")
codes+=$("${C[@]}" -X POST "${J[@]}" -d '{"text":5}' "$U/predict")
codes+=$("${C[@]}" -X POST -H 'Content-Type: text/plain' -d 'x' "$U/predict")
codes+=$("${C[@]}" "$U/nope")
printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$PORT" 2>/dev/null
echo "valgrind_serve: statuses $codes"
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=""
want="200 200 200 200 200 200 200 200 400 422 415 404 "
fail=0
[ "$codes" = "$want" ] || { echo "valgrind_serve: FAIL: statuses differ from: $want"; fail=1; }
[ "$rc" = 0 ] || { echo "valgrind_serve: FAIL: exit status $rc (valgrind errors below)"; fail=1; }
grep -E '==[0-9]+==' "$TMP/log" | head -60
[ "$fail" = 0 ] && echo "valgrind_serve: PASS (no memcheck errors, no definite leaks)"
exit $fail
