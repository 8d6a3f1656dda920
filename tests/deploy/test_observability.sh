#!/usr/bin/env bash
# tests/deploy/test_observability.sh - the chart's monitoring is built on what
# senti really exports:
#   every metric the Grafana dashboard, the PrometheusRule and the HPA's
#   prometheus-adapter rule (README) query is registered in net/*.c, with
#   _bucket/_sum/_count only on histograms;
#   promtool (Debian package prometheus) accepts the rendered rules, and unit
#   tests prove the alerts fire: error rate, and the drift alerts when the label
#   mix or the score distribution moves away from its 7-day baseline (and stay
#   quiet while it does not).
source "$(dirname "$0")/lib.sh"
need_helm
need_validator
command -v promtool >/dev/null || { echo "FAIL: promtool not found (apt-get install prometheus; make deps)"; exit 1; }

# ---- what senti exports -------------------------------------------------------------
# net_metrics_add(reg, NET_METRIC_<TYPE>, "name", ...), possibly over two lines.
cat "$ROOT"/net/*.c | tr '\n' ' ' | grep -oE 'net_metrics_add\([^,]+, *NET_METRIC_[A-Z]+, *"[a-z0-9_]+"' |
    sed -E 's/.*NET_METRIC_([A-Z]+), *"([a-z0-9_]+)"/\2 \1/' | sort -u >"$TMP/exported"
[ -s "$TMP/exported" ] || { echo "FAIL: no metrics registered in net/*.c"; exit 1; }
echo "senti exports: $(awk '{print $1}' "$TMP/exported" | tr '\n' ' ')"

check_names() { # label file
    local label=$1 file=$2 n=0 m base suffix type
    for m in $(grep -oE '\b(senti|process)_[a-z0-9_]+' "$file" | sort -u); do
        base=$m suffix=""
        case "$m" in
        *_bucket | *_sum | *_count) base=${m%_*} suffix=${m##*_} ;;
        esac
        type=$(awk -v b="$base" '$1 == b {print $2}' "$TMP/exported")
        if [ -z "$type" ] && [ -n "$suffix" ]; then # a counter/gauge whose name ends so
            base=$m suffix=""
            type=$(awk -v b="$base" '$1 == b {print $2}' "$TMP/exported")
        fi
        n=$((n + 1))
        if [ -z "$type" ]; then
            fail "$label: metric $m is not exported by senti (net/*.c)"
        elif [ -n "$suffix" ] && [ "$type" != HISTOGRAM ]; then
            fail "$label: $m uses _$suffix but $base is a $type"
        fi
    done
    [ "$n" -gt 0 ] && ok "$label: $n metric names, all exported by senti" || fail "$label: references no metric"
}

render prod "$TMP/prod.yaml"
cat >"$TMP/pick.mjs" <<'EOF'
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [nm, file, out] = process.argv.slice(2);
const YAML = await import(pathToFileURL(join(nm, "yaml/dist/index.js")).href);
const objs = YAML.parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJSON()).filter(Boolean);
const rule = objs.find((o) => o.kind === "PrometheusRule");
writeFileSync(`${out}/rules.yaml`, YAML.stringify({ groups: rule.spec.groups }));
const dash = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-dashboard"));
const json = Object.values(dash.data)[0];
JSON.parse(json); // must be valid JSON
writeFileSync(`${out}/dashboard.json`, json);
const hpa = objs.find((o) => o.kind === "HorizontalPodAutoscaler");
const pods = hpa.spec.metrics.filter((m) => m.type === "Pods").map((m) => m.pods.metric.name);
writeFileSync(`${out}/hpa-metrics`, pods.join("\n") + "\n");
EOF
node "$TMP/pick.mjs" "$NODE_MODULES" "$TMP/prod.yaml" "$TMP" && ok "dashboard JSON parses" || fail "cannot extract rules/dashboard"
check_names "Grafana dashboard" "$TMP/dashboard.json"
check_names "PrometheusRule" "$TMP/rules.yaml"
# The HPA's custom metric comes from prometheus-adapter's rule in deploy/README.md.
grep -q "senti_http_requests_total" "$ROOT/deploy/README.md" && grep -qf "$TMP/hpa-metrics" "$ROOT/deploy/README.md" &&
    ok "HPA metric $(cat "$TMP/hpa-metrics") is derived in deploy/README.md from senti_http_requests_total" ||
    fail "HPA metric $(cat "$TMP/hpa-metrics") has no prometheus-adapter rule in deploy/README.md"

promtool check rules "$TMP/rules.yaml" >"$TMP/check.log" 2>&1 && ok "promtool check rules: $(grep -o '[0-9]* rules found' "$TMP/check.log")" ||
    { fail "promtool check rules"; cat "$TMP/check.log"; }

# ---- alert unit tests ---------------------------------------------------------------
# 10-minute samples over 8 days (the 7d baseline ending 1d ago), then a change.
sel='namespace="senti-prod",service="senti",pod="senti-abc"'
cat >"$TMP/unit.yaml" <<EOF
rule_files: [rules.yaml]
evaluation_interval: 5m
tests:
  # The label mix moves from 50/50 to 90/10 positive: drift alert after 30 min.
  - interval: 10m
    input_series:
      - series: 'senti_predictions_total{$sel,label="POSITIVE"}'
        values: '0+50x1152 57690+90x30'
      - series: 'senti_predictions_total{$sel,label="NEGATIVE"}'
        values: '0+50x1152 57610+10x30'
    alert_rule_test:
      - eval_time: 8d
        alertname: SentiLabelMixDrift
        exp_alerts: []
      - eval_time: 8d4h
        alertname: SentiLabelMixDrift
        exp_alerts:
          - exp_labels: {namespace: senti-prod, service: senti, severity: warning}
            exp_annotations:
              summary: "senti prod: the served label mix moved away from its baseline"
              description: "The POSITIVE share over 1h differs from the 7d baseline by more than 0.15 (400m): input drift or a model regression."
  # The mean score drops from 0.95 to 0.70 (the model became unsure).
  - interval: 10m
    input_series:
      - series: 'senti_prediction_score_sum{$sel}'
        values: '0+95x1152 109535+70x30'
      - series: 'senti_prediction_score_count{$sel}'
        values: '0+100x1152 115300+100x30'
    alert_rule_test:
      - eval_time: 8d
        alertname: SentiScoreDistributionDrift
        exp_alerts: []
      - eval_time: 8d4h
        alertname: SentiScoreDistributionDrift
        exp_alerts:
          - exp_labels: {namespace: senti-prod, service: senti, severity: warning}
            exp_annotations:
              summary: "senti prod: the prediction score distribution moved away from its baseline"
              description: "The mean score over 1h differs from the 7d baseline by 250m."
  # 10% of requests fail with 5xx.
  - interval: 1m
    input_series:
      - series: 'senti_http_requests_total{$sel,route="/api/v1/predict",status="200"}'
        values: '0+90x30'
      - series: 'senti_http_requests_total{$sel,route="/api/v1/predict",status="503"}'
        values: '0+10x30'
    alert_rule_test:
      - eval_time: 20m
        alertname: SentiHighErrorRate
        exp_alerts:
          - exp_labels: {namespace: senti-prod, service: senti, severity: critical}
            exp_annotations:
              summary: "senti prod: more than 5% of requests fail with 5xx"
              description: "10% of requests returned 5xx over 5 minutes."
EOF
if promtool test rules "$TMP/unit.yaml" >"$TMP/unit.log" 2>&1; then
    ok "promtool test rules: label-mix drift, score drift and error-rate alerts fire (and only then)"
else
    fail "promtool test rules"
    cat "$TMP/unit.log"
fi
finish
