#!/usr/bin/env bash
# tests/net/test_resilience.sh - start-up faults and shutdown under load:
# a truncated or corrupted model file and a config naming a missing secret file
# each stop `senti serve` with a clear error and a non-zero exit, without ever
# listening; SIGTERM during a closed-loop load loses no accepted request
# (tests/net/sigterm_load.py, client-measured). Environment: SENTI_BIN, SHARED.
set -u
cd "$(dirname "$0")/../.." || exit 2
BIN="${SENTI_BIN:-bin/senti}"
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
mkdir -p "$TMP/cfg"
printf 'server: {port: 0}\nlogging: {level: info}\n' >"$TMP/cfg/base.yaml"
: >"$TMP/cfg/dev.yaml"
: >"$TMP/cfg/staging.yaml"

# serve_fails WHAT PATTERN [VAR=value...] -- ARGS...: must exit non-zero, say PATTERN, never listen
serve_fails() {
    local what="$1" pat="$2" envs=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    timeout 20 env "${envs[@]}" "$BIN" serve --config-dir "$TMP/cfg" --port 0 "$@" >"$TMP/out" 2>&1 </dev/null
    local rc=$?
    [ "$rc" != 0 ] && [ "$rc" != 124 ] && ok || bad "$what: exit status $rc"
    grep -qiE "$pat" "$TMP/out" && ok || bad "$what: no clear error: $(head -c 400 "$TMP/out")"
    grep -q 'listening on' "$TMP/out" && bad "$what: the server listened" || ok
}

good=tests/weights/data/good.senti
head -c 3000 "$good" >"$TMP/truncated.senti"
cp "$good" "$TMP/corrupt.senti"
printf '\x55\x55\x55\x55' | dd of="$TMP/corrupt.senti" bs=1 seek=6000 conv=notrunc status=none
: >"$TMP/empty.senti"
serve_fails "truncated model" "truncat" -- --model "$TMP/truncated.senti"
serve_fails "corrupted model" "checksum|corrupt" -- --model "$TMP/corrupt.senti"
serve_fails "empty model" "truncat|magic|empty|short" -- --model "$TMP/empty.senti"
serve_fails "missing model" "no such file|cannot open|not found" -- --model "$TMP/none.senti"
serve_fails "missing secret file" "SENTI_AUTH_JWT_SECRET_FILE.*/nonexistent/jwt" \
    SENTI_ENV=staging SENTI_AUTH_MODE=jwt SENTI_AUTH_JWT_SECRET_FILE=/nonexistent/jwt -- \
    --model "$SHARED/models/sst2-mini"
# the error names the file but never prints a secret
printf 'short' >"$TMP/short-secret"
serve_fails "too-short secret" "jwt" SENTI_ENV=staging SENTI_AUTH_MODE=jwt \
    SENTI_AUTH_JWT_SECRET_FILE="$TMP/short-secret" -- --model "$SHARED/models/sst2-mini"
grep -q 'short$\|"short"\| short ' "$TMP/out" && bad "the secret value was printed" || ok

if out=$(timeout 60 python3 tests/net/sigterm_load.py "$BIN" "$SHARED/models/sst2-mini" 16 1.5); then ok
else bad "SIGTERM under load"; fi
echo "$out" | tail -5

echo "test_resilience: $pass passed, $fail failed"
[ "$fail" = 0 ]
