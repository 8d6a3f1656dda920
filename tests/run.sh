#!/usr/bin/env bash
# tests/run.sh - run test executables (compiled tests and tests/*/test_*.sh),
# print each verdict and a closing "N passed, N failed" line; exit 1 on any failure.
# Environment: RUNNER (e.g. valgrind ...) prefixes compiled tests; SHARED, SENTI_BIN
# and O are passed through to the tests.
set -u
cd "$(dirname "$0")/.." || exit 2
export SHARED="${SHARED:-$(cd .. && pwd)/shared}"
export SENTI_BIN="${SENTI_BIN:-$PWD/bin/senti}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
# In-process tests do not go through cli_blas_setup(): give OpenBLAS a kernel family
# that fits the CPU (speed only). Not under valgrind, which has no AVX-512.
if [ -z "${RUNNER:-}" ] && [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    if grep -q ' avx512bw ' /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
    elif grep -q ' avx2 ' /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
# A hung test is a failure, not a stuck CI run (exit 124 = timed out).
TEST_TIMEOUT="${TEST_TIMEOUT:-900}"
pass=0 fail=0 failed=()
log_dir="${O:-build/release}/test-logs"
mkdir -p "$log_dir"
for t in "$@"; do
    name="${t#"${O:-build/release}"/tests/}"; name="${name#tests/}"
    log="$log_dir/$(echo "$name" | tr '/' '_').log"
    start=$(date +%s.%N)
    case "$t" in
    *.sh) timeout -k 10 "$TEST_TIMEOUT" bash "$t" >"$log" 2>&1 ;;
    *) timeout -k 10 "$TEST_TIMEOUT" ${RUNNER:-} "$t" >"$log" 2>&1 ;;
    esac
    rc=$?
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS %-44s %6ss\n' "$name" "$secs"
    else
        fail=$((fail + 1)); failed+=("$name")
        printf 'FAIL %-44s %6ss (exit %d, log %s)\n' "$name" "$secs" "$rc" "$log"
        tail -n 40 "$log" | sed 's/^/    | /'
    fi
done
echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
