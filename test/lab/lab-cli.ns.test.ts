import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { skipUnlessRoot } from "../helpers/root.js";

const skip = skipUnlessRoot(import.meta.url, "drops to an unprivileged user to run the lab");

const BUNDLE = new URL("../../dist/holdfast.mjs", import.meta.url).pathname;

describe.skipIf(skip)("holdfast lab as an unprivileged user", () => {
  it("refuses with exit 2 and leaves no namespace behind", () => {
    expect(existsSync(BUNDLE), `${BUNDLE} missing: npm run build`).toBe(true);
    // only the lab's own prefix: other test files make namespaces at the same time
    const labNamespaces = (): string[] =>
      spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
        .stdout.split("\n")
        .filter((l) => l.startsWith("hflab"));
    const before = labNamespaces();
    const r = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, BUNDLE, "lab"],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the lab needs root");
    expect(labNamespaces()).toEqual(before);
  });
});
