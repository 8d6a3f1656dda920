#!/usr/bin/env bash
# tests/deploy/test_config_check.sh - the configuration the chart mounts at
# /etc/senti is accepted by senti itself: for each environment, the rendered
# ConfigMap's files go to a directory and `senti serve --env E --config-dir D
# --check-config` must pass, with the secret files the Deployment names
# (SENTI_AUTH_*_FILE, taken from the rendered pod, pointed at throw-away files).
# Then --print-config must show every value the chart set (senti read each key,
# none was ignored), and check-config must fail without the secrets (the chart's
# secret wiring is what makes the config valid). Uses $SENTI_BIN, else bin/senti.
source "$(dirname "$0")/lib.sh"
need_helm
need_validator
BIN="${SENTI_BIN:-$ROOT/bin/senti}"
[ -x "$BIN" ] || { echo "FAIL: senti binary $BIN not built (make)"; exit 1; }
if ! "$BIN" serve --help 2>&1 | grep -q -- '--check-config'; then
    echo "FAIL: $BIN serve has no --check-config"
    exit 1
fi

# extract.mjs RENDERED DIR: ConfigMap files into DIR; prints the senti container's
# *_FILE variables as NAME=PATH lines.
cat >"$TMP/extract.mjs" <<'EOF'
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [nm, file, dir] = process.argv.slice(2);
const YAML = await import(pathToFileURL(join(nm, "yaml/dist/index.js")).href);
const objs = YAML.parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJSON()).filter(Boolean);
mkdirSync(dir, { recursive: true });
const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-config"));
for (const [k, v] of Object.entries(cm.data)) writeFileSync(join(dir, k), v);
const dep = objs.find((o) => o.kind === "Deployment");
const c = dep.spec.template.spec.containers.find((x) => x.name === "senti");
for (const e of c.env || []) if (e.name.endsWith("_FILE")) console.log(`${e.name}=${e.value}`);
EOF

# compare.mjs DIR ENV PRINTED: every leaf of base.yaml+ENV.yaml equals senti's effective value.
cat >"$TMP/compare.mjs" <<'EOF'
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [nm, dir, env, printed] = process.argv.slice(2);
const YAML = await import(pathToFileURL(join(nm, "yaml/dist/index.js")).href);
const merge = (a, b) => {
  if (b === null || typeof b !== "object" || Array.isArray(b)) return b;
  const out = { ...(a && typeof a === "object" && !Array.isArray(a) ? a : {}) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
};
const want = merge(YAML.parse(readFileSync(join(dir, "base.yaml"), "utf8")) || {},
                   YAML.parse(readFileSync(join(dir, `${env}.yaml`), "utf8")) || {});
const got = YAML.parse(readFileSync(printed, "utf8"));
let bad = 0, n = 0;
const walk = (w, g, path) => {
  if (w && typeof w === "object" && !Array.isArray(w)) {
    for (const [k, v] of Object.entries(w)) walk(v, g?.[k], path ? `${path}.${k}` : k);
    return;
  }
  n++;
  const norm = (x) => (path === "logging.level" && x === "warn" ? "warning" : x);
  if (JSON.stringify(norm(w)) !== JSON.stringify(g)) {
    console.log(`FAIL: [${env}] ${path}: chart sets ${JSON.stringify(w)}, senti uses ${JSON.stringify(g)}`);
    bad++;
  }
};
walk(want, got, "");
console.log(`compare [${env}]: ${n} keys, ${bad} differ`);
process.exit(bad ? 1 : 0);
EOF

for env in "${ENVS[@]}"; do
    render "$env" "$TMP/$env.yaml" || { fail "helm template ($env)"; continue; }
    dir="$TMP/etc-$env/senti"
    node "$TMP/extract.mjs" "$NODE_MODULES" "$TMP/$env.yaml" "$dir" >"$TMP/files-$env"
    [ -f "$dir/base.yaml" ] && [ -f "$dir/$env.yaml" ] && ok "ConfigMap ($env) holds base.yaml and $env.yaml" ||
        fail "ConfigMap ($env) lacks base.yaml or $env.yaml"

    # Throw-away secrets at the paths the Deployment names; a clean environment
    # so nothing from this shell leaks in.
    vars=(PATH=/usr/bin:/bin)
    while IFS='=' read -r name path; do
        f="$TMP/secrets-$env/$(basename "$path")"
        mkdir -p "$(dirname "$f")"
        case "$name" in
        *API_KEYS_FILE) printf 'smoke-%s,ci-%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
            "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$f" ;;
        *) head -c 48 /dev/urandom | base64 >"$f" ;;
        esac
        vars+=("$name=$f")
    done <"$TMP/files-$env"

    if env -i "${vars[@]}" "$BIN" serve --env "$env" --config-dir "$dir" --check-config >"$TMP/check.log" 2>&1; then
        ok "senti serve --check-config ($env): $(cat "$TMP/check.log")"
    else
        fail "senti serve --check-config ($env): $(cat "$TMP/check.log")"
        continue
    fi
    if env -i "${vars[@]}" "$BIN" serve --env "$env" --config-dir "$dir" --print-config >"$TMP/printed-$env.yaml" 2>"$TMP/print.err"; then
        node "$TMP/compare.mjs" "$NODE_MODULES" "$dir" "$env" "$TMP/printed-$env.yaml" && ok "senti uses every value the chart sets ($env)" ||
            fail "senti's effective config differs from the chart's ($env)"
        for f in "$TMP/secrets-$env"/*; do
            [ -f "$f" ] || continue
            grep -qF -- "$(head -c 20 "$f")" "$TMP/printed-$env.yaml" && fail "secret from $(basename "$f") printed by --print-config ($env)"
        done
    else
        fail "senti serve --print-config ($env): $(cat "$TMP/print.err")"
    fi

    # Without the secret files, an environment with auth must not validate.
    if [ -s "$TMP/files-$env" ]; then
        if env -i PATH=/usr/bin:/bin "$BIN" serve --env "$env" --config-dir "$dir" --check-config >"$TMP/nosec.log" 2>&1; then
            fail "$env config validates without its secrets"
        else
            ok "$env config is refused without its secrets: $(head -c 150 "$TMP/nosec.log")"
        fi
    fi
done

# A broken value in the mounted file is caught by senti (the chart's schema is not
# the only guard): port out of range in base.yaml.
dir="$TMP/etc-dev/senti"
sed -i -E 's/^(  port:) 8080$/\1 70000/' "$dir/base.yaml"
grep -q 'port: 70000' "$dir/base.yaml" || fail "could not break server.port in base.yaml"
if env -i PATH=/usr/bin:/bin "$BIN" serve --env dev --config-dir "$dir" --check-config >"$TMP/bad.log" 2>&1; then
    fail "senti accepted server.port 70000"
else
    grep -q 'server.port' "$TMP/bad.log" && ok "senti refuses a bad mounted value: $(cat "$TMP/bad.log")" ||
        fail "unexpected message for a bad port: $(cat "$TMP/bad.log")"
fi
finish
