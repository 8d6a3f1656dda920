# shellcheck shell=bash
# tests/deploy/lib.sh - shared by tests/deploy/test_*.sh (sourced, not run).
# Finds the deploy tools that scripts/install_deploy_tools.sh puts in .deps/deploy,
# and gives a tiny assertion vocabulary. The tests fail (never skip) when the tools
# are missing: `make deps` installs them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CHART="$ROOT/deploy/helm/senti"
DEPLOY_DEPS="${DEPLOY_DEPS:-$ROOT/.deps/deploy}"
HELM="${HELM:-$DEPLOY_DEPS/bin/helm}"
NODE_MODULES="$DEPLOY_DEPS/node/node_modules"
ENVS=(dev staging prod)
# The tag CI deploys: <version>-<commit>. Tests render with a fixed one.
TEST_TAG="0.1.0-0123456789ab"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$(basename "$0"): $failures failure(s)"
        exit 1
    fi
    echo "$(basename "$0"): all checks passed"
}

need_helm() {
    if [ ! -x "$HELM" ]; then
        echo "FAIL: helm not found at $HELM; run scripts/install_deploy_tools.sh (make deps)"
        exit 1
    fi
}
need_validator() {
    if [ ! -d "$NODE_MODULES/kubernetes-models" ] || ! command -v node >/dev/null; then
        echo "FAIL: schema validator not found in $NODE_MODULES; run scripts/install_deploy_tools.sh (make deps)"
        exit 1
    fi
}

# render ENV OUT [extra helm args...]: helm template of the chart for one environment.
render() {
    local env=$1 out=$2
    shift 2
    "$HELM" template senti "$CHART" --namespace "senti-$env" \
        -f "$CHART/values-$env.yaml" --set image.tag="$TEST_TAG" "$@" >"$out"
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
