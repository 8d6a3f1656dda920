#!/usr/bin/env bash
# scripts/deps.sh - install everything the build, tests and benchmarks need on a
# fresh Debian 12 machine. Idempotent. Called by `make deps`.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential pkg-config git ca-certificates curl xxd
  libopenblas-dev libopenblas0-pthread   # sgemm
  libzstd-dev                             # weight file compression
  libxxhash-dev                           # per-tensor checksums
  libjansson-dev                          # JSON (safetensors header, API, fixtures)
  libyaml-dev                             # configuration
  libevent-dev                            # HTTP service
  libutf8proc-dev                         # Unicode categories/NFD for the tokenizer
  libssl-dev                              # HMAC-SHA256 for JWT
  libcmocka-dev                           # test framework
  clang llvm valgrind cppcheck clang-format clang-tidy   # sanitizers, fuzzing, lint
  wrk hyperfine gnuplot-nox linux-perf    # benchmarks
  nodejs npm python3                      # reference tokenizer + input generator (differential tests)
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: all Debian packages present"
fi

# Reference tools from the npm registry, kept out of the tree's sources
# (.deps/ is ignored by git). --ignore-scripts: no post-install downloads.
if command -v npm >/dev/null; then
  if [ ! -d .deps/node/node_modules/tokenizers ]; then
    mkdir -p .deps/node
    (cd .deps/node && { [ -f package.json ] || npm init -y >/dev/null; } &&
      npm install --ignore-scripts --no-audit --no-fund tokenizers@0.23.2 >/dev/null)
    echo "deps: installed tokenizers@0.23.2 into .deps/node"
  fi
fi
echo "deps: ok"
