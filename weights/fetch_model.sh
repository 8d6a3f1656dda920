#!/usr/bin/env bash
# weights/fetch_model.sh OUT - produce the served model file (called by `make model`).
#
# 1. If Hugging Face is reachable (or the files are already cached), download
#    distilbert/distilbert-base-uncased-finetuned-sst-2-english at a pinned revision
#    into models/cache/, check sizes and the safetensors header, and convert it,
#    recording source, revision and sha256 as metadata (`senti convert` validates
#    every tensor name and shape against config.json).
# 2. Otherwise convert $SHARED/models/sst2-mini (SHARED defaults to ../shared).
# Says on stderr which one was used. Idempotent: does nothing if OUT is newer than
# its inputs and the senti binary.
# Environment: SHARED, SENTI_BIN (default bin/senti), HF_ENDPOINT,
# SENTI_MODEL_REVISION, SENTI_OFFLINE=1 (skip the network).
set -euo pipefail

OUT="${1:?usage: weights/fetch_model.sh OUT.senti}"
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"
BIN="${SENTI_BIN:-bin/senti}"
REPO="distilbert/distilbert-base-uncased-finetuned-sst-2-english"
REV="${SENTI_MODEL_REVISION:-714eb0fa89d2f80546fda750413ed43d93601a13}"
ENDPOINT="${HF_ENDPOINT:-https://huggingface.co}"
CACHE="models/cache/distilbert-base-uncased-finetuned-sst-2-english/$REV"
FILES="config.json vocab.txt tokenizer_config.json model.safetensors"
MIN_SAFETENSORS=200000000 # float32 DistilBERT-base is about 268 MB

say() { echo "fetch_model: $*" >&2; }

[ -x "$BIN" ] || { say "no senti binary at $BIN (run 'make' first)"; exit 1; }
mkdir -p "$(dirname "$OUT")"

cache_complete() {
    local f
    for f in $FILES; do [ -s "$CACHE/$f" ] || return 1; done
}

# Newer than every input and the binary?
up_to_date() {
    [ -f "$OUT" ] || return 1
    local f
    for f in "$BIN" "$@"; do [ "$OUT" -nt "$f" ] || return 1; done
}

check_download() {
    local size hlen
    size=$(stat -c %s "$CACHE/model.safetensors")
    if [ "$size" -lt "$MIN_SAFETENSORS" ]; then
        say "model.safetensors is only $size bytes (expected about 268 MB)"; return 1
    fi
    # 8-byte little-endian header length, then a JSON header; senti convert checks the rest.
    hlen=$(od -An -t u8 -N 8 "$CACHE/model.safetensors" | tr -d ' ')
    if [ "$hlen" -lt 2 ] || [ "$hlen" -gt 67108864 ] || [ "$hlen" -ge "$size" ]; then
        say "model.safetensors has a bad header length ($hlen)"; return 1
    fi
    if ! head -c $((8 + hlen)) "$CACHE/model.safetensors" | tail -c "$hlen" |
        grep -q '"distilbert.transformer.layer.5.ffn.lin2.weight"'; then
        say "model.safetensors header lacks the expected DistilBERT tensors"; return 1
    fi
    grep -q '"dim": *768' "$CACHE/config.json" && grep -q '"n_layers": *6' "$CACHE/config.json" || {
        say "config.json is not the DistilBERT-base config"; return 1; }
    # The small files must equal the reference copies kept in shared/ (checked there
    # against the hashes Hugging Face's LFS pointers record).
    local ref="$SHARED/models/distilbert-base-uncased-finetuned-sst-2-english" f
    for f in config.json vocab.txt tokenizer_config.json; do
        if [ -f "$ref/$f" ] && ! cmp -s "$ref/$f" "$CACHE/$f"; then
            say "$f differs from the reference copy in $ref"; return 1
        fi
    done
    # model.safetensors must match the sha256 the hub publishes for this revision.
    local want got
    want=$(curl -fsS --connect-timeout 5 --max-time 30 "$ENDPOINT/api/models/$REPO/revision/$REV?blobs=true" |
        tr -d '\n ' | grep -o '"rfilename":"model.safetensors"[^}]*"sha256":"[0-9a-f]\{64\}"' |
        grep -o '[0-9a-f]\{64\}' | head -n 1)
    [ -n "$want" ] || { say "could not read the published sha256 of model.safetensors"; return 1; }
    got=$(sha256sum "$CACHE/model.safetensors" | cut -d' ' -f1)
    [ "$want" = "$got" ] || { say "model.safetensors sha256 $got, published $want"; return 1; }
}

download() {
    [ "${SENTI_OFFLINE:-0}" = 1 ] && return 1
    command -v curl >/dev/null || return 1
    # Reachability probe: short timeouts so an offline machine fails in a few seconds.
    curl -fsS --connect-timeout 3 --max-time 6 -o /dev/null "$ENDPOINT/api/models/$REPO/revision/$REV" \
        2>/dev/null || return 1
    mkdir -p "$CACHE"
    local f
    for f in $FILES; do
        [ -s "$CACHE/$f" ] && continue
        say "downloading $f ($REPO@${REV:0:12})"
        curl -fL --connect-timeout 5 --retry 2 --max-time 1800 -o "$CACHE/$f.part" \
            "$ENDPOINT/$REPO/resolve/$REV/$f" || { rm -f "$CACHE/$f.part"; return 1; }
        mv "$CACHE/$f.part" "$CACHE/$f"
    done
    check_download || { rm -f "$CACHE/model.safetensors"; return 1; }
}

if cache_complete || download; then
    if up_to_date "$CACHE"/*; then say "$OUT is up to date (from $REPO)"; exit 0; fi
    sha=$(sha256sum "$CACHE/model.safetensors" | cut -d' ' -f1)
    say "using the downloaded $REPO at revision $REV"
    "$BIN" convert --hf "$CACHE" --out "$OUT" --meta "source=hf:$REPO" --meta "revision=$REV" \
        --meta "sha256=$sha"
else
    SRC="$SHARED/models/sst2-mini"
    [ -f "$SRC/model.safetensors" ] || { say "no network and no $SRC: cannot produce $OUT"; exit 1; }
    if up_to_date "$SRC"/*; then say "$OUT is up to date (from sst2-mini)"; exit 0; fi
    say "Hugging Face is not reachable: using the local sst2-mini model ($SRC)"
    sha=$(sha256sum "$SRC/model.safetensors" | cut -d' ' -f1)
    "$BIN" convert --hf "$SRC" --out "$OUT" --meta "source=sst2-mini (local fallback)" \
        --meta "sha256=$sha"
fi
