#!/usr/bin/env bash
# tests/tokenizer/test_cmd_tokenize.sh - `senti tokenize`: output format, JSON
# escaping, bad lines (invalid UTF-8, invalid JSON) reported on stderr with
# their line number, {"error"} lines keeping the output aligned, exit status 1.
set -u
cd "$(dirname "$0")/../.." || exit 2
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
SENTI_BIN="${SENTI_BIN:-$PWD/bin/senti}"
VOCAB="$SHARED/models/sst2-mini/vocab.txt"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/senti-cmdtok-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { # name, condition result
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

# plain text: one line in, one line out; an empty line is [CLS] [SEP]
printf 'Hello, World!\n\nnaïve "quotes" \\ back\n' | "$SENTI_BIN" tokenize --vocab "$VOCAB" >"$tmp/out" 2>"$tmp/err"
check "plain exit 0" $?
expected='{"ids":[101,7592,1010,2088,999,102],"tokens":["[CLS]","hello",",","world","!","[SEP]"]}
{"ids":[101,102],"tokens":["[CLS]","[SEP]"]}
{"ids":[101,15743,1000,16614,1000,1032,2067,102],"tokens":["[CLS]","naive","\"","quotes","\"","\\","back","[SEP]"]}'
[ "$(cat "$tmp/out")" = "$expected" ]; check "plain output" $?

# invalid UTF-8 on line 2: error line, message with the byte offset, later lines still done
printf 'good\nab\xc3(x\nfine\n' | "$SENTI_BIN" tokenize --vocab "$VOCAB" >"$tmp/out" 2>"$tmp/err"
check "bad UTF-8 exit 1" $(( $? == 1 ? 0 : 1 ))
[ "$(sed -n 2p "$tmp/out")" = '{"error":"invalid UTF-8 at byte offset 2"}' ]; check "bad UTF-8 error line" $?
[ "$(wc -l <"$tmp/out")" -eq 3 ] && grep -q '"fine"' "$tmp/out"; check "lines stay aligned" $?
grep -qx 'senti tokenize: line 2: invalid UTF-8 at byte offset 2' "$tmp/err"; check "bad UTF-8 stderr" $?

# --jsonl: NUL and escapes inside strings, invalid JSON, non-string JSON
printf '%s\n' '"a\u0000b \u00e9t\u00e9"' '{"x":1' '42' '"[SEP] ok"' |
    "$SENTI_BIN" tokenize --vocab "$VOCAB" --jsonl >"$tmp/out" 2>"$tmp/err"
check "jsonl exit 1" $(( $? == 1 ? 0 : 1 ))
[ "$(sed -n 1p "$tmp/out")" = '{"ids":[101,11113,3802,2063,102],"tokens":["[CLS]","ab","et","##e","[SEP]"]}' ]
check "jsonl NUL and accents" $?
sed -n 2p "$tmp/out" | grep -q '^{"error":"invalid JSON'; check "jsonl invalid JSON" $?
sed -n 3p "$tmp/out" | grep -q '^{"error":"invalid JSON: expected a string"}'; check "jsonl not a string" $?
[ "$(sed -n 4p "$tmp/out")" = '{"ids":[101,102,7929,102],"tokens":["[CLS]","[SEP]","ok","[SEP]"]}' ]
check "jsonl special token" $?
grep -q '^senti tokenize: line 2: invalid JSON' "$tmp/err"; check "jsonl stderr names the line" $?

# --max-length keeps [SEP]; a very long line is read whole
printf 'one two three four five\n' | "$SENTI_BIN" tokenize --vocab "$VOCAB" --max-length 4 >"$tmp/out"
[ "$(cat "$tmp/out")" = '{"ids":[101,2028,2048,102],"tokens":["[CLS]","one","two","[SEP]"]}' ]
check "max-length" $?
python3 -c 'print("word " * 200000)' | "$SENTI_BIN" tokenize --vocab "$VOCAB" >"$tmp/out"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d["ids"])==512 and d["ids"][-1]==102 else 1)' "$tmp/out"
check "1 MB line truncated to 512" $?

# usage errors
"$SENTI_BIN" tokenize </dev/null >/dev/null 2>&1; check "no vocab -> 2" $(( $? == 2 ? 0 : 1 ))
"$SENTI_BIN" tokenize --vocab "$VOCAB" --max-length 1 </dev/null >/dev/null 2>&1
check "bad max-length -> 2" $(( $? == 2 ? 0 : 1 ))
"$SENTI_BIN" tokenize --help | grep -q -- '--vocab'; check "--help" $?
"$SENTI_BIN" tokenize --vocab /nonexistent </dev/null 2>&1 | grep -q "open '/nonexistent'"
check "missing vocab message" $?

echo "$failures failures"
[ $failures -eq 0 ]
