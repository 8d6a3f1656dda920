#!/usr/bin/env bash
# scripts/install_bench_tools.sh - the peer-benchmark tools for `make bench-ort`.
# Called by `make bench-deps`, never by `make deps`: CI does not need torch.
# Idempotent: skips what is already installed.
#
#   Debian packages   python3-torch python3-numpy python3-onnx  export the checkpoint to ONNX
#                     libopenblas0-pthread   (without it Debian's torch uses the reference
#                                            BLAS and the export takes ~40x longer)
#                     gnuplot-nox            bench/plot
#   .deps/bench/      npm onnxruntime-node@1.20.1 (CPU library ships in the package;
#                     --ignore-scripts stops its installer fetching a GPU build)
#
# The Python tools are run with Debian's /usr/bin/python3: a pyenv or venv python3
# earlier on PATH does not see python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_PKG=onnxruntime-node@1.20.1
DEST=.deps/bench
DEB_PKGS=(python3-torch python3-numpy python3-onnx libopenblas0-pthread gnuplot-nox)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install_bench_tools: apt-get install ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
else
  echo "install_bench_tools: Debian packages present (${DEB_PKGS[*]})"
fi
/usr/bin/python3 -c 'import torch, onnx, numpy' ||
  { echo "install_bench_tools: /usr/bin/python3 cannot import torch, onnx, numpy" >&2; exit 1; }

for tool in node npm; do
  command -v "$tool" >/dev/null ||
    { echo "install_bench_tools: '$tool' not found; run 'make deps' (apt-get install nodejs npm)" >&2; exit 1; }
done
mkdir -p "$DEST"
want=${ORT_PKG##*@}
have=$(cd "$DEST" 2>/dev/null && node -p 'require("onnxruntime-node/package.json").version' 2>/dev/null) || have=
if [ "$have" != "$want" ]; then
  echo "install_bench_tools: npm install $ORT_PKG into $DEST"
  [ -f "$DEST/package.json" ] || (cd "$DEST" && npm init -y >/dev/null)
  (cd "$DEST" && npm install --silent --no-audit --no-fund --ignore-scripts "$ORT_PKG")
else
  echo "install_bench_tools: $ORT_PKG present in $DEST"
fi
# The CPU build must load (a missing shared library shows up here, not mid-benchmark).
(cd "$DEST" && node -e 'require("onnxruntime-node")') ||
  { echo "install_bench_tools: onnxruntime-node does not load" >&2; exit 1; }
echo "install_bench_tools: ok (NODE_PATH=$PWD/$DEST/node_modules)"
