#!/usr/bin/env bash
# bench/compare_ort.sh - `make bench-ort`: senti against ONNX Runtime 1.20.1 on the
# same weights (the full-size synthetic DistilBERT-base, seed 1), the same thread
# count, the same sequence lengths, batch 1, on this machine, in one run.
#
#   1. checkpoint: `senti convert --synthetic base --seed 1 --format hf`, then the
#      .senti files (fp32, and int8 when `senti convert --dtype int8` exists) are
#      converted from that directory; all cached in build/bench/ort/ (--fresh redoes;
#      the .senti files are also redone when SENTI_BIN is newer than them).
#   2. ONNX: ../shared/anchors/export_onnx.py writes model.onnx and model_int8.onnx
#      (dynamic quantization, onnxruntime's quantize_dynamic scheme) from that directory.
#   3. agreement: `senti predict` and ORT on the same token ids, max |logit diff|.
#   4. latency: for each T, back to back: ORT fp32, senti fp32, senti int8, ORT int8
#      (reversed every other round), so machine noise hits both implementations alike.
#      Medians, ratio = senti/ORT.
#   5. build/bench/compare.json (raw), build/bench/compare.tsv (for bench/plot).
#
# Prints figures and pass/miss against the targets (fp32 ratio <= 0.8, int8 <= 0.6);
# asserts nothing about times. Needs `make bench-deps` (torch, onnx, onnxruntime-node).
#
# usage: bench/compare_ort.sh [--threads LIST] [--seq LIST] [--rounds N] [--fresh]
#   --threads LIST   thread counts (default 2; "1,2" adds the single-thread table)
#   --seq LIST       sequence lengths incl. [CLS]/[SEP] (default 8,16,32,64,128,256,512)
#   --rounds N       sweeps over the lengths (default 5); each point is the median of
#                    the per-round medians, so a burst of load in one round does not decide it
#   --fresh          regenerate the cached checkpoint, .senti files and ONNX graphs
# env: SENTI_BIN (default bin/senti), SHARED (default ../shared),
#      BENCH_ORT_THREADS / BENCH_ORT_SEQ / BENCH_ORT_ROUNDS (defaults for the options)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-$(cd .. && pwd)/shared}"
BIN="${SENTI_BIN:-bin/senti}"
PY=/usr/bin/python3 # Debian's: the one that sees python3-torch
ANCHORS="$SHARED/anchors"
VOCAB="$SHARED/models/distilbert-base-uncased-finetuned-sst-2-english/vocab.txt"
OUT=build/bench
CACHE=$OUT/ort
THREADS="${BENCH_ORT_THREADS:-2}"
SEQS="${BENCH_ORT_SEQ:-8,16,32,64,128,256,512}"
FRESH=0
ROUNDS="${BENCH_ORT_ROUNDS:-5}"

die() { echo "compare_ort: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case "$1" in
    --threads) THREADS="${2:?--threads needs a list}"; shift 2 ;;
    --seq) SEQS="${2:?--seq needs a list}"; shift 2 ;;
    --rounds) ROUNDS="${2:?--rounds needs a number}"; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_ort: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$THREADS" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "compare_ort: bad --threads '$THREADS'" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "compare_ort: bad --rounds '$ROUNDS'" >&2; exit 2; }
