// tests/deploy/k8s_validate.mjs - validate rendered Kubernetes manifests against the
// Kubernetes API schemas, offline.
//
//   node k8s_validate.mjs NODE_MODULES FILE.yaml...
//
// Every document must have an apiVersion/kind that the installed models know
// (kubernetes-models for the core API, @kubernetes-models/{prometheus-operator,
// external-secrets,istio} for the CRDs we render): an unknown kind is an error, so
// nothing slips through unchecked. Two checks per object:
//   1. schema: the model's validator, compiled from the Kubernetes OpenAPI spec
//      (types, required fields, enums, int32/quantity/int-or-string formats);
//   2. strict fields: like the API server's fieldValidation=Strict, every key must
//      be a field of its type. The schema validator alone accepts unknown keys, so
//      we walk the models' type declarations (.d.ts) and report keys they lack,
//      which catches mis-indented or misspelled fields.
// Prints one line per problem and a summary; exits 1 on any problem.
import { readFileSync, existsSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [nm, ...files] = process.argv.slice(2);
if (!nm || files.length === 0) {
  console.error("usage: node k8s_validate.mjs NODE_MODULES FILE.yaml...");
  process.exit(2);
}
const YAML = await import(pathToFileURL(join(nm, "yaml/dist/index.js")).href);

const ROOTS = [
  "kubernetes-models",
  "@kubernetes-models/prometheus-operator",
  "@kubernetes-models/external-secrets",
  "@kubernetes-models/istio",
];

// API versions the models still carry but current clusters (1.25+) no longer serve.
const REMOVED = /^(extensions\/|apps\/v1beta|batch\/v1beta|policy\/v1beta|autoscaling\/v2beta|networking\.k8s\.io\/v1beta|rbac\.authorization\.k8s\.io\/v1beta)/;

function modelPath(apiVersion, kind) {
  const parts = apiVersion.split("/");
  const rel = parts.length === 1 ? join(parts[0], kind) : join(parts[0], parts[1], kind);
  for (const root of ROOTS) {
    const p = join(nm, root, rel);
    if (existsSync(p + ".js")) return p;
  }
  return null;
}

// ---- strict field check over the models' .d.ts declarations ----
const ifaceCache = new Map(); // .d.ts path -> { fields: Map(name -> type string), imports }

function resolveImport(fromFile, spec) {
  const base = spec.startsWith(".") ? resolve(dirname(fromFile), spec) : join(nm, spec);
  const p = base.replace(/\.js$/, "") + ".d.ts";
  return existsSync(p) ? p : null;
}

function loadIface(dts) {
  if (ifaceCache.has(dts)) return ifaceCache.get(dts);
  const src = readFileSync(dts, "utf8");
  const imports = new Map();
  for (const m of src.matchAll(/^import \{([^}]*)\} from "([^"]+)";/gm)) {
    for (const name of m[1].split(",")) {
      const [orig, alias] = name.trim().split(/\s+as\s+/);
      if (orig) imports.set((alias || orig).trim(), m[2]);
    }
  }
  let info = null;
  const start = src.search(/^export interface I\w+( extends [\w, ]+)? \{$/m);
  if (start >= 0) {
    const body = src.slice(start).split("\n");
    const fields = new Map();
    for (let i = 1; i < body.length && body[i] !== "}"; i++) {
      const f = body[i].match(/^ {4}"([^"]+)"\??: (.*?);?$/);
      if (f) fields.set(f[1], f[2]);
    }
    info = { fields, imports };
  }
  ifaceCache.set(dts, info);
  return info;
}

// Recurse into a field's type when it is an imported interface or an array of one;
// anything else (scalars, maps, unions, inline literals) is left to the schema check.
function checkStrict(value, dts, path, errors) {
  const info = dts && loadIface(dts);
  if (!info || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, sub] of Object.entries(value)) {
    const type = info.fields.get(key);
    if (type === undefined) {
      errors.push(`${path}/${key}: unknown field`);
      continue;
    }
    const arr = type.match(/^Array<(\w+)>$/);
    const name = arr ? arr[1] : type;
    if (!/^\w+$/.test(name) || !info.imports.has(name)) continue;
    const next = resolveImport(dts, info.imports.get(name));
    if (arr && Array.isArray(sub)) sub.forEach((el, i) => checkStrict(el, next, `${path}/${key}/${i}`, errors));
    else if (!arr) checkStrict(sub, next, `${path}/${key}`, errors);
  }
}

let objects = 0;
let problems = 0;
for (const file of files) {
  const docs = YAML.parseAllDocuments(readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length) {
      console.log(`${file}: YAML error: ${doc.errors[0].message}`);
      problems++;
      continue;
    }
    const obj = doc.toJSON();
    if (obj === null || obj === undefined) continue;
    objects++;
    const id = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    if (!obj.apiVersion || !obj.kind) {
      console.log(`${id}: missing apiVersion or kind`);
      problems++;
      continue;
    }
    if (REMOVED.test(obj.apiVersion)) {
      console.log(`${id}: ${obj.apiVersion} is removed from current Kubernetes (1.25+)`);
      problems++;
      continue;
    }
    const mp = modelPath(obj.apiVersion, obj.kind);
    if (!mp) {
      console.log(`${id}: no schema for ${obj.apiVersion} ${obj.kind} (unknown or removed API)`);
      problems++;
      continue;
    }
    const mod = await import(pathToFileURL(mp + ".js").href);
    const errors = [];
    try {
      new mod[obj.kind](obj).validate();
    } catch (e) {
      errors.push(...String(e.message).split("\n"));
    }
    checkStrict(obj, mp + ".d.ts", "", errors);
    for (const e of errors) console.log(`${id} (${obj.apiVersion}): ${e}`);
    problems += errors.length;
  }
}
console.log(`k8s_validate: ${objects} objects, ${problems} problems`);
process.exit(problems === 0 && objects > 0 ? 0 : 1);
