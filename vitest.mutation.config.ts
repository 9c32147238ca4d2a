import { defineConfig } from "vitest/config";

/**
 * The vitest run StrykerJS uses (stryker.config.json): the unit tests of the mutated modules
 * and of what validates, renders or reconciles through them. Never namespace tests
 * (`*.ns.test.ts`, root) or booted-node tests (`test/e2e/`): they run the built bundle against
 * a real kernel, so they would not see a mutant in src/, and take minutes per pass. Nor the
 * tests that shell out to systemd-analyze, shellcheck or bash per case (unit-tools,
 * properties): seconds per test, for modules that are not mutated. Nor the lock's tests: they
 * import only lock.ts and util/process.ts, so no mutant can reach them, and the race test
 * alone takes 7 s, which every static mutant that survives would pay again.
 */
export default defineConfig({
  test: {
    include: [
      "test/config/**/*.test.ts",
      "test/agent/**/*.test.ts",
      "test/observe/check.test.ts",
      "test/cli/commands/check.test.ts",
      "test/cli/schema.test.ts",
      "test/render/spec.test.ts",
      "test/render/golden.test.ts",
      "test/render/systemd-unit.test.ts",
      "test/converge/inventory.test.ts",
      "test/net/route.test.ts",
    ],
    exclude: [
      "**/*.ns.test.ts",
      "test/e2e/**",
      "**/node_modules/**",
      "test/agent/lock.test.ts",
      "test/agent/lock-race.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default"],
  },
});
