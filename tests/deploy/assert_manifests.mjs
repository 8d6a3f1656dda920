// tests/deploy/assert_manifests.mjs - the properties of a rendered release that
// matter in production, per environment (the environment matrix of the deploy
// issue). Usage:
//   node assert_manifests.mjs NODE_MODULES ENV RENDERED.yaml
// Prints "ok: ..." / "FAIL: ..." lines; exits 1 on any failure.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [nm, env, file] = process.argv.slice(2);
const YAML = await import(pathToFileURL(join(nm, "yaml/dist/index.js")).href);
const objs = YAML.parseAllDocuments(readFileSync(file, "utf8"))
  .map((d) => d.toJSON())
  .filter((o) => o && o.kind);

let failed = 0;
function check(cond, what) {
  console.log(`${cond ? "ok" : "FAIL"}: [${env}] ${what}`);
  if (!cond) failed++;
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const kind = (k) => objs.filter((o) => o.kind === k);
const one = (k, pred = () => true) => objs.find((o) => o.kind === k && pred(o));

// Environment matrix (deploy issue): what each environment must render.
const M = {
  dev: {
    replicas: 1, requests: { cpu: "500m", memory: "1Gi" }, hpa: null, prefix: "",
    auth: "none", rate: null, cache: [false], dtype: ["f32"], level: "debug",
    pvc: null, egressRestricted: false, pdb: false,
  },
  staging: {
    replicas: 2, requests: { cpu: "1", memory: "2Gi" },
    hpa: { min: 2, max: 5, cpu: 70, mem: 80, pods: false }, prefix: "/api/v1",
    auth: "api-key", rate: { rpm: 100 }, cache: [true, 3600], dtype: ["int8", "f32"],
    level: "info", pvc: "2Gi", egressRestricted: false, pdb: true,
  },
  prod: {
    replicas: 3, requests: { cpu: "2", memory: "4Gi" },
    hpa: { min: 3, max: 10, cpu: 60, mem: 70, pods: true }, prefix: "/api/v1",
    auth: "jwt", rate: { rpm: 1000, burst: 2000 }, cache: [true, 7200], dtype: ["int8", "f32"],
    level: "warning", pvc: "5Gi", egressRestricted: true, pdb: true,
  },
}[env];
if (!M) {
  console.log(`FAIL: unknown environment ${env}`);
  process.exit(1);
}

// --- the senti config the pods get (base.yaml with <env>.yaml merged over) ---
const cm = one("ConfigMap", (o) => o.metadata.name.endsWith("-config"));
check(!!cm && cm.data["base.yaml"] && cm.data[`${env}.yaml`], `ConfigMap holds base.yaml and ${env}.yaml`);
function merge(a, b) {
  if (b === null || typeof b !== "object" || Array.isArray(b)) return b;
  const out = { ...(a && typeof a === "object" && !Array.isArray(a) ? a : {}) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}
const cfg = merge(YAML.parse(cm.data["base.yaml"]) || {}, YAML.parse(cm.data[`${env}.yaml`]) || {});
check(cfg.server.host === "0.0.0.0", "server.host 0.0.0.0 (reachable by probes and the Service)");
check((cfg.api.prefix || "") === M.prefix, `api.prefix is "${M.prefix}"`);
check(cfg.auth.mode === M.auth, `auth.mode is ${M.auth}`);
check(M.dtype.includes(cfg.model.dtype), `model.dtype ${cfg.model.dtype} in ${M.dtype}`);
check(cfg.cache.enabled === M.cache[0] && (M.cache.length < 2 || cfg.cache.ttl_seconds === M.cache[1]),
  `cache ${M.cache[0] ? "on, ttl " + M.cache[1] : "off"}`);
check(M.rate ? cfg.rate_limit.enabled && cfg.rate_limit.requests_per_minute === M.rate.rpm &&
  (!M.rate.burst || cfg.rate_limit.burst === M.rate.burst) : !cfg.rate_limit.enabled,
  `rate limit ${M.rate ? M.rate.rpm + "/min" : "off"}`);
check(cfg.logging.level === M.level, `logging.level ${M.level}`);
if (env === "prod") {
  const origins = cfg.api.cors.allowed_origins || [];
  check(origins.length > 0 && !origins.includes("*") && origins.every((o) => o.startsWith("https://")),
    "prod CORS: explicit https origins, no '*'");
}
// Secrets never in the ConfigMap.
check(!cfg.auth.api_keys && !(cfg.auth.jwt && cfg.auth.jwt.secret), "no auth.api_keys / auth.jwt.secret in the ConfigMap");

// --- Deployments ---
const deps = kind("Deployment");
check(deps.length >= 1, "a Deployment is rendered");
const stable = deps.filter((d) => d.spec.template.metadata.labels["senti.dev/track"] === "stable");
check(stable.length >= 1, "a stable-track Deployment");
const hpas = kind("HorizontalPodAutoscaler");
for (const d of deps) {
  const n = `Deployment ${d.metadata.name}`;
  const pod = d.spec.template.spec;
  const c = pod.containers.find((x) => x.name === "senti");
  check(!!c, `${n}: has the senti container`);
  if (!c) continue;
  const port = (c.ports || []).find((p) => p.name === "http");
  check(port && port.containerPort === cfg.server.port, `${n}: container port http = server.port ${cfg.server.port}`);
  const hits = (p, path) => p && p.httpGet && p.httpGet.path === path &&
    (p.httpGet.port === "http" || p.httpGet.port === cfg.server.port);
  check(hits(c.livenessProbe, "/healthz"), `${n}: liveness probe GET /healthz on the container port`);
  check(hits(c.readinessProbe, "/readyz"), `${n}: readiness probe GET /readyz on the container port`);
  const sp = c.startupProbe;
  check(sp && sp.httpGet && sp.failureThreshold * sp.periodSeconds >= 120,
    `${n}: startup probe allows >= 120 s for the model load`);
  const preStop = c.lifecycle?.preStop?.exec?.command;
  const sleep = preStop && preStop[0] === "sleep" ? Number(preStop[1]) : 0;
  check(sleep > 0, `${n}: preStop sleep`);
  check(pod.terminationGracePeriodSeconds >= sleep + Math.ceil(cfg.server.drain_timeout_ms / 1000),
    `${n}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} >= preStop ${sleep} + drain ${cfg.server.drain_timeout_ms} ms`);
  // Security contexts.
  const psc = pod.securityContext || {};
  check(psc.runAsNonRoot === true && psc.runAsUser === 1000 && psc.fsGroup === 1000 &&
    psc.seccompProfile?.type === "RuntimeDefault", `${n}: pod runAsNonRoot, uid 1000, fsGroup, seccomp RuntimeDefault`);
  const csc = c.securityContext || {};
  check(csc.allowPrivilegeEscalation === false && csc.readOnlyRootFilesystem === true &&
    eq(csc.capabilities?.drop, ["ALL"]) && csc.runAsNonRoot === true && !csc.privileged,
    `${n}: container drops ALL, no privilege escalation, read-only root filesystem`);
  check(pod.automountServiceAccountToken === false, `${n}: no service account token mounted`);
  // Config and secrets.
  const mounts = Object.fromEntries((c.volumeMounts || []).map((m) => [m.mountPath, m]));
  const cfgVol = (pod.volumes || []).find((v) => v.name === mounts["/etc/senti"]?.name);
  check(cfgVol && cfgVol.configMap?.name === cm.metadata.name, `${n}: ConfigMap mounted at /etc/senti`);
  check(!!mounts["/tmp"], `${n}: writable /tmp (read-only root)`);
  const envs = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
  check(envs.SENTI_ENV?.value === env && envs.SENTI_CONFIG_DIR?.value === "/etc/senti",
    `${n}: SENTI_ENV=${env}, SENTI_CONFIG_DIR=/etc/senti`);
  for (const e of c.env || [])
    check(!/SECRET|API_KEY|PASSWORD|TOKEN/.test(e.name) || e.name.endsWith("_FILE") || e.valueFrom,
      `${n}: ${e.name} carries no secret value`);
  if (M.auth !== "none") check(!!envs.SENTI_AUTH_API_KEYS_FILE, `${n}: SENTI_AUTH_API_KEYS_FILE set`);
  if (M.auth === "jwt") check(!!envs.SENTI_AUTH_JWT_SECRET_FILE, `${n}: SENTI_AUTH_JWT_SECRET_FILE set`);
  const ann = d.spec.template.metadata.annotations || {};
  // Secrets come from exactly one place: the Vault agent (the staging/prod
  // default, checked on the default renders by test_helm_chart.sh) or a mounted
  // Secret (existing, or made by the ExternalSecret); none without auth.
  const vault = ann["vault.hashicorp.com/agent-inject"] === "true";
  const secretVol = (pod.volumes || []).some((v) => v.secret);
  if (M.auth === "none") check(!vault && !secretVol, `${n}: no secrets without auth`);
  else check(vault !== secretVol, `${n}: secrets from ${vault ? "the Vault agent" : secretVol ? "a mounted Secret" : "nowhere"}`);
  // Image.
  const [, tag] = c.image.match(/:([^:/@]+)$/) || [];
  check(c.image.includes("@sha256:") || (tag && tag !== "latest"), `${n}: image ${c.image} is pinned (not latest)`);
  // Replicas: fixed, or from an HPA targeting it.
  const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
  const track = d.spec.template.metadata.labels["senti.dev/track"];
  if (track === "stable") {
    const min = hpa ? hpa.spec.minReplicas : d.spec.replicas;
    check(min >= M.replicas, `${n}: at least ${M.replicas} replicas (${min})`);
    if (env === "prod") check(min >= 3, `${n}: prod runs >= 3 replicas`);
    check(eq(c.resources?.requests, M.requests), `${n}: requests ${JSON.stringify(M.requests)}`);
  }
  const lim = c.resources?.limits || {};
  check(lim.cpu && lim.memory, `${n}: cpu and memory limits set`);
}

// Every container of every workload has requests and limits.
for (const o of objs) {
  const spec = o.kind === "CronJob" ? o.spec.jobTemplate.spec.template.spec
    : o.kind === "Pod" ? o.spec : o.spec?.template?.spec;
  for (const c of spec?.containers || [])
    check(c.resources?.requests && c.resources?.limits?.memory && c.resources?.limits?.cpu,
      `${o.kind} ${o.metadata.name}/${c.name}: requests and limits`);
  if (spec) check(spec.securityContext?.runAsNonRoot === true, `${o.kind} ${o.metadata.name}: runs as non-root`);
}

// --- HPA ---
if (M.hpa) {
  check(hpas.length >= 1, "HPA present");
  for (const h of hpas) {
    const n = `HPA ${h.metadata.name}`;
    const res = (name) => h.spec.metrics.find((m) => m.type === "Resource" && m.resource.name === name)?.resource.target.averageUtilization;
    check(h.spec.minReplicas === M.hpa.min && h.spec.maxReplicas === M.hpa.max, `${n}: ${M.hpa.min}..${M.hpa.max} replicas`);
    check(res("cpu") === M.hpa.cpu && res("memory") === M.hpa.mem, `${n}: cpu ${M.hpa.cpu}%, memory ${M.hpa.mem}%`);
    check(M.hpa.pods === h.spec.metrics.some((m) => m.type === "Pods"), `${n}: requests-per-second metric ${M.hpa.pods ? "on" : "off"}`);
  }
} else check(hpas.length === 0, "no HPA");

// --- PDB ---
const pdbs = kind("PodDisruptionBudget");
if (M.pdb) {
  check(pdbs.length >= 1, "PodDisruptionBudget present");
  for (const p of pdbs) {
    const sel = p.spec.selector.matchLabels;
    const covers = stable.some((d) => Object.entries(sel).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
    check(covers, `PDB ${p.metadata.name} selects stable pods`);
    const minRep = Math.min(...stable.map((d) => hpas.find((h) => h.spec.scaleTargetRef.name === d.metadata.name)?.spec.minReplicas ?? d.spec.replicas));
    check(typeof p.spec.minAvailable === "number" && p.spec.minAvailable < minRep,
      `PDB ${p.metadata.name}: minAvailable ${p.spec.minAvailable} < replicas ${minRep} (drains can proceed)`);
  }
}

// --- Services select the pods, on the container port ---
const svc = one("Service", (s) => s.metadata.name === stable[0].metadata.name.replace(/-(blue|green)$/, ""));
check(!!svc, "main Service present");
if (svc) {
  const sel = svc.spec.selector;
  const matches = stable.filter((d) => Object.entries(sel).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
  check(matches.length === 1, `Service ${svc.metadata.name} selects exactly one stable Deployment's pods`);
  check(svc.spec.ports.every((p) => p.targetPort === "http"), `Service ${svc.metadata.name} targets the http port`);
}

// --- NetworkPolicy ---
const np = kind("NetworkPolicy")[0];
check(!!np, "NetworkPolicy present");
if (np) {
  const sel = np.spec.podSelector.matchLabels;
  check(stable.every((d) => Object.entries(sel).every(([k, v]) => d.spec.template.metadata.labels[k] === v)),
    "NetworkPolicy selects the server pods");
  const nsAllowed = np.spec.ingress.flatMap((r) => r.from.flatMap((f) => f.namespaceSelector?.matchExpressions?.[0]?.values || []));
  check(nsAllowed.includes("ingress-nginx") && nsAllowed.includes("monitoring"), "ingress from the ingress and monitoring namespaces");
  const restricted = (np.spec.policyTypes || []).includes("Egress");
  check(restricted === M.egressRestricted, `egress ${M.egressRestricted ? "restricted" : "open"}`);
  if (restricted) {
    const dns = np.spec.egress.some((r) => r.ports?.some((p) => p.port === 53));
    check(dns, "egress allows DNS");
    check(np.spec.egress.every((r) => r.to && r.to.length > 0), "every egress rule names its destination");
  }
}

// --- model volume ---
const pvc = one("PersistentVolumeClaim");
check(M.pvc ? pvc?.spec.resources.requests.storage === M.pvc : !pvc, `model volume ${M.pvc || "none (baked model)"}`);

// --- Ingress path follows the API prefix ---
for (const ing of kind("Ingress"))
  check(ing.spec.rules.every((r) => r.http.paths.every((p) => p.path === (M.prefix || "/"))),
    `Ingress ${ing.metadata.name}: path ${M.prefix || "/"}`);

// --- observability ---
if (env !== "dev") {
  const rule = one("PrometheusRule");
  const alerts = rule ? rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter(Boolean) : [];
  for (const a of ["SentiHighErrorRate", "SentiHighLatencyP99", "SentiPodRestarting", "SentiPodNotReady", "SentiLabelMixDrift", "SentiScoreDistributionDrift"])
    check(alerts.includes(a), `PrometheusRule alert ${a}`);
}
check(!!one("ServiceMonitor"), "ServiceMonitor present");

// --- no secret material anywhere in the release ---
for (const s of kind("Secret"))
  check(!s.data && !s.stringData, `Secret ${s.metadata.name} carries no values`);
const text = readFileSync(file, "utf8");
check(!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text), "no private keys in the manifests");
check(!/^[ \t-]*(api_keys|secret|password|token|jwt_secret)[ \t]*:[ \t]*[^ \t{[\n]/m.test(text), "no secret-looking keys with values in the manifests");

console.log(`assert_manifests [${env}]: ${failed} failure(s)`);
process.exit(failed ? 1 : 0);
