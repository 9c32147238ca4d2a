import { defineConfig } from "vitest/config";

// Tests that boot qemu VMs (TCG on a 2-CPU machine): they run after every other file, so
// their guests do not slow the namespace tests' timing and the namespace tests do not starve
// the guests.
const VM_TESTS = ["test/prove/*-vm.ns.test.ts"];

const shared = {
  // Namespace tests share one kernel and Kea ports per namespace; files run in parallel
  // but each makes namespaces with a unique prefix, so they never collide.
  testTimeout: 120_000,
  hookTimeout: 120_000,
  // every file's scratch directories go when the file ends (test/helpers/scratch.ts)
  setupFiles: ["test/setup/scratch.ts"],
};

export default defineConfig({
  test: {
    maxWorkers: 2,
    reporters: ["default"],
    projects: [
      {
        test: {
          ...shared,
          name: "suite",
          include: ["test/**/*.test.ts"],
          exclude: VM_TESTS,
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "vm",
          include: VM_TESTS,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
