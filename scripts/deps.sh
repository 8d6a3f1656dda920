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
  python3                                 # input generator (tokenizer differential test)
  unzip prometheus                        # deploy checks: helm from an npm layer zip, promtool
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js + npm run the reference tokenizer. Some images ship nodesource's nodejs
# (npm bundled, conflicting with Debian's npm package): install only when absent.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
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
# helm, kubectl, Kubernetes schema models and actionlint for the deploy checks
# (SENTI_DEPLOY_TOOLS=0 skips them, e.g. in the container image build).
if [ "${SENTI_DEPLOY_TOOLS:-1}" = 1 ]; then scripts/install_deploy_tools.sh; fi
echo "deps: ok"