[[ "$SEQS" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "compare_ort: bad --seq '$SEQS'" >&2; exit 2; }

# Tools. onnxruntime-node: .deps/bench from `make bench-deps`, else an anchors install.
[ -x "$BIN" ] || die "'$BIN' not found; run 'make' (or set SENTI_BIN)"
[ -f "$ANCHORS/export_onnx.py" ] || die "'$ANCHORS' has no export_onnx.py; set SHARED"
for d in "$PWD/.deps/bench/node_modules" /tmp/anchors/node_modules; do
    if [ -d "$d/onnxruntime-node" ]; then export NODE_PATH="$d"; break; fi
done
[ -n "${NODE_PATH:-}" ] || die "onnxruntime-node not installed; run 'make bench-deps'"
$PY -c 'import torch, onnx, numpy' 2>/dev/null ||
    die "$PY cannot import torch/onnx/numpy; run 'make bench-deps'"

mkdir -p "$CACHE"
[ "$FRESH" = 1 ] && rm -rf "${CACHE:?}"/*
HF=$CACHE/synthetic-base-seed1-hf
FP32=$CACHE/synthetic-base-seed1.senti
INT8=$CACHE/synthetic-base-seed1-int8.senti
ONNX=$CACHE/model.onnx
ONNX8=$CACHE/model_int8.onnx

# 1. weights (each step writes to a temporary name, so an interrupted run is redone)
if [ ! -s "$HF/model.safetensors" ]; then
    echo "== generating the synthetic DistilBERT-base checkpoint (seed 1) -> $HF"
    rm -rf "$HF" "$HF.tmp"
    "$BIN" convert --synthetic base --seed 1 --vocab "$VOCAB" --format hf --out "$HF.tmp" >/dev/null ||
        die "senti convert --synthetic failed"
    mv "$HF.tmp" "$HF"
fi
# The .senti files are redone whenever the binary is newer (its format or quantizer may
# have changed; a few seconds); the checkpoint and ONNX graphs do not depend on it.
if [ ! -s "$FP32" ] || [ "$BIN" -nt "$FP32" ]; then
    echo "== converting to .senti fp32 -> $FP32"
    "$BIN" convert --hf "$HF" --out "$FP32.tmp" >/dev/null || die "senti convert (fp32) failed"
    mv "$FP32.tmp" "$FP32"
fi
HAVE_INT8=0
if [ -s "$INT8" ] && [ "$INT8" -nt "$BIN" ]; then
    HAVE_INT8=1
elif msg=$("$BIN" convert --hf "$HF" --dtype int8 --out "$INT8.tmp" 2>&1 >/dev/null); then
    mv "$INT8.tmp" "$INT8"
    echo "== converted to .senti int8 -> $INT8"
    HAVE_INT8=1
else
    rm -f "$INT8.tmp" "$INT8"
    echo "== senti int8 is skipped: 'senti convert --dtype int8' failed: $(echo "$msg" | head -1)"
fi
if [ ! -s "$ONNX" ] || [ ! -s "$ONNX8" ]; then
    echo "== exporting ONNX graphs (fp32 and dynamic int8) with $ANCHORS/export_onnx.py"
    $PY "$ANCHORS/export_onnx.py" "$HF" "$ONNX.tmp" "$ONNX8.tmp" >"$CACHE/export.log" 2>&1 ||
        { tail -20 "$CACHE/export.log" >&2; die "export_onnx.py failed (log: $CACHE/export.log)"; }
    mv "$ONNX.tmp" "$ONNX"
    mv "$ONNX8.tmp" "$ONNX8"
fi

RAW=$(mktemp)
trap 'rm -f "$RAW" "$RAW".*' EXIT

# 2. agreement: the same token ids through senti (predict) and ORT (fp32 and int8 graphs)
cat >"$RAW.texts" <<'EOF'
a gorgeous, witty, seductive movie.
the plot is nothing but boilerplate clichés from start to finish, and the script assumes that not only would subtlety be lost on the target audience, but that it's also too stupid to realize that they've already seen this exact same movie a hundred times
it 's a charming and often affecting journey .
EOF
head -c 2000 "$SHARED/data/sst2/dev.tsv" | tail -n +2 | cut -f1 | tr '\n' ' ' >>"$RAW.texts"
echo >>"$RAW.texts"
"$BIN" tokenize --vocab "$HF/vocab.txt" <"$RAW.texts" >"$RAW.ids"
for m in fp32 int8; do
    model=$FP32
    if [ $m = int8 ]; then
        [ "$HAVE_INT8" = 1 ] || continue
        model=$INT8
    fi
    "$BIN" predict --model "$model" --threads 1 <"$RAW.texts" >"$RAW.senti-$m"
done
cat >"$RAW.ortlogits.js" <<'EOF'
// ORT logits for each {"ids":[...]} line of stdin, one JSON array per line.
const ort = require('onnxruntime-node');
const lines = require('fs').readFileSync(0, 'utf8').trim().split('\n');
(async () => {
  const s = await ort.InferenceSession.create(process.argv[2], { intraOpNumThreads: 1 });
  for (const l of lines) {
    const ids = JSON.parse(l).ids;
    const t = (a) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
    const r = await s.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)) });
    console.log(JSON.stringify(Array.from(r.logits.data)));
  }
})();
EOF
node "$RAW.ortlogits.js" "$ONNX" <"$RAW.ids" >"$RAW.ort-fp32"
node "$RAW.ortlogits.js" "$ONNX8" <"$RAW.ids" >"$RAW.ort-int8"

# 3. latency, alternating per sequence length
runs_for() { # timed ORT runs per point and round: the whole run stays within a few minutes
    if [ "$1" -le 32 ]; then echo 30; elif [ "$1" -le 64 ]; then echo 20
    elif [ "$1" -le 128 ]; then echo 12; elif [ "$1" -le 256 ]; then echo 6; else echo 4; fi
}
# Every timed process runs under timeout(1): a hang (a deadlocked thread pool, say)
# loses that point, not the whole run.
LIMIT=180
senti_point() { # round dtype model threads T seconds
    local j checked=true
    # senti bench first checks its kernels against the reference kernels; if that check
    # fails, the point is still timed (--no-check) but marked unchecked in the table.
    if ! j=$(timeout -k 5 "$LIMIT" "$BIN" bench --model "$3" --threads "$4" --seq "$5" --batch 1 --seconds "$6" \
        --json 2>"$RAW.err"); then
        if grep -q 'correctness check failed' "$RAW.err"; then
            echo "compare_ort: senti $2 T=$5: $(sed 's/^senti bench: //' "$RAW.err" | head -1)" >&2
            checked=false
            j=$(timeout -k 5 "$LIMIT" "$BIN" bench --model "$3" --threads "$4" --seq "$5" --batch 1 --seconds "$6" \
                --json --no-check 2>"$RAW.err") || j=
        else
            j=
        fi
        [ -n "$j" ] || {
            echo "compare_ort: senti bench $2 T=$5 failed: $(head -1 "$RAW.err" | grep . || echo "no exit within ${LIMIT} s (hang?)")" >&2
            return 0
        }
    fi
    echo "{\"round\":$1,\"impl\":\"senti\",\"dtype\":\"$2\",\"checked\":$checked,\"bench\":$j}" |
        tr -d '\n' >>"$RAW"
    echo >>"$RAW"
    echo "$j" | $PY -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["results"][0]["median_ms"])'
}
ort_point() { # round dtype graph threads T runs
    local line
    line=$(timeout -k 5 "$LIMIT" node "$ANCHORS/ort_bench.js" "$3" "$4" "$5" 1 "$6") ||
        { echo "compare_ort: ort_bench $2 T=$5 failed" >&2; return 0; }
    echo "{\"round\":$1,\"impl\":\"ort\",\"dtype\":\"$2\",\"line\":\"$line\",\"runs\":$6}" >>"$RAW"
    echo "$line" | sed -E 's/.*median_ms=([0-9.]+).*/\1/'
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
declare -A est # ORT fp32 median ms per threads/T, sets senti's time budget
for N in ${THREADS//,/ }; do
    echo
    echo "== latency, $N thread(s), batch 1, median ms; $ROUNDS rounds, order alternating per round"
    for ((r = 1; r <= ROUNDS; r++)); do
        for T in ${SEQS//,/ }; do
            R=$(runs_for "$T")
            of=- sf=- si=- oi=-
            # odd rounds: ORT fp32, senti fp32, senti int8, ORT int8; even rounds: the reverse
            if [ $((r % 2)) = 1 ]; then order="of sf si oi"; else order="oi si sf of"; fi
            for x in $order; do
                # senti's time budget: about as many runs as ORT gets (>= 5, see senti bench)
                secs=$($PY -c "print(max(0.05, $R * ${est[$N/$T]:-100} / 1000))")
                case $x in
                of) of=$(ort_point "$r" fp32 "$ONNX" "$N" "$T" "$R")
                    [ -n "$of" ] && est[$N/$T]=$of ;;
                sf) sf=$(senti_point "$r" fp32 "$FP32" "$N" "$T" "$secs") ;;
                si) [ "$HAVE_INT8" = 1 ] && si=$(senti_point "$r" int8 "$INT8" "$N" "$T" "$secs") ;;
                oi) oi=$(ort_point "$r" int8 "$ONNX8" "$N" "$T" "$R") ;;
                esac
            done
            printf '   round %d T=%-4s senti fp32 %9s  ORT fp32 %9s  senti int8 %9s  ORT int8 %9s\n' \
                "$r" "$T" "${sf:-fail}" "${of:-fail}" "${si:-fail}" "${oi:-fail}"
        done
    done
