#!/usr/bin/env bash
# tests/deploy/test_helm_chart.sh - the Helm chart, with a real helm (v3.17):
#   helm lint --strict with each environment's values;
#   helm template for each environment and each rollout variant (canary, blue/green,
#   shadow over nginx and Istio, batch Job/CronJob, External Secrets);
#   every rendered object validated against the Kubernetes API schemas
#   (k8s_validate.mjs: kubernetes-models validators + strict unknown-field check);
#   the properties that matter asserted per environment (assert_manifests.mjs);
#   and broken values proven to be rejected (the checks bite).
source "$(dirname "$0")/lib.sh"
need_helm
need_validator
validate() { node "$ROOT/tests/deploy/k8s_validate.mjs" "$NODE_MODULES" "$@"; }

# ---- lint and render each environment --------------------------------------------
for env in "${ENVS[@]}"; do
    if "$HELM" lint --strict "$CHART" -f "$CHART/values-$env.yaml" --set image.tag="$TEST_TAG" >"$TMP/lint.log" 2>&1; then
        ok "helm lint --strict ($env)"
    else
        fail "helm lint --strict ($env)"
        cat "$TMP/lint.log"
    fi
    if render "$env" "$TMP/$env.yaml" 2>"$TMP/render.err"; then
        ok "helm template ($env): $(grep -c '^kind:' "$TMP/$env.yaml") objects"
    else
        fail "helm template ($env): $(cat "$TMP/render.err")"
        continue
    fi
    validate "$TMP/$env.yaml" && ok "schemas ($env)" || fail "schemas ($env)"
    node "$ROOT/tests/deploy/assert_manifests.mjs" "$NODE_MODULES" "$env" "$TMP/$env.yaml" >"$TMP/assert.log" || true
    grep '^FAIL' "$TMP/assert.log" && fail "assertions ($env)" || ok "assertions ($env): $(grep -c '^ok' "$TMP/assert.log") checks"
done
# Staging and prod take their secrets from the Vault agent by default.
for env in staging prod; do
    grep -q 'vault.hashicorp.com/agent-inject: "true"' "$TMP/$env.yaml" && ok "$env: Vault agent injection" ||
        fail "$env: no Vault agent annotations"
done
grep -q 'vault.hashicorp.com' "$TMP/dev.yaml" && fail "dev: Vault annotations" || ok "dev: no Vault"
# The chart's defaults alone (no environment file) render and validate too.
"$HELM" template senti "$CHART" >"$TMP/defaults.yaml" && validate "$TMP/defaults.yaml" && ok "defaults render and validate" ||
    fail "defaults do not render/validate"

# ---- rollout and batch variants ---------------------------------------------------
variant() { # name env expectations... -- helm args
    local name=$1 env=$2
    shift 2
    local expect=()
    while [ "$1" != "--" ]; do expect+=("$1"); shift; done
    shift
    if ! render "$env" "$TMP/v-$name.yaml" "$@" 2>"$TMP/render.err"; then
        fail "variant $name: helm template: $(cat "$TMP/render.err")"
        return
    fi
    validate "$TMP/v-$name.yaml" >"$TMP/v.log" && ok "variant $name: schemas" || { fail "variant $name: schemas"; cat "$TMP/v.log"; }
    node "$ROOT/tests/deploy/assert_manifests.mjs" "$NODE_MODULES" "$env" "$TMP/v-$name.yaml" >"$TMP/assert.log" || true
    grep '^FAIL' "$TMP/assert.log" && fail "variant $name: assertions"
    local e
    for e in "${expect[@]}"; do
        grep -qE -- "$e" "$TMP/v-$name.yaml" && ok "variant $name: /$e/" || fail "variant $name: no line matches /$e/"
    done
}
variant canary-nginx prod \
    'name: senti-canary$' 'nginx.ingress.kubernetes.io/canary: "true"' 'nginx.ingress.kubernetes.io/canary-weight: "20"' \
    'image: "ghcr.io/example/senti:0.2.0-fedcba987654"' 'senti.dev/track: canary' -- \
    --set canary.enabled=true,canary.image.tag=0.2.0-fedcba987654,canary.weight=20
variant canary-istio prod \
    'kind: VirtualService' 'host: senti-canary.senti-prod.svc.cluster.local' 'weight: 90' 'weight: 10' '- istio-system' -- \
    --set trafficRouting=istio,canary.enabled=true,canary.image.tag=0.2.0-fedcba987654,canary.weight=10
variant bluegreen prod \
    'name: senti-blue$' 'name: senti-green$' 'name: senti-preview$' 'senti.dev/color: green' -- \
    --set blueGreen.enabled=true,blueGreen.activeColor=green,blueGreen.blue.tag=0.1.0-aaa,blueGreen.green.tag=0.2.0-bbb
variant shadow-nginx staging \
    'nginx.ingress.kubernetes.io/mirror-target: "http://senti-shadow.senti-staging.svc.cluster.local:80\$request_uri"' 'name: senti-shadow$' -- \
    --set shadow.enabled=true,shadow.image.tag=0.2.0-ccc
variant shadow-istio staging 'mirror:' 'host: senti-shadow.senti-staging.svc.cluster.local' 'mirrorPercentage:' -- \
    --set trafficRouting=istio,shadow.enabled=true,shadow.image.tag=0.2.0-ccc,shadow.mirrorPercent=50
