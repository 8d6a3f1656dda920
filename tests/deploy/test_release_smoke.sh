#!/usr/bin/env bash
# tests/deploy/test_release_smoke.sh - what a release would run, run here on
# loopback, for each environment: senti serves the chart's rendered config
# (base.yaml + <env>.yaml from the ConfigMap, the secret files the Deployment
# names, the sst2-mini model from $SHARED converted with `senti convert`), then
#   - the chart's own `helm test` script (extracted from the rendered test Pod,
#     service URL pointed at the local server) must pass: /readyz, then
#     {prefix}/predict with the first API key (and 401 without one);
#   - the readiness/liveness probe paths answer 200 on the container port;
#   - /metrics exposes every senti_* family the dashboard and alerts query;
#   - SIGTERM drains and exits 0 well within terminationGracePeriodSeconds.
# Only 127.0.0.1; every wait is bounded.
source "$(dirname "$0")/lib.sh"
need_helm
need_validator
BIN="${SENTI_BIN:-$ROOT/bin/senti}"
SHARED="${SHARED:-$(cd "$ROOT/.." && pwd)/shared}"
[ -x "$BIN" ] || { echo "FAIL: senti binary $BIN not built (make)"; exit 1; }
[ -d "$SHARED/models/sst2-mini" ] || { echo "FAIL: $SHARED/models/sst2-mini missing (set SHARED)"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl missing (make deps)"; exit 1; }

cat >"$TMP/extract.mjs" <<'EOF'
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [nm, file, out] = process.argv.slice(2);
const YAML = await import(pathToFileURL(join(nm, "yaml/dist/index.js")).href);
const objs = YAML.parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJSON()).filter(Boolean);
mkdirSync(join(out, "etc"), { recursive: true });
const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-config"));
for (const [k, v] of Object.entries(cm.data)) writeFileSync(join(out, "etc", k), v);
const test = objs.find((o) => o.kind === "Pod" && o.metadata.annotations?.["helm.sh/hook"] === "test");
writeFileSync(join(out, "helm-test.sh"), test.spec.containers[0].args[0]);
const dep = objs.find((o) => o.kind === "Deployment");
const pod = dep.spec.template.spec, c = pod.containers[0];
const lines = [`GRACE=${pod.terminationGracePeriodSeconds}`, `LIVE=${c.livenessProbe.httpGet.path}`,
  `READY=${c.readinessProbe.httpGet.path}`, `START=${c.startupProbe.httpGet.path}`];
for (const e of c.env) if (e.name.endsWith("_FILE")) lines.push(`SECRETFILE_${e.name}=${e.value}`);
const svc = objs.find((o) => o.kind === "Service" && o.metadata.name === dep.metadata.name);
lines.push(`SVC_URL=http://${svc.metadata.name}:${svc.spec.ports[0].port}`);
const merge = (a, b) => {
  if (b === null || typeof b !== "object" || Array.isArray(b)) return b;
  const o = { ...(a && typeof a === "object" && !Array.isArray(a) ? a : {}) };
  for (const [k, v] of Object.entries(b)) o[k] = merge(o[k], v);
  return o;
};
const env = Object.keys(cm.data).find((k) => k !== "base.yaml");
const cfg = merge(YAML.parse(cm.data["base.yaml"]), YAML.parse(cm.data[env]) || {});
lines.push(`PREFIX=${cfg.api.prefix || ""}`, `AUTH=${cfg.auth.mode}`);
writeFileSync(join(out, "facts"), lines.join("\n") + "\n");
EOF

"$BIN" convert --hf "$SHARED/models/sst2-mini" --out "$TMP/default.senti" >/dev/null 2>"$TMP/convert.err" ||
    { echo "FAIL: senti convert: $(cat "$TMP/convert.err")"; exit 1; }
rand() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