done
elapsed=$(($(date +%s) - start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 4. + 5. tables, compare.json, compare.tsv
$PY - "$RAW" "$OUT" "$load_before" "$load_after" "$elapsed" "$HAVE_INT8" <<'EOF'
import json, re, statistics, sys
raw, out, load_before, load_after, elapsed, have_int8 = sys.argv[1:]
FP32_TARGET, INT8_TARGET = 0.8, 0.6

def rows(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]

def logit_diff(a, b):
    try:
        la = [json.loads(l) for l in open(a)]
        lb = [json.loads(l) for l in open(b)]
    except FileNotFoundError:
        return None
    la = [x['logits'] if isinstance(x, dict) else x for x in la]
    lb = [x['logits'] if isinstance(x, dict) else x for x in lb]
    if len(la) != len(lb) or not la:
        return None
    return max(abs(x - y) for ra, rb in zip(la, lb) for x, y in zip(ra, rb))

agree = {
    'senti_fp32_vs_ort_fp32': logit_diff(raw + '.senti-fp32', raw + '.ort-fp32'),
    'senti_int8_vs_ort_int8': logit_diff(raw + '.senti-int8', raw + '.ort-int8'),
    'senti_int8_vs_senti_fp32': logit_diff(raw + '.senti-int8', raw + '.senti-fp32'),
    'ort_int8_vs_ort_fp32': logit_diff(raw + '.ort-int8', raw + '.ort-fp32'),
}
n_tok = [len(json.loads(l)['ids']) for l in open(raw + '.ids')]
scale = max(abs(v) for l in open(raw + '.ort-fp32') for v in json.loads(l))

rounds, machine = {}, {}  # (threads, T) -> series -> [per-round figures]
for r in rows(raw):
    if r['impl'] == 'senti':
        b = r['bench']
        if r['dtype'] == 'fp32':
            machine = {k: b[k] for k in ('cpu', 'flags', 'isa', 'blas', 'commit')}
        for p in b['results']:
            rounds.setdefault((p['threads'], p['seq']), {}).setdefault('senti_' + r['dtype'], []).append({
                'round': r['round'], 'median_ms': p['median_ms'], 'min_ms': p['min_ms'],
                'p90_ms': p['p90_ms'], 'runs': p['runs'], 'isa': b['isa'], 'load_s': b['load_s'],
                'peak_rss_mb': b['peak_rss_mb'], 'checked': r['checked'],
                'check_max_diff': b['check_max_diff']})
    else:
        m = dict(re.findall(r'(\w+)=([0-9.]+)', r['line']))
        rounds.setdefault((int(m['threads']), int(m['T'])), {}).setdefault('ort_' + r['dtype'], []).append({
            'round': r['round'], 'median_ms': float(m['median_ms']), 'min_ms': float(m['min_ms']),
            'runs': r['runs']})

# a point: median of the per-round medians, min of the mins, all runs counted
points = {key: {k: {'median_ms': statistics.median(x['median_ms'] for x in v),
                    'min_ms': min(x['min_ms'] for x in v), 'runs': sum(x['runs'] for x in v),
                    'checked': all(x.get('checked', True) for x in v),
                    'rounds': v} for k, v in series.items()}
          for key, series in rounds.items()}

def med(p, k):
    return p[k]['median_ms'] if k in p else None

def ratio(a, b):
    return a / b if a is not None and b else None

def fmt(x, nd=2):
    return '-' if x is None else f'{x:.{nd}f}'

unchecked = set()
def cell(p, k):  # a senti figure whose kernels failed senti bench's reference check gets a '*'
    if k not in p:
        return '-'
    if not p[k]['checked']:
        unchecked.add(k.replace('_', ' '))
        return fmt(p[k]['median_ms']) + '*'
    return fmt(p[k]['median_ms'])

def verdict(r, target):
    return '' if r is None else (' pass' if r <= target else ' miss')

print('\n## agreement (same token ids; sequences of %s tokens; max |logit| %.3g)'
      % (', '.join(map(str, n_tok)), scale))
for k, v in agree.items():
    print(f'- max |logit diff| {k.replace("_", " ")}: ' + ('-' if v is None else f'{v:.3g}'))

table, tsv = [], ['threads\tseq\tsenti_fp32_ms\tort_fp32_ms\tsenti_int8_ms\tort_int8_ms']
summary = {}
for n in sorted({k[0] for k in points}):
    print(f'\n## senti vs ONNX Runtime 1.20.1: {n} thread(s), batch 1, median ms '
          f'(ratio = senti / ORT; targets fp32 <= {FP32_TARGET}, int8 <= {INT8_TARGET})\n')
    print('| T | senti fp32 | ORT fp32 | ratio | senti int8 | ORT int8 | ratio |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    passes = {'fp32': [0, 0], 'int8': [0, 0]}
    mins = []
    for t in sorted(k[1] for k in points if k[0] == n):
        p = points[(n, t)]
        sf, of, si, oi = (med(p, k) for k in ('senti_fp32', 'ort_fp32', 'senti_int8', 'ort_int8'))
        rf, ri = ratio(sf, of), ratio(si, oi)
        for name, r, tgt in (('fp32', rf, FP32_TARGET), ('int8', ri, INT8_TARGET)):
            if r is not None:
                passes[name][0] += r <= tgt
                passes[name][1] += 1
        print(f'| {t} | {cell(p, "senti_fp32")} | {fmt(of)} | {fmt(rf)}{verdict(rf, FP32_TARGET)} | '
              f'{cell(p, "senti_int8") if have_int8 == "1" else "skipped"} | {fmt(oi)} | '
              f'{fmt(ri)}{verdict(ri, INT8_TARGET)} |')
        mn = lambda k: p[k]['min_ms'] if k in p else None
        rf_min, ri_min = ratio(mn('senti_fp32'), mn('ort_fp32')), ratio(mn('senti_int8'), mn('ort_int8'))
        mins.append(f'| {t} | {fmt(rf_min)} | {fmt(ri_min)} |')
        table.append({'threads': n, 'seq': t, **p, 'ratio_fp32': rf, 'ratio_int8': ri,
                      'ratio_fp32_min': rf_min, 'ratio_int8_min': ri_min})
        tsv.append('\t'.join([str(n), str(t)] + [fmt(x, 4) if x is not None else '?' for x in (sf, of, si, oi)]))
    summary[n] = {k: {'pass': v[0], 'points': v[1]} for k, v in passes.items()}
    print('\ntargets: fp32 %d/%d points pass, int8 %d/%d points pass%s' % (
        passes['fp32'][0], passes['fp32'][1], passes['int8'][0], passes['int8'][1],
        '' if have_int8 == '1' else ' (senti int8 skipped)'))
    if unchecked:
        print('* %s: the selected kernels disagreed with the reference kernels beyond 1e-3 in '
              'senti bench\'s check (message above); timed with --no-check' % ', '.join(sorted(unchecked)))
    print('\nthe same ratios from the fastest run of each (less sensitive to load from other '
          'processes, more to luck):\n\n| T | fp32 ratio (min) | int8 ratio (min) |\n|---:|---:|---:|')
    print('\n'.join(mins))

print(f'\nmachine: {machine.get("cpu", "?")} [{machine.get("flags", "")}], senti isa '
      f'{machine.get("isa", "?")}, blas {machine.get("blas", "?")}; load average '
      f'{load_before} before, {load_after} after; {elapsed} s')
doc = {'machine': machine, 'load_average_before': load_before, 'load_average_after': load_after,
       'elapsed_s': int(elapsed), 'targets': {'fp32_ratio': FP32_TARGET, 'int8_ratio': INT8_TARGET},
       'senti_int8': have_int8 == '1', 'agreement_max_abs_logit_diff': agree,
       'agreement_tokens': n_tok, 'agreement_max_abs_logit': scale, 'points': table, 'summary': summary}
with open(out + '/compare.json', 'w') as f:
    json.dump(doc, f, indent=2)
with open(out + '/compare.tsv', 'w') as f:
    f.write('\n'.join(tsv) + '\n')
print(f'raw figures: {out}/compare.json, {out}/compare.tsv')
EOF
