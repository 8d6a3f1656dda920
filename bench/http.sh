#!/usr/bin/env bash
# bench/http.sh - HTTP throughput and latency of `senti serve` with wrk, on loopback.
# Runs concurrency 1, 8, 64 for a short (~10 token) and a long (~128 token) text,
# with batching on and off; prints requests/s and latency percentiles per run.
# Usage: bench/http.sh [MODEL]   (default: models/default.senti, else $SHARED/models/sst2-mini)
# Environment: SENTI_BIN (default bin/senti), SHARED, DURATION (seconds per run, default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${SENTI_BIN:-bin/senti}"
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
MODEL="${1:-models/default.senti}"
[ -e "$MODEL" ] || MODEL="$SHARED/models/sst2-mini"
DURATION="${DURATION:-5}"
command -v wrk >/dev/null || { echo "bench/http.sh: wrk is required (make deps)"; exit 1; }
[ -x "$BIN" ] || { echo "bench/http.sh: build $BIN first (make)"; exit 1; }

TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

SHORT="a gorgeous, witty, seductive movie."
LONG=$(printf 'the film is a sprawling, ambitious and occasionally maddening epic that never quite decides what it wants to be, %.0s' 1 2 3 4 5)
mkdir -p "$TMP/cfg"

start() { # start BATCHING(true|false)
    cat >"$TMP/cfg/base.yaml" <<YAML
server: {drain_timeout_ms: 5000}
model: {warmup: true}
batching: {enabled: $1, max_batch_size: 32, max_queue_delay_us: 2000, queue_capacity: 4096}
logging: {level: warning}
YAML
    : >"$TMP/cfg/dev.yaml"
    "$BIN" serve --env dev --config-dir "$TMP/cfg" --model "$MODEL" --port 0 >"$TMP/log" 2>&1 &
    PID=$!
    PORT=""
    for _ in $(seq 1 300); do
        PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$TMP/log" | head -1 | sed 's/.*://' || true)
        [ -n "$PORT" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ] && return
        sleep 0.1
    done
    echo "server did not start"; cat "$TMP/log"; exit 1
}
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }

echo "# senti HTTP bench  commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)  $(nproc) cpus  model $MODEL  ${DURATION}s per run"
printf '%-9s %-6s %5s %10s %9s %9s %9s %9s\n' batching text conc req/s p50_ms p90_ms p99_ms errors
for batching in true false; do
    start "$batching"
    for kind in short long; do
        text=$SHORT; [ "$kind" = long ] && text=$LONG
        # correctness first: the route answers 200 with a label
        curl -s -X POST -H 'Content-Type: application/json' -d "{\"text\":\"$text\"}" \
            "http://127.0.0.1:$PORT/predict" | grep -q '"label"' || { echo "predict failed"; exit 1; }
        cat >"$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"text":"$text"}'
wrk.headers["Content-Type"] = "application/json"
LUA
        for c in 1 8 64; do
            t=$((c < 2 ? 1 : 2))
            wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$TMP/post.lua" \
                "http://127.0.0.1:$PORT/predict" >"$TMP/wrk.txt" 2>&1 || true
            rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.txt")
            pct() { awk -v p="$1" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}' "$TMP/wrk.txt"; }
            errs=$(awk '/Non-2xx|Socket errors/ {e=e $0 "; "} END {print (e ? e : "0")}' "$TMP/wrk.txt")
            printf '%-9s %-6s %5d %10s %9s %9s %9s %9s\n' "$batching" "$kind" "$c" "${rps:-0}" \
                "$(pct 50%)" "$(pct 90%)" "$(pct 99%)" "$errs"
        done
    done
    stop
done
