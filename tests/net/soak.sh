#!/usr/bin/env bash
# tests/net/soak.sh - soak test of `senti serve` on loopback: wrk for
# SOAK_SECONDS (default 600) with a mix of single and batch predictions and
# probes, then checks: no 5xx other than the documented 503 "overloaded", RSS
# growth after warm-up < 2%, no descriptor leak (open fds idle before == after),
# the server drains and exits 0. Prints requests/s, RSS start/end and fds.
# Environment: SENTI_BIN, SHARED, SOAK_SECONDS, SOAK_CONNS (default 32).
set -u
cd "$(dirname "$0")/../.." || exit 2
BIN="${SENTI_BIN:-bin/senti}"
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
MODEL="${SOAK_MODEL:-$SHARED/models/sst2-mini}"
SECS="${SOAK_SECONDS:-600}"
CONNS="${SOAK_CONNS:-32}"
WARM=$((SECS / 10 < 5 ? 5 : SECS / 10))
command -v wrk >/dev/null || { echo "soak: wrk is required (make deps)"; exit 1; }
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$TMP/cfg"
cat >"$TMP/cfg/base.yaml" <<'YAML'
server: {worker_threads: 2, drain_timeout_ms: 10000}
model: {warmup: true}
batching: {max_batch_size: 16, max_queue_delay_us: 2000, queue_capacity: 256}
cache: {enabled: true, max_entries: 512, ttl_seconds: 5}
logging: {level: warning, json: true}
YAML
: >"$TMP/cfg/dev.yaml"
"$BIN" serve --env dev --config-dir "$TMP/cfg" --model "$MODEL" --port 0 >"$TMP/log" 2>&1 &
PID=$!
PORT=""
for _ in $(seq 1 300); do
    PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$TMP/log" | head -1 | sed 's/.*://')
    [ -n "$PORT" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "soak: server did not start"; cat "$TMP/log"; exit 1; }
URL="http://127.0.0.1:$PORT"
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$PID/status"; }
fds() { ls "/proc/$PID/fd" | wc -l; }

# A request mix (distinct texts defeat the cache part of the time) and a tally
# of statuses; 5xx bodies are kept so 503 "overloaded" can be told apart.
cat >"$TMP/mix.lua" <<'LUA'
local n = 0
counts = {}
bad = 0
local words = {"great", "awful", "fine", "boring", "moving", "dull", "witty", "clumsy"}
request = function()
    n = n + 1
    local k = n % 10
    if k == 0 then return wrk.format("GET", "/healthz") end
    if k == 1 then return wrk.format("GET", "/metrics") end
    local w = words[n % #words + 1] .. " " .. words[math.floor(n / 8) % #words + 1] .. " " .. (n % 997)
    if k < 4 then
        return wrk.format("POST", "/predict/batch", {["Content-Type"] = "application/json"},
            '{"texts":["' .. w .. '","a ' .. w .. ' film","not ' .. w .. '"]}')
    end
    return wrk.format("POST", "/predict", {["Content-Type"] = "application/json"},
        '{"text":"' .. w .. ' movie"}')
end
response = function(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
    if status >= 500 and not (status == 503 and body:find('"overloaded"', 1, true)) then bad = bad + 1 end
end
function setup(thread) table.insert(threads, thread) end
threads = {}
done = function(summary, latency, requests)
    local total = {}
    local totalbad = 0
    for _, t in ipairs(threads) do
        local c = t:get("counts")
        for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
        totalbad = totalbad + t:get("bad")
    end
    local parts = {}
    for k, v in pairs(total) do table.insert(parts, k .. "=" .. v) end
    table.sort(parts)
    io.write("STATUS " .. table.concat(parts, " ") .. "\n")
    io.write("BAD5XX " .. totalbad .. "\n")
    io.write(string.format("P99MS %.2f\n", latency:percentile(99) / 1000))
end
LUA
run_wrk() {
    wrk -t2 -c"$CONNS" -d"$1s" --timeout 10s --latency -s "$TMP/mix.lua" "$URL" >"$2" 2>&1
    grep -q "^STATUS" "$2" || { echo "soak: wrk failed:"; cat "$2"; exit 1; }
}

fds_idle_before=$(fds)
echo "soak: warm-up ${WARM}s, then ${SECS}s at $CONNS connections"
run_wrk "$WARM" "$TMP/warm.txt"
sleep 1
rss_start=$(rss)
: >"$TMP/rss.txt"
( while kill -0 "$PID" 2>/dev/null; do rss >>"$TMP/rss.txt"; sleep 5; done ) &
SAMPLER=$!
run_wrk "$SECS" "$TMP/main.txt"
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
sleep 1.5
rss_end=$(rss)
fds_idle_after=$(fds)
rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/main.txt")
total=$(awk '/requests in/ {print $1}' "$TMP/main.txt")
status=$(grep '^STATUS' "$TMP/main.txt" | cut -d' ' -f2-)
bad=$(awk '/^BAD5XX/ {print $2}' "$TMP/main.txt")
sockerr=$(grep 'Socket errors' "$TMP/main.txt" || echo "none")
p99=$(awk '/^P99MS/ {print $2}' "$TMP/main.txt")
rss_max=$(sort -n "$TMP/rss.txt" | tail -1)
growth=$(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN {printf "%.2f", (b - a) * 100 / a}')
kill -TERM "$PID"
wait "$PID"
exit_rc=$?
PID=""

echo "soak: $total requests in ${SECS}s, $rps req/s, p99 ${p99} ms"
echo "soak: statuses $status; non-overload 5xx: ${bad:-?}; socket errors: $sockerr"
echo "soak: RSS after warm-up $((rss_start / 1024)) KiB, end $((rss_end / 1024)) KiB (max $((${rss_max:-0} / 1024)) KiB), growth ${growth}%"
echo "soak: open fds idle before $fds_idle_before, after $fds_idle_after; exit status $exit_rc"
fail=0
[ "${bad:-1}" = 0 ] || { echo "soak: FAIL: 5xx other than 503 overloaded"; fail=1; }
awk -v g="$growth" 'BEGIN {exit !(g < 2)}' || { echo "soak: FAIL: RSS grew ${growth}% (limit 2%)"; fail=1; }
[ "$fds_idle_after" -le "$fds_idle_before" ] || { echo "soak: FAIL: descriptor leak"; fail=1; }
[ "$exit_rc" = 0 ] || { echo "soak: FAIL: exit status $exit_rc after SIGTERM"; fail=1; }
[ -n "$total" ] && [ "$total" -gt 0 ] || { echo "soak: FAIL: no requests"; fail=1; }
grep -q '"level":"error"' "$TMP/log" && { echo "soak: FAIL: errors logged:"; grep '"level":"error"' "$TMP/log" | head -5; fail=1; }
[ "$fail" = 0 ] && echo "soak: PASS"
exit $fail
