#!/usr/bin/env bash
# tests/net/test_serve.sh - end-to-end test of `senti serve` on loopback with the
# sst2-mini model: every route, every error status, API-key and JWT auth, CORS,
# cache, rate limiting (429 + Retry-After), and SIGTERM drain under concurrent
# requests (every accepted request answered, exit 0).
# Environment: SENTI_BIN (binary), SHARED (../shared). Every wait is bounded; the
# server is always killed on exit.
set -u
BIN="${SENTI_BIN:-bin/senti}"
SHARED="${SHARED:-../shared}"
MODEL="$SHARED/models/sst2-mini"
[ -x "$BIN" ] || { echo "test_serve: no binary at $BIN"; exit 1; }
[ -d "$MODEL" ] || { echo "test_serve: no model at $MODEL"; exit 1; }
command -v curl >/dev/null || { echo "test_serve: curl is required"; exit 1; }

TMP=$(mktemp -d)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
CURL=(curl -s --max-time 10)

# start_server ENV -> sets PID, PORT, BASE
start_server() {
    local env="$1"
    : >"$TMP/server.log"
    SENTI_AUTH_API_KEYS="$API_KEY" SENTI_AUTH_JWT_SECRET="$JWT_SECRET" \
        "$BIN" serve --env "$env" --config-dir "$TMP/cfg" --model "$MODEL" --host 127.0.0.1 \
        --port 0 >"$TMP/server.log" 2>&1 &
    PID=$!
    PORT=""
    for _ in $(seq 1 300); do
        PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$TMP/server.log" | head -1 | sed 's/.*://')
        [ -n "$PORT" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$PORT" ]; then
        echo "server did not start:"; cat "$TMP/server.log"; exit 1
    fi
    BASE="http://127.0.0.1:$PORT"
    for _ in $(seq 1 300); do
        [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] && return
        sleep 0.1
    done
    echo "server never became ready"; cat "$TMP/server.log"; exit 1
}

stop_server() {
    kill -TERM "$PID" 2>/dev/null
    local rc=1
    for _ in $(seq 1 200); do
        if ! kill -0 "$PID" 2>/dev/null; then wait "$PID"; rc=$?; break; fi
        sleep 0.05
    done
    PID=""
    return $rc
}

# req METHOD PATH [curl args...] -> $CODE, $BODY, headers in $TMP/h
req() {
    local m="$1" p="$2"
    shift 2
    BODY=$("${CURL[@]}" -D "$TMP/h" -o - -w '\n%{http_code}' -X "$m" "$@" "$BASE$p")
    CODE=$(printf '%s' "$BODY" | tail -n 1)
    BODY=$(printf '%s' "$BODY" | sed '$d')
}
expect() { # expect CODE [ERROR_CODE] DESCRIPTION
    local want="$1" ec="$2" what="$3"
    if [ "$CODE" != "$want" ]; then bad "$what: status $CODE, want $want: $BODY"; return; fi
    if [ -n "$ec" ] && ! printf '%s' "$BODY" | grep -q "\"error_code\":\"$ec\""; then
        bad "$what: body has no error_code $ec: $BODY"; return
    fi
    if [ -n "$ec" ] && ! printf '%s' "$BODY" | grep -q '"correlation_id":"'; then
        bad "$what: error without correlation_id"; return
    fi
    ok
}
header() { grep -i "^$1:" "$TMP/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
JSON=(-H 'Content-Type: application/json')

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() { # jwt HEADER_JSON PAYLOAD_JSON [SECRET]
    local h p s
    h=$(printf '%s' "$1" | b64url)
    p=$(printf '%s' "$2" | b64url)
    s=$(printf '%s' "$h.$p" | openssl dgst -sha256 -mac HMAC -macopt "key:${3:-$JWT_SECRET}" -binary | b64url)
    printf '%s.%s.%s' "$h" "$p" "$s"
}

API_KEY="test-key-0123456789abcdef"
JWT_SECRET="jwt-secret-0123456789abcdef0123456789"
mkdir -p "$TMP/cfg"
cat >"$TMP/cfg/base.yaml" <<'EOF'
server:
  worker_threads: 2
  drain_timeout_ms: 10000
model:
  overflow: reject
  warmup: true
batching:
  max_batch_size: 8
  max_queue_delay_us: 1000
limits:
  max_body_bytes: 4096
  max_texts_per_request: 4
  max_text_chars: 300
logging:
  level: info
  json: true
EOF
cat >"$TMP/cfg/staging.yaml" <<'EOF'
api:
  prefix: /api/v1
  cors:
    allowed_origins: ["https://ok.example"]
auth:
  mode: jwt
  jwt:
    issuer: senti-test
    audience: senti
    leeway_seconds: 5
cache:
  enabled: true
  max_entries: 100
  ttl_seconds: 60
rate_limit:
  enabled: true
  requests_per_minute: 6000
  burst: 1000
  key_by: api-key
EOF
cat >"$TMP/cfg/dev.yaml" <<'EOF'
api:
  prefix: ""
auth:
  mode: none
rate_limit:
  enabled: true
  requests_per_minute: 60
  burst: 3
  key_by: client-address
EOF

# ---------------------------------------------------------------- run 1: staging
start_server staging
P=/api/v1
NOW=$(date +%s)
TOKEN=$(jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"t\",\"iss\":\"senti-test\",\"aud\":\"senti\",\"exp\":$((NOW + 600))}")
AUTH=(-H "Authorization: Bearer $TOKEN")
KEY=(-H "X-API-Key: $API_KEY")

# probes: no prefix, no auth
req GET /healthz; expect 200 "" "healthz"
req GET /readyz; expect 200 "" "readyz"
req GET /health; expect 200 "" "health"
printf '%s' "$BODY" | grep -q '"status":"ok"' && ok || bad "health body: $BODY"
req GET /ready; expect 200 "" "ready"
printf '%s' "$BODY" | grep -q '"ready":true' && ok || bad "ready body: $BODY"
req GET /api/v1/healthz; expect 404 not_found "probe under the prefix"

# predict with JWT, correlation id echoed
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -H 'X-Correlation-ID: my-id-123' -d '{"text":"a gorgeous, witty, seductive movie."}'
expect 200 "" "predict (jwt)"
printf '%s' "$BODY" | grep -q '"label":"POSITIVE"' && ok || bad "predict label: $BODY"
for f in label score prediction_id inference_time_ms model_name text_length backend cached; do
    printf '%s' "$BODY" | grep -q "\"$f\":" && ok || bad "predict: no field $f: $BODY"
done
[ "$(header X-Correlation-ID)" = "my-id-123" ] && ok || bad "correlation id not echoed"
[ -n "$(header X-Inference-Time-MS)" ] && ok || bad "no X-Inference-Time-MS"
printf '%s' "$BODY" | grep -q '"cached":false' && ok || bad "first call cached: $BODY"
# same text again: cache hit
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -H 'X-Correlation-ID: bad id with spaces' -d '{"text":"a gorgeous, witty, seductive movie."}'
expect 200 "" "predict again"
printf '%s' "$BODY" | grep -q '"cached":true' && ok || bad "second call not cached: $BODY"
cid=$(header X-Correlation-ID)
[ -n "$cid" ] && [ "$cid" != "bad id with spaces" ] && ok || bad "insane correlation id echoed: $cid"
# api key also accepted in jwt mode; both header forms
req POST $P/predict "${JSON[@]}" "${KEY[@]}" -d '{"text":"the plot is nothing but boilerplate."}'
expect 200 "" "predict (X-API-Key)"
req POST $P/predict "${JSON[@]}" -H "Authorization: Bearer $API_KEY" -d '{"text":"dull"}'
expect 200 "" "predict (Bearer api key)"
# batch, native and TEI
req POST $P/predict/batch "${JSON[@]}" "${AUTH[@]}" -d '{"texts":["great fun","awful","fine"]}'
expect 200 "" "batch"
[ "$(printf '%s' "$BODY" | grep -o '"prediction_id"' | wc -l)" = 3 ] && ok || bad "batch count: $BODY"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d '{"inputs":"great fun"}'
expect 200 "" "tei single"
printf '%s' "$BODY" | grep -q '^\[{"label":"POSITIVE","score":' && ok || bad "tei single body: $BODY"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d '{"inputs":["great fun","awful"],"raw_scores":true}'
expect 200 "" "tei batch"
printf '%s' "$BODY" | grep -q '^\[\[{"label":' && ok || bad "tei batch body: $BODY"
req GET $P/model-info "${AUTH[@]}"
expect 200 "" "model-info"
for f in '"architecture":"DistilBertForSequenceClassification"' '"labels":\["NEGATIVE","POSITIVE"\]' '"checksum":' '"load_time_ms":' '"threads":2' '"version":' '"dtype":'; do
    printf '%s' "$BODY" | grep -q "$f" && ok || bad "model-info: no $f: $BODY"
done

# auth failures
req POST $P/predict "${JSON[@]}" -d '{"text":"x"}'; expect 401 unauthorized "no credentials"
req POST $P/predict "${JSON[@]}" -H 'X-API-Key: wrong-key-0123456789abcdef' -d '{"text":"x"}'; expect 401 unauthorized "wrong api key"
T=$(jwt '{"alg":"HS256"}' "{\"iss\":\"senti-test\",\"aud\":\"senti\",\"exp\":$((NOW - 3600))}")
req POST $P/predict "${JSON[@]}" -H "Authorization: Bearer $T" -d '{"text":"x"}'; expect 401 unauthorized "expired jwt"
T=$(jwt '{"alg":"HS256"}' "{\"iss\":\"senti-test\",\"aud\":\"senti\",\"exp\":$((NOW + 600))}" "another-secret-0123456789abcdef0123")
req POST $P/predict "${JSON[@]}" -H "Authorization: Bearer $T" -d '{"text":"x"}'; expect 401 unauthorized "jwt wrong secret"
T=$(printf '%s.%s.' "$(printf '{"alg":"none"}' | b64url)" "$(printf '{"exp":%d}' $((NOW + 600)) | b64url)")
req POST $P/predict "${JSON[@]}" -H "Authorization: Bearer $T" -d '{"text":"x"}'; expect 401 unauthorized "jwt alg none"
T=$(jwt '{"alg":"HS256"}' "{\"iss\":\"senti-test\",\"aud\":\"other\",\"exp\":$((NOW + 600))}")
req POST $P/predict "${JSON[@]}" -H "Authorization: Bearer $T" -d '{"text":"x"}'; expect 403 forbidden "jwt wrong audience"
req GET $P/model-info; expect 401 unauthorized "model-info needs auth"

# every 4xx of the API
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d '{"text":'; expect 400 malformed_json "malformed json"
req POST $P/predict "${AUTH[@]}" -H 'Content-Type: text/plain' -d '{"text":"x"}'; expect 415 unsupported_media_type "wrong content type"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d "{\"text\":\"$(head -c 5000 /dev/zero | tr '\0' a)\"}"; expect 413 body_too_large "body too large"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d '{"text":""}'; expect 422 empty_text "empty text"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d '{"text":5}'; expect 422 invalid_type "wrong type"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d '{"txt":"x"}'; expect 422 missing_field "missing field"
req POST $P/predict/batch "${JSON[@]}" "${AUTH[@]}" -d '{"texts":["a","b","c","d","e"]}'; expect 422 too_many_texts "too many texts"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d "{\"text\":\"$(head -c 400 /dev/zero | tr '\0' a)\"}"; expect 422 text_too_long "too many characters"
LONG=$(for _ in $(seq 1 140); do printf 'good bad '; done)
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -d "{\"inputs\":\"${LONG:0:290}\",\"truncate\":false}"; expect 200 "" "under the token limit"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" --data-binary $'{"text":"caf\xff"}'; expect 422 invalid_utf8 "invalid utf-8"
req GET $P/predict "${AUTH[@]}"; expect 405 method_not_allowed "GET on predict"
[ "$(header Allow)" = "POST, OPTIONS" ] && ok || bad "405 without Allow: $(header Allow)"
req POST /healthz; expect 405 method_not_allowed "POST on a probe"
req GET /nope; expect 404 not_found "unknown route"
req GET /predict "${AUTH[@]}"; expect 404 not_found "predict without the prefix"

# CORS
req OPTIONS $P/predict -H 'Origin: https://ok.example' -H 'Access-Control-Request-Method: POST'
expect 204 "" "preflight allowed"
[ "$(header Access-Control-Allow-Origin)" = "https://ok.example" ] && ok || bad "preflight ACAO"
req OPTIONS $P/predict -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
expect 403 forbidden "preflight from a foreign origin"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -H 'Origin: https://ok.example' -d '{"text":"good"}'
[ "$(header Access-Control-Allow-Origin)" = "https://ok.example" ] && ok || bad "ACAO on allowed origin"
req POST $P/predict "${JSON[@]}" "${AUTH[@]}" -H 'Origin: https://evil.example' -d '{"text":"good"}'
[ -z "$(header Access-Control-Allow-Origin)" ] && ok || bad "ACAO sent to a foreign origin"

# the server still answers after garbage on the wire
printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$PORT" 2>/dev/null
req GET /healthz; expect 200 "" "alive after garbage"

# metrics
req GET /metrics
expect 200 "" "metrics"
for m in 'senti_http_requests_total{route="/predict",status="200"}' 'senti_http_request_duration_seconds_bucket{route="/predict",status="200",le="+Inf"}' \
    'senti_inference_duration_seconds_count' 'senti_batch_size_bucket{le="1"}' 'senti_queue_depth' 'senti_cache_hits_total' \
    'senti_cache_misses_total' 'senti_predictions_total{label="POSITIVE"}' 'senti_prediction_score_bucket' 'senti_model_loaded 1' \
    'senti_build_info{' 'process_resident_memory_bytes' 'process_cpu_seconds_total' 'process_open_fds' \
    'senti_http_requests_total{route="/predict",status="422"}' 'senti_http_requests_total{route="/predict",status="401"}'; do
    printf '%s' "$BODY" | grep -qF "$m" && ok || bad "metrics: no $m"
done
printf '%s' "$BODY" | grep -q '^senti_cache_hits_total [1-9]' && ok || bad "metrics: no cache hit counted"
# logs are JSON lines and never contain secrets or texts at info level
grep -q '"msg":"request"' "$TMP/server.log" && ok || bad "no JSON request log"
grep -q "$API_KEY\|$JWT_SECRET\|$TOKEN" "$TMP/server.log" && bad "a secret was logged" || ok
grep -q 'seductive' "$TMP/server.log" && bad "request text logged at info" || ok
stop_server && ok || bad "staging server exit status"

# ------------------------------------------------- run 2: dev, rate limit, drain
start_server dev
codes=""
for _ in 1 2 3 4 5; do
    req POST /predict "${JSON[@]}" -d '{"text":"fine"}'
    codes="$codes $CODE"
done
case "$codes" in *429*) ok ;; *) bad "no 429 after the burst: $codes" ;; esac
ra=$(header Retry-After)
[ -n "$ra" ] && [ "$ra" -ge 1 ] && ok || bad "429 without Retry-After"
printf '%s' "$BODY" | grep -q '"error_code":"rate_limited"' && ok || bad "429 body: $BODY"
stop_server && ok || bad "dev server exit status"

