// Bundles the CLI and agent into one file that runs on Node.js 18 and later, and
// compiles the library entry for `import { renderBootstrap } from "holdfast"`.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { chmodSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";

const EARLY_EXIT =
  'if (process.argv[2] === "agent" && globalThis.__holdfastEarlyExit === undefined) {' +
  " globalThis.__holdfastEarlyExit = () => process.exit(0);" +
  ' process.on("SIGTERM", globalThis.__holdfastEarlyExit); process.on("SIGINT", globalThis.__holdfastEarlyExit); }';
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// The build's fingerprint (src/version.ts BUILD): every source file and the locked dependencies.
const fingerprint = createHash("sha256");
for (const file of [...readdirSync("src", { recursive: true })].map(String).sort()) {
  if (file.endsWith(".ts"))
    fingerprint
      .update(`${file}\0`)
      .update(readFileSync(`src/${file}`))
      .update("\0");
}
fingerprint.update(readFileSync("package-lock.json"));
const BUILD = fingerprint.digest("hex").slice(0, 16);
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

// An ESM bundle hoists every `import … from "node:…"` to its top, so Node loads each
// builtin any command uses (http, crypto, zlib, readline, …) before the agent can hold an
// address: a fifth of its start-up (bench/agent-startup.ts --cpu-prof). This makes each a small
// module of its own that requires the builtin when it is first evaluated: the modules behind
// a command's dynamic import are evaluated lazily, so `holdfast agent` loads only its own.
const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith("_")));
const builtinNamesCache = new Map();
// Names a builtin computes on first read (fs.promises, fs.ReadStream, process.stdin, …) are
// left out: destructuring them would load their modules (fs.promises alone pulls in ten, with
// readline's) or open stdin, for code that never reads them. Importing one by name fails the
// build ("No matching export"); `m.promises` (the default export) still reads it when used.
const nodeRequire = createRequire(import.meta.url);
async function builtinExportNames(name) {
  if (!builtinNamesCache.has(name)) {
    const cjs = nodeRequire(`node:${name}`);
    builtinNamesCache.set(
      name,
      Object.keys(await import(`node:${name}`)).filter(
        (key) =>
          key !== "default" &&
          /^[A-Za-z_$][\w$]*$/.test(key) &&
          Object.getOwnPropertyDescriptor(cjs, key)?.get === undefined,
      ),
    );
  }
  return builtinNamesCache.get(name);
}
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      if (args.kind !== "import-statement" || !BUILTINS.has(name)) return undefined;
      return { path: name, namespace: "lazy-builtin" };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, async (args) => {
      const names = await builtinExportNames(args.path);
      return {
        // `require` is the banner's createRequire(import.meta.url)
        contents:
          `const m = require("node:${args.path}");\nexport default m;\n` +
          (names.length > 0 ? `export const { ${names.join(", ")} } = m;\n` : ""),
        loader: "js",
      };
    });
  },
};

const common = {
  mainFields: ["module", "main"],
  plugins: [zodEnglishOnly, lazyBuiltins],
  bundle: true,
  platform: "node",
  target: "node18",
  format: "esm",
  legalComments: "none",
  define: { __HOLDFAST_VERSION__: JSON.stringify(pkg.version), __HOLDFAST_BUILD__: JSON.stringify(BUILD) },
  // prom-client and commander are CommonJS; give their require() calls a real require.
  banner: {
    js: "import { createRequire as __hfCreateRequire } from 'node:module'; const require = __hfCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
};

// V8 keeps a script's source in the heap for as long as the script lives (it compiles each
// function from it when first called), so the agent carries its bundle's text all its life:
// one byte a character if the text is all ASCII, two if a single character is not. esbuild
// escapes strings and names to ASCII already; the comments it keeps are what is left (a "§" or
// "—"), and minifying whitespace drops them along with the indentation. Syntax minifying is
// semantics-preserving rewriting; names are kept, so stack traces still name our functions.
// 1.36 MB of two-byte text (2.7 MB of heap) becomes 0.93 MB of one-byte, and it parses and
// decodes faster (bench/agent-startup.ts --part memory / start, docs/architecture.md).
const agentBundle = {
  minifyWhitespace: true,
  minifySyntax: true,
};

await build({
  ...common,
  ...agentBundle,
  entryPoints: ["src/cli/bin.ts"],
  outfile: "dist/holdfast.mjs",
  // first statement of the bundle: a SIGTERM to the agent before its own handlers exist
  // exits 0 (src/cli/early-signals.ts says why; EARLY_EXIT_BANNER there is the same code)
  banner: { js: `#!/usr/bin/env node\n${EARLY_EXIT}\n${common.banner.js}` },
});
chmodSync("dist/holdfast.mjs", 0o755);
// Keep the bundle one-byte text (see agentBundle): a non-ASCII character here would double its
// share of every agent's heap without a word, so the build fails instead.
const nonAscii = readFileSync("dist/holdfast.mjs").findIndex((byte) => byte > 0x7f);
if (nonAscii !== -1) {
  throw new Error(
    `dist/holdfast.mjs: a non-ASCII byte at offset ${nonAscii}; V8 would keep the whole bundle as two-byte text`,
  );
}

await build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js" });
