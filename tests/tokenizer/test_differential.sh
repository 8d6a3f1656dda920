#!/usr/bin/env bash
# tests/tokenizer/test_differential.sh - differential test of `senti tokenize`
# against Hugging Face `tokenizers` 0.23.2 (Rust, via Node) with the real
# tokenizer.json, on deterministic random Unicode texts (gen_diff_inputs.py).
# Prints "N inputs, M mismatches"; exits 1 on any mismatch or missing tool.
# Environment: SHARED, SENTI_BIN (as set by tests/run.sh), DIFF_N (default
# 5000 inputs), DIFF_SEED (default 1), NODE_PATH override.
set -u
cd "$(dirname "$0")/../.." || exit 2
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
SENTI_BIN="${SENTI_BIN:-$PWD/bin/senti}"
N="${DIFF_N:-5000}"
SEED="${DIFF_SEED:-1}"
MODEL_DIR="$SHARED/models/sst2-mini"
RUNNER="$SHARED/anchors/tokenize_lines.js"

fail() { echo "test_differential: FAIL: $*" >&2; exit 1; }

if [ -z "${NODE_PATH:-}" ]; then
    if [ -d "$PWD/.deps/node/node_modules/tokenizers" ]; then
        NODE_PATH="$PWD/.deps/node/node_modules"
    else
        NODE_PATH=/tmp/anchors/node_modules
    fi
fi
export NODE_PATH
command -v node >/dev/null || fail "node is not installed; run 'make deps'"
[ -d "$NODE_PATH/tokenizers" ] || fail "tokenizers@0.23.2 not found under $NODE_PATH; run 'make deps'"
command -v python3 >/dev/null || fail "python3 is not installed; run 'make deps'"
[ -x "$SENTI_BIN" ] || fail "$SENTI_BIN is not built; run 'make bin'"
[ -f "$RUNNER" ] && [ -f "$MODEL_DIR/tokenizer.json" ] || fail "shared material missing under $SHARED"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/senti-difftok-XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT

python3 tests/tokenizer/gen_diff_inputs.py "$N" "$SEED" "$MODEL_DIR/vocab.txt" >"$tmp/in.jsonl" ||
    fail "input generation failed"
node "$RUNNER" "$MODEL_DIR/tokenizer.json" "$tmp/in.jsonl" "$tmp/ref.jsonl" ||
    fail "the reference tokenizer failed"
"$SENTI_BIN" tokenize --vocab "$MODEL_DIR/vocab.txt" --jsonl <"$tmp/in.jsonl" >"$tmp/got.jsonl"
rc=$?
[ $rc -eq 0 ] || echo "test_differential: senti tokenize exited with $rc" >&2

python3 - "$tmp/in.jsonl" "$tmp/ref.jsonl" "$tmp/got.jsonl" "$SEED" <<'PY'
import json, sys
inp = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
ref = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
got = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
bad = 0
if not (len(inp) == len(ref) == len(got)):
    print(f"line counts differ: input {len(inp)}, reference {len(ref)}, senti {len(got)}")
    bad = max(len(inp), 1)
for i, (t, r, g) in enumerate(zip(inp, ref, got)):
    if r["ids"] == g.get("ids") and r["tokens"] == g.get("tokens"):
        continue
    bad += 1
    if bad <= 10:
        gi = g.get("ids", [])
        k = next((j for j in range(max(len(gi), len(r["ids"])))
                  if j >= len(gi) or j >= len(r["ids"]) or gi[j] != r["ids"][j]), -1)
        print(f"mismatch on input {i + 1}: {json.dumps(t)[:300]}")
        print(f"  first difference at position {k}")
        print(f"  expected {r['ids'][max(0, k - 3):k + 5]} {r['tokens'][max(0, k - 3):k + 5]}")
        print(f"  got      {gi[max(0, k - 3):k + 5]} {g.get('tokens', g)[max(0, k - 3):k + 5] if 'tokens' in g else g}")
print(f"{len(inp)} inputs, {bad} mismatches (seed {sys.argv[4]})")
sys.exit(1 if bad else 0)
PY
cmp_rc=$?
[ $cmp_rc -eq 0 ] && [ $rc -eq 0 ]