# drain: no rate limit, concurrent requests, SIGTERM while they run. Strict:
# every request whose connection was accepted gets a 200 (curl rc 7 = refused,
# i.e. never accepted, is the only other outcome allowed). DRAIN_RUNS repeats it.
sed -i 's/enabled: true/enabled: false/' "$TMP/cfg/dev.yaml"
drain_run() {
    local run="$1" N=24
    start_server dev
    rm -f "$TMP"/d*.code "$TMP"/d*.rc "$TMP"/d*.body
    for i in $(seq 1 $N); do
        ( "${CURL[@]}" -o "$TMP/d$i.body" -w '%{http_code}' -X POST "${JSON[@]}" \
            -d "{\"texts\":[\"drain test $i one\",\"drain test $i two\",\"drain $i three\"]}" \
            "$BASE/predict/batch" >"$TMP/d$i.code" 2>/dev/null; echo $? >"$TMP/d$i.rc" ) &
    done
    sleep "0.0$((run % 8))"
    kill -TERM "$PID"
    local wait_rc=1
    for _ in $(seq 1 300); do
        if ! kill -0 "$PID" 2>/dev/null; then wait "$PID"; wait_rc=$?; break; fi
        sleep 0.05
    done
    PID=""
    wait # the curls
    [ "$wait_rc" = 0 ] && ok || bad "run $run: server exit status after SIGTERM: $wait_rc"
    local answered=0 refused=0 lost=0
    for i in $(seq 1 $N); do
        rc=$(cat "$TMP/d$i.rc"); code=$(cat "$TMP/d$i.code" 2>/dev/null)
        if [ "$rc" = 0 ] && [ "$code" = 200 ]; then answered=$((answered + 1))
        elif [ "$rc" = 7 ]; then refused=$((refused + 1)) # never accepted
        else lost=$((lost + 1)); echo "run $run request $i: curl rc $rc status $code"; fi
    done
    echo "drain run $run: $answered answered, $refused refused, $lost lost"
    [ "$lost" = 0 ] && ok || bad "run $run: $lost accepted requests were not answered"
    grep -q '"msg":"drained"' "$TMP/server.log" && ok || bad "run $run: no drained log line"
    DRAIN_ANSWERED=$((DRAIN_ANSWERED + answered))
}
DRAIN_ANSWERED=0
for run in $(seq 1 "${DRAIN_RUNS:-3}"); do drain_run "$run"; done
[ "$DRAIN_ANSWERED" -gt 0 ] && ok || bad "no request was answered during any drain"

echo "test_serve: $pass passed, $fail failed"
[ "$fail" = 0 ]
