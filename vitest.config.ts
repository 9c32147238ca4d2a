import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // every file's scratch directories go when the file ends (test/helpers/scratch.ts)
    setupFiles: ["test/setup/scratch.ts"],
    // Namespace tests share one kernel and Kea ports per namespace; files run in parallel
    // but each makes namespaces with a unique prefix, so they never collide.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ["default"],
  },
});
