// Bundles the CLI and agent into one file that runs on Node.js 18 and later, and
// compiles the library entry for `import { renderBootstrap } from "holdfast"`.
import { build } from "esbuild";
import { readFileSync, chmodSync } from "node:fs";

const EARLY_EXIT =
  'if (process.argv[2] === "agent" && globalThis.__holdfastEarlyExit === undefined) {' +
  " globalThis.__holdfastEarlyExit = () => process.exit(0);" +
  ' process.on("SIGTERM", globalThis.__holdfastEarlyExit); process.on("SIGINT", globalThis.__holdfastEarlyExit); }';
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// zod re-exports every message locale; holdfast speaks English only. Dropping the others keeps
// them out of the agent's memory.
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes("/zod/") ? { path: "zod-locales", namespace: "zod-en" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-en" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: process.cwd(),
    }));
  },
};

const common = {
  mainFields: ["module", "main"],
  plugins: [zodEnglishOnly],
  bundle: true,
  platform: "node",
  target: "node18",
  format: "esm",
  legalComments: "none",
  define: { __HOLDFAST_VERSION__: JSON.stringify(pkg.version) },
  // prom-client and commander are CommonJS; give their require() calls a real require.
  banner: {
    js: "import { createRequire as __hfCreateRequire } from 'node:module'; const require = __hfCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: ["src/cli/bin.ts"],
  outfile: "dist/holdfast.mjs",
  // first statement of the bundle: a SIGTERM to the agent before its own handlers exist
  // exits 0 (src/cli/early-signals.ts says why; EARLY_EXIT_BANNER there is the same code)
  banner: { js: `#!/usr/bin/env node\n${EARLY_EXIT}\n${common.banner.js}` },
});
chmodSync("dist/holdfast.mjs", 0o755);

await build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js" });
