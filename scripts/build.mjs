// Bundles the CLI and agent into one file that runs on Node.js 18 and later, and
// compiles the library entry for `import { renderBootstrap } from "holdfast"`.
import { build } from "esbuild";
import { readFileSync, chmodSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const common = {
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
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
});
chmodSync("dist/holdfast.mjs", 0o755);

await build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js" });
