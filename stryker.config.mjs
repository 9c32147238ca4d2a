// StrykerJS: mutation testing of the modules whose edges matter most (issue 17). `npm run
// mutation` runs it; the JSON report goes to reports/mutation/mutation.json.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "vitest",
  // unit tests only: no namespace (*.ns.test.ts) or booted-node (test/e2e) tests
  vitest: { configFile: "vitest.mutation.config.ts" },
  coverageAnalysis: "perTest",
  mutate: [
    "src/config/**/*.ts",
    "src/agent/cache.ts", // the cache and the identity helpers (identityOf, sameIdentity)
    "src/agent/backoff.ts",
    "src/agent/attachment.ts",
    "src/agent/reconcile*.ts", // the reconcile steps, once attachment.ts is split into them
    "src/observe/check.ts",
    "src/render/systemd-unit.ts",
    "src/net/route.ts",
  ],
  ignorePatterns: ["dist", ".lab", "reports", "coverage", "tools/node18/node_modules"],
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  thresholds: { high: 90, low: 80, break: 70 },
  // the project's 2 CPUs
  concurrency: 2,
  tempDirName: ".stryker-tmp",
  // the first, unmutated pass runs every test with per-test coverage: slow on a busy machine
  dryRunTimeoutMinutes: 15,
  // Stryker's default also prepends "// @ts-nocheck" to test fixtures, which changes the fake
  // bundle's sha256 in the render goldens; only the instrumented sources need it.
  disableTypeChecks: "src/**/*.ts",
  // no "ignoreStatic": the schema's bounds (vlanId 1-4094, durations) are static mutants
};
