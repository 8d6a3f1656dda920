#!/usr/bin/env bash
# tests/net/test_malformed.sh - malformed and hostile traffic against senti serve
# (tests/net/malformed.py, raw sockets on loopback). Environment: SENTI_BIN, SHARED.
set -u
cd "$(dirname "$0")/../.." || exit 2
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
command -v python3 >/dev/null || { echo "test_malformed: python3 is required"; exit 1; }
exec timeout -k 5 90 python3 tests/net/malformed.py "${SENTI_BIN:-bin/senti}" "$SHARED/models/sst2-mini"