smoke() { # env
    local env=$1 W name path local_path m code out rc start script p f families
    W="$TMP/$env"
    mkdir -p "$W"
    render "$env" "$W/r.yaml"
    node "$TMP/extract.mjs" "$NODE_MODULES" "$W/r.yaml" "$W"
    # shellcheck disable=SC1090,SC1091
    source <(grep -E '^(GRACE|LIVE|READY|START|SVC_URL|PREFIX|AUTH)=' "$W/facts")

    # Secret files at local stand-ins for the paths the pod uses.
    KEY="smoke-$(rand)" # senti wants >= 16 random bytes per key
    vars=(PATH=/usr/bin:/bin OPENBLAS_NUM_THREADS=1)
    map=()
    while IFS='=' read -r name path; do
        name=${name#SECRETFILE_}
        local_path="$W/secrets/$(basename "$path")"
        mkdir -p "$W/secrets"
        printf '%s,other-%s\n' "$KEY" "$(rand)" >"$local_path"
        vars+=("$name=$local_path")
        map+=("$path=$local_path")
    done < <(grep '^SECRETFILE_' "$W/facts")
    [ "$AUTH" = none ] || [ ${#map[@]} -gt 0 ] || fail "$env: auth $AUTH but no secret file"

    # Serve on a free loopback port (bounded retries).
    for attempt in 1 2 3 4 5; do
        PORT=$((20000 + (RANDOM % 20000)))
        env -i "${vars[@]}" "$BIN" serve --env "$env" --config-dir "$W/etc" --model "$TMP/default.senti" \
            --host 127.0.0.1 --port "$PORT" >"$W/serve.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 100); do # up to 20 s for the model load
            curl -fs "http://127.0.0.1:$PORT$READY" >/dev/null 2>&1 && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        curl -fs "http://127.0.0.1:$PORT$READY" >/dev/null 2>&1 && break
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        cp "$W/serve.log" "$W/serve.last" 2>/dev/null || true
        pid=""
    done
    if [ -z "$pid" ]; then
        fail "$env: senti did not become ready; log:"
        tail -n 20 "$W/serve.last"
        return
    fi
    ok "$env: senti serves the rendered config on 127.0.0.1:$PORT"

    for p in "$LIVE" "$READY" "$START"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$p")
        [ "$code" = 200 ] && ok "$env: probe GET $p: 200" || fail "$env: probe GET $p: $code"
    done

    # The image's HEALTHCHECK command (exec form, parsed from the Dockerfile).
    if [ "$env" = dev ]; then
        awk '/^HEALTHCHECK/{h=1} h{print} h && !/\\$/{exit}' "$ROOT/deploy/docker/Dockerfile" |
            sed -n 's/.*CMD \(\[.*\]\)[[:space:]]*$/\1/p' >"$W/hc.json"
        if node -e 'const a=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
                    require("fs").writeFileSync(process.argv[2], a.join("\0"))' "$W/hc.json" "$W/hc.argv" 2>/dev/null &&
            mapfile -d '' hc <"$W/hc.argv" && [ ${#hc[@]} -gt 0 ]; then
            if env -i PATH=/usr/bin:/bin SENTI_SERVER_PORT="$PORT" timeout 5 "${hc[@]}"; then
                ok "Dockerfile HEALTHCHECK command succeeds against a live senti"
            else
                fail "Dockerfile HEALTHCHECK command fails against a live senti"
            fi
            env -i PATH=/usr/bin:/bin SENTI_SERVER_PORT=1 timeout 5 "${hc[@]}" 2>/dev/null &&
                fail "HEALTHCHECK succeeds with nothing listening" || ok "HEALTHCHECK fails with nothing listening"
        else
            fail "cannot parse the Dockerfile's HEALTHCHECK CMD"
        fi
    fi

    # The chart's helm test, with the Service URL and the secret paths made local.
    script=$(cat "$W/helm-test.sh")
    script=${script//$SVC_URL/http://127.0.0.1:$PORT}
    for m in "${map[@]}"; do script=${script//${m%%=*}/${m#*=}}; done
    if out=$(sh -ec "$script" 2>&1); then
        ok "$env: helm test script passes: $(echo "$out" | tail -n1 | cut -c1-120)"
    else
        fail "$env: helm test script: $out"
    fi
    # And without the key, the API refuses (the test's key really was needed).
    if [ "$AUTH" != none ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"text":"fine"}' \
            "http://127.0.0.1:$PORT$PREFIX/predict")
        [ "$code" = 401 ] && ok "$env: no key: 401" || fail "$env: predict without a key answered $code"
    fi

    # Every senti_* family the dashboard and alerts use is on /metrics.
    curl -fs "http://127.0.0.1:$PORT/metrics" >"$W/metrics" || fail "GET /metrics"
    families=$(grep -hoE '\bsenti_[a-z0-9_]+' "$CHART/files/dashboards/senti.json" "$CHART/templates/prometheusrule.yaml" |
        sed -E 's/_(bucket|sum|count)$//' | sort -u)
    for f in $families; do
        grep -qE "^# TYPE $f " "$W/metrics" || fail "/metrics has no family $f"
    done
    ok "$env: /metrics exposes $(echo $families | wc -w) families the dashboard/alerts use"

    # Graceful stop within the pod's grace period.
    start=$(date +%s)
    kill -TERM "$pid"
    rc=0
    for _ in $(seq 1 $((GRACE * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$env: senti still running ${GRACE}s after SIGTERM"
        kill -KILL "$pid"
    else
        wait "$pid" || rc=$?
        [ "$rc" = 0 ] && ok "$env: SIGTERM: exit 0 after $(($(date +%s) - start))s (grace period ${GRACE}s)" || fail "$env: SIGTERM: exit $rc"
    fi
    pid=""
}

for env in "${ENVS[@]}"; do smoke "$env"; done
finish
