import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { readDocument } from "../../src/config/load.js";
import { agentBundle, type AgentBundle } from "../../src/render/bundle.js";
import { parseSpec, type Spec } from "../../src/render/spec.js";

export const HERE = import.meta.dirname;
export const FIXTURES = join(HERE, "fixtures");
export const GOLDEN = join(HERE, "golden");
export const FAKE_BUNDLE_PATH = join(FIXTURES, "fake-bundle.mjs");

/** The tiny stand-in bundle: goldens stay small and stable. */
export function fakeBundle(): AgentBundle {
  return agentBundle(readFileSync(FAKE_BUNDLE_PATH));
}

export function fixtureSpec(name: string): Spec {
  const file = join(FIXTURES, `${name}.yaml`);
  return parseSpec(readDocument(file), file);
}

/** A spec document (input form) with the incident's defaults, for tests that vary one field. */
export function specDocument(overrides: {
  name?: string;
  bootstrapUser?: string;
  install?: "embedded" | "npm";
  config?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    version: 1,
    node: { name: overrides.name ?? "kura-cache-7", bootstrapUser: overrides.bootstrapUser ?? "root" },
    agent: {
      install: overrides.install ?? "embedded",
      config: overrides.config ?? {
        version: 1,
        attachments: [
          { interface: "pn0", link: { kind: "vlan", vlanId: 3250 }, address: { source: "dhcp" } },
        ],
      },
    },
  };
}

/**
 * Compares with a committed golden file in test/render/golden/.
 *
 * Environment: `UPDATE_GOLDEN=1` (re)writes every golden from the current output instead of
 * comparing; review the `git diff` before committing. Without it a missing golden fails,
 * so a deleted or misnamed golden can never pass silently.
 */
export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, actual);
  if (!existsSync(file)) {
    throw new Error(`golden ${name} is missing (${file}); create it with UPDATE_GOLDEN=1 and review it`);
  }
  expect(actual, `golden ${name} differs; rerun with UPDATE_GOLDEN=1 and review the diff`).toBe(
    readFileSync(file, "utf8"),
  );
}