variant batch-cronjob prod 'kind: CronJob' 'schedule: "0 3 \* \* \*"' \
    'senti predict --model \\"/models/default.senti\\" --jsonl < /input/input.jsonl > /output/predictions.jsonl.tmp' -- \
    --set batch.enabled=true
variant batch-job dev 'kind: Job' 'senti predict --model \\"/models/default.senti\\" < /input/texts.txt' -- \
    --set batch.enabled=true,batch.jsonl=false,batch.inputFile=texts.txt
variant external-secrets prod 'kind: ExternalSecret' 'secretName: senti-secrets' 'SENTI_AUTH_JWT_SECRET_FILE' -- \
    --set secrets.provider=externalSecret
variant existing-secret staging 'secretName: senti-api-keys' 'SENTI_AUTH_API_KEYS_FILE' 'path: api-keys' -- \
    --set secrets.provider=secret,secrets.existingSecret=senti-api-keys

# In blue/green the main Service selects the active colour only.
sel=$(awk '/^kind: Service$/{s=1} s && /senti.dev\/color:/{print $2; exit}' "$TMP/v-bluegreen.yaml")
[ "$sel" = "green" ] && ok "blue/green: Service selects activeColor=green" || fail "blue/green: Service selects '$sel'"

# ---- NOTES.txt renders (helm renders it only on install): in a copy of the chart,
# wrap it in a define and print it through a ConfigMap --------------------------------
cp -r "$CHART" "$TMP/notes-chart"
{ echo '{{- define "senti.notesCheck" -}}'; cat "$CHART/templates/NOTES.txt"; echo '{{- end -}}'; } \
    >"$TMP/notes-chart/templates/_notes_check.tpl"
printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata: {name: notes-check}' 'data:' '  notes: |' \
    '    {{- include "senti.notesCheck" . | nindent 4 }}' >"$TMP/notes-chart/templates/zz-notes-check.yaml"
notes() { # expected-line helm-args...
    local want=$1
    shift
    if "$HELM" template senti "$TMP/notes-chart" -n senti-x --set image.tag="$TEST_TAG" "$@" \
        --show-only templates/zz-notes-check.yaml >"$TMP/notes.out" 2>&1 && grep -q -- "$want" "$TMP/notes.out"; then
        ok "NOTES.txt renders and says '$want'"
    else
        fail "NOTES.txt ($*): expected '$want': $(head -n3 "$TMP/notes.out")"
    fi
}
notes 'helm test senti' -f "$CHART/values-dev.yaml"
notes 'promote:  helm upgrade' -f "$CHART/values-prod.yaml" --set canary.enabled=true,canary.image.tag=0.2.0-a
notes 'receives mirrored traffic' -f "$CHART/values-staging.yaml" --set shadow.enabled=true,shadow.image.tag=0.2.0-b
notes 'switch:   helm upgrade' -f "$CHART/values-prod.yaml" --set blueGreen.enabled=true

# ---- the checks bite: broken values are refused by helm or by the assertions -------
refuse() { # name env expected-message -- helm args
    local name=$1 env=$2 msg=$3
    shift 4
    if render "$env" "$TMP/bad.yaml" "$@" 2>"$TMP/bad.err"; then
        validate "$TMP/bad.yaml" >"$TMP/bad.err" 2>&1 &&
            node "$ROOT/tests/deploy/assert_manifests.mjs" "$NODE_MODULES" "$env" "$TMP/bad.yaml" >"$TMP/bad.err" 2>&1 &&
            { fail "refuse $name: accepted"; return; }
    fi
    grep -qE -- "$msg" "$TMP/bad.err" && ok "refuses $name" || { fail "refuse $name: expected '$msg'"; head -n5 "$TMP/bad.err"; }
}
refuse latest-in-prod prod 'image.tag: Must not validate' -- --set image.tag=latest
refuse two-replicas-in-prod prod 'at least 3 replicas' -- --set autoscaling.minReplicas=2
refuse typo-in-config dev 'Additional property dtpe is not allowed' -- --set config.model.dtpe=f32
refuse unpinned-canary prod 'canary.image.tag|minLength' -- --set canary.enabled=true
refuse bad-dtype staging 'config.model.dtype' -- --set config.model.dtype=fp8
refuse root-user prod 'pod runAsNonRoot' -- --set podSecurityContext.runAsUser=0
refuse writable-root prod 'read-only root filesystem' -- --set securityContext.readOnlyRootFilesystem=false
refuse no-limits staging 'resources: limits is required' -- --set-json 'resources={"requests":{"cpu":"1","memory":"2Gi"},"limits":null}'
refuse auth-without-secrets staging 'needs secrets.provider' -- --set secrets.provider=none
refuse unknown-k8s-field dev 'unknown field' -- --set-json 'podSecurityContext={"runAsNonRoot":true,"runAsUser":1000,"fsGroup":1000,"seccompProfile":{"type":"RuntimeDefault"},"runAsUsr":5}'
refuse open-egress-in-prod prod 'egress restricted' -- --set networkPolicy.egress.restrict=false
refuse secret-in-env prod 'carries no secret value' -- --set-json 'extraEnv=[{"name":"SENTI_AUTH_JWT_SECRET","value":"hunter2hunter2hunter2hunter2hunter2"}]'
finish
