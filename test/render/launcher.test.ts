import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import { bundleCandidates, findAgentBundle } from "../../src/render/bundle.js";
import { renderLauncher } from "../../src/render/launcher.js";
import { withTempDir } from "./tools.js";

function execPathOf(name: string): string {
  return spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
}

/** A fake `node` that reports a version and, when run with a script, says who it is. */
function fakeNode(dir: string, name: string, version: string): string {
  const path = join(dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo ${version}; else echo "${name} ran $*"; fi\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

function runLauncher(
  dir: string,
  candidates: string[],
  env: Record<string, string> = {},
  args: string[] = [],
) {
  const launcher = join(dir, "holdfast");
  writeFileSync(launcher, renderLauncher({ bundlePath: "/b/holdfast.mjs", nodeCandidates: candidates }));
  chmodSync(launcher, 0o755);
  // PATH with awk but no node, so only the candidates count
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  if (!existsSync(join(bin, "awk"))) symlinkSync(execPathOf("awk"), join(bin, "awk"));
  return spawnSync(launcher, args, { encoding: "utf8", env: { PATH: bin, ...env } });
}

describe("the launcher", () => {
  it("runs the bundle with the newest Node.js >= 18 among those found", () =>
    withTempDir("hf-render-launch-", (dir) => {
      const old = fakeNode(join(dir, "a"), "node", "v12.22.9");
      const n18 = fakeNode(join(dir, "b"), "node", "v18.20.4");
      const n20 = fakeNode(join(dir, "c"), "node", "v20.9.0");
      const n20older = fakeNode(join(dir, "d"), "node", "v20.1.0");
      const r = runLauncher(dir, [old, n18, n20, n20older], {}, ["status", "--json"]);
      expect(r.stdout).toBe("node ran /b/holdfast.mjs status --json\n");
      const which = runLauncher(dir, [old, n18, n20, n20older], { HOLDFAST_WHICH_NODE: "1" });
      expect(which.stdout).toBe(`${n20}\n`);
    }));

  it("exits 127 naming what it tried when no Node.js >= 18 is there", () =>
    withTempDir("hf-render-launch-", (dir) => {
      const old = fakeNode(join(dir, "a"), "node", "v16.20.2");
      const r = runLauncher(dir, [old, join(dir, "missing/node")]);
      expect(r.status).toBe(127);
      expect(r.stderr).toContain("holdfast: no Node.js >= 18 found");
    }));

  it("HOLDFAST_NODE forces one node (still only if >= 18)", () =>
    withTempDir("hf-render-launch-", (dir) => {
      const n22 = fakeNode(join(dir, "a"), "node", "v22.1.0");
      const forced = fakeNode(join(dir, "b"), "node", "v18.0.0");
      expect(runLauncher(dir, [n22], { HOLDFAST_NODE: forced, HOLDFAST_WHICH_NODE: "1" }).stdout).toBe(
        `${forced}\n`,
      );
    }));
});

describe("the launcher, before every agent start", () => {
  it("asks each Node.js binary for its version once, however many paths lead to it", () =>
    withTempDir("hf-render-launch-", (dir) => {
      const calls = join(dir, "calls");
      const node = join(dir, "a", "node");
      mkdirSync(join(dir, "a"));
      // counts its --version runs: each is a Node.js start on a real node
      writeFileSync(
        node,
        `#!/bin/sh\nif [ "$1" = --version ]; then echo x >> ${calls}; echo v20.9.0; else echo "ran $*"; fi\n`,
      );
      chmodSync(node, 0o755);
      symlinkSync(node, join(dir, "a", "nodejs"));
      symlinkSync(join(dir, "a", "nodejs"), join(dir, "a", "node-alt"));
      const r = runLauncher(dir, [node, join(dir, "a", "nodejs"), join(dir, "a", "node-alt")], {
        HOLDFAST_WHICH_NODE: "1",
      });
      expect(r.stdout).toBe(`${node}\n`);
      expect(readFileSync(calls, "utf8")).toBe("x\n");
    }));

  it("takes a pre-release version by its numbers, and refuses what is not a version without noise", () =>
    withTempDir("hf-render-launch-", (dir) => {
      const pre = fakeNode(join(dir, "a"), "node", "v20.1.0-pre");
      expect(runLauncher(dir, [pre], { HOLDFAST_WHICH_NODE: "1" }).stdout).toBe(`${pre}\n`);
      for (const [i, junk] of ["v1x.2.3", "v18.2", "hello", "v.1.2"].entries()) {
        const bad = fakeNode(join(dir, `bad${i}`), "node", junk);
        const r = runLauncher(dir, [bad], { HOLDFAST_WHICH_NODE: "1" });
        expect(r.status, junk).toBe(127);
        expect(r.stderr, junk).toBe(`holdfast: no Node.js >= 18 found (tried node, nodejs and ${bad})\n`);
      }
    }));
});

describe("finding the bundle to embed", () => {
  it("fails clearly, naming where it looked and how to build it", () => {
    try {
      findAgentBundle(["/nonexistent/dist/holdfast.mjs"]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HoldfastError);
      expect((error as HoldfastError).describe()).toBe(
        [
          "agent bundle not found: holdfast.mjs",
          "  looked in: /nonexistent/dist/holdfast.mjs",
          "  build it with `npm run build`, or use `agent.install: npm` in the spec",
        ].join("\n"),
      );
    }
  });

  it("is itself when running as the bundle, else dist/ of the tree", () => {
    expect(bundleCandidates("file:///usr/local/lib/holdfast/holdfast.mjs")[0]).toBe(
      "/usr/local/lib/holdfast/holdfast.mjs",
    );
    expect(bundleCandidates("file:///repo/src/render/bundle.ts")).toContain("/repo/dist/holdfast.mjs");
  });
});
