#!/usr/bin/env bash
# bench/run.sh - `make bench`: the baseline figures for the full-size synthetic
# DistilBERT-base model (fp32) with 1 and 2 threads, plus sst2-mini throughput.
# Prints tables; JSON copies go to build/bench/. Reports figures, asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
BIN="${SENTI_BIN:-bin/senti}"
OUT=build/bench
mkdir -p "$OUT"
VOCAB="$SHARED/models/distilbert-base-uncased-finetuned-sst-2-english/vocab.txt"
DEV="$SHARED/data/sst2/dev.tsv"
SYN="${1:-$OUT/synthetic-base-seed1.senti}"
SECONDS_PER_POINT="${BENCH_SECONDS:-1.5}"

if [ ! -s "$SYN" ]; then
    echo "== generating the full-size synthetic checkpoint ($SYN)"
    "$BIN" convert --synthetic base --seed 1 --vocab "$VOCAB" --out "$SYN"
fi

for threads in 1 2; do
    echo
    echo "== full-size synthetic DistilBERT-base, fp32, $threads thread(s)"
    /usr/bin/time -f "process peak RSS %M KB, wall %e s" \
        "$BIN" bench --model "$SYN" --threads "$threads" --seq 8,16,32,64,128,256,512 --batch 1 \
        --tsv "$DEV" --tput-batch 1,8,32 --seconds "$SECONDS_PER_POINT"
    "$BIN" bench --model "$SYN" --threads "$threads" --seq 8,128 --batch 1 --seconds 0.5 \
        --json >"$OUT/synthetic-fp32-t$threads.json"
done

echo
echo "== sst2-mini (dim 256, 4 layers), fp32, 2 threads: dev-set throughput"
"$BIN" bench --model "$SHARED/models/sst2-mini" --threads 2 --seq 8,128 --tsv "$DEV" \
    --tput-batch 1,8,32 --seconds "$SECONDS_PER_POINT"
