import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { SKIP_ALLOWLIST, type AllowedSkip } from "../skip-allowlist.js";
import { decideSkip, inCi, skipLogLine, skipWhen, testPath } from "./skip.js";
import { scratchDir } from "./scratch.js";

const VLAN: AllowedSkip = {
  file: "test/net/vlan.ns.test.ts",
  reason: /cannot create 802\.1Q VLANs/,
  why: "no 8021q",
  coveredBy: "nothing yet",
};

describe("decideSkip", () => {
  it("skips outside CI whatever the reason", () => {
    expect(decideSkip("test/a.ns.test.ts", "needs root", false, [])).toEqual({ outcome: "skipped" });
  });

  it("fails under CI unless the allowlist names the file and the reason", () => {
    const vlanFile = "test/net/vlan.ns.test.ts";
    expect(decideSkip(vlanFile, "this kernel cannot create 802.1Q VLANs (x)", true, [VLAN])).toEqual({
      outcome: "allowlisted",
      allowed: VLAN,
    });
    expect(decideSkip(vlanFile, "needs root (x)", true, [VLAN]), "same file, other reason").toEqual({
      outcome: "failed",
    });
    expect(decideSkip("test/other.ns.test.ts", "cannot create 802.1Q VLANs", true, [VLAN])).toEqual({
      outcome: "failed",
    });
  });

  it("reads CI=true or CI=1 as CI, and nothing else", () => {
    expect([inCi({ CI: "true" }), inCi({ CI: "1" }), inCi({ CI: "TRUE" })]).toEqual([true, true, true]);
    expect([inCi({}), inCi({ CI: "" }), inCi({ CI: "false" }), inCi({ CI: "0" })]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe("the skip log", () => {
  it("is one tab-separated line per skip, the reason flattened", () => {
    const reason = "scripts/build-rootfs.sh failed (exit 1):\n  build-rootfs: no\tmirror";
    expect(skipLogLine("test/e2e/x.ns.test.ts", reason, { outcome: "failed" })).toBe(
      "failed\ttest/e2e/x.ns.test.ts\tscripts/build-rootfs.sh failed (exit 1): / build-rootfs: no mirror\n",
    );
    expect(skipLogLine(VLAN.file, "no 802.1Q", { outcome: "allowlisted", allowed: VLAN })).toBe(
      "allowlisted\ttest/net/vlan.ns.test.ts\tno 802.1Q\tcovered by: nothing yet\n",
    );
  });

  it("names files from the repository root", () => {
    expect(testPath(import.meta.url)).toBe("test/helpers/skip.test.ts");
    expect(testPath("test/x.ns.test.ts")).toBe("test/x.ns.test.ts");
  });
});

describe("skipWhen", () => {
  const dir = scratchDir("hf-skip-");
  const env = { CI: process.env.CI, HOLDFAST_SKIP_LOG: process.env.HOLDFAST_SKIP_LOG };
  afterEach(() => {
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    vi.restoreAllMocks();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs when there is no reason, and logs nothing", () => {
    process.env.HOLDFAST_SKIP_LOG = join(dir, "none.log");
    expect(skipWhen(import.meta.url, undefined)).toBe(false);
    expect(existsSync(join(dir, "none.log"))).toBe(false);
  });

  it("outside CI warns loudly, skips and logs it", () => {
    process.env.CI = "false";
    process.env.HOLDFAST_SKIP_LOG = join(dir, "skip.log");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(skipWhen(import.meta.url, "needs root (x)")).toBe(true);
    expect(warn).toHaveBeenCalledWith("\n*** SKIPPED: test/helpers/skip.test.ts: needs root (x) ***\n");
    expect(readFileSync(join(dir, "skip.log"), "utf8")).toBe(
      "skipped\ttest/helpers/skip.test.ts\tneeds root (x)\n",
    );
  });

  it("under CI=true throws the reason, so the file fails, and logs it", () => {
    process.env.CI = "true";
    process.env.HOLDFAST_SKIP_LOG = join(dir, "ci.log");
    expect(() => skipWhen(import.meta.url, "needs root (x)")).toThrow(
      "CI=true and test/helpers/skip.test.ts cannot run: needs root (x)\n" +
        "  a skip in CI is a failure; make it runnable here, or add it with what covers it instead to test/skip-allowlist.ts",
    );
    expect(readFileSync(join(dir, "ci.log"), "utf8")).toBe(
      "failed\ttest/helpers/skip.test.ts\tneeds root (x)\n",
    );
  });
});

describe("the allowlist", () => {
  it.each(SKIP_ALLOWLIST.map((entry) => [entry.file, entry]))(
    "%s is a root-only test file that exists, with why and cover",
    (file, entry) => {
      expect(existsSync(new URL(`../../${file}`, import.meta.url)), `${file} exists`).toBe(true);
      expect(file, "allowlisted skips are root-only files").toMatch(/\.ns\.test\.ts$/);
      expect(entry.why.length, `${file}: why`).toBeGreaterThan(10);
      expect(entry.coveredBy.length, `${file}: covered by`).toBeGreaterThan(10);
    },
  );
});
