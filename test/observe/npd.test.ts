import { describe, expect, it } from "vitest";
import { renderNpdConfig } from "../../src/observe/npd.js";

/** Go's time.ParseDuration subset NPD accepts for these fields, in ms. */
function goDuration(text: unknown): number {
  const match = typeof text === "string" ? /^(\d+)(ms|s|m|h)$/.exec(text) : null;
  if (!match) throw new Error(`not a Go duration: ${String(text)}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
}

interface NpdRule {
  type: string;
  condition: string;
  reason: string;
  path: string;
  args: string[];
  timeout: string;
}
interface NpdConfig {
  plugin: string;
  pluginConfig: Record<string, unknown>;
  source: string;
  metricsReporting: boolean;
  conditions: { type: string; reason: string; message: string }[];
  rules: NpdRule[];
}

describe("renderNpdConfig", () => {
  const text = renderNpdConfig({
    holdfastPath: "/usr/local/bin/holdfast",
    configPath: "/etc/holdfast/holdfast.yaml",
  });
  const config = JSON.parse(text) as NpdConfig;

  it("GIVEN the rendered config THEN it is what NPD's custom plugin monitor validates", () => {
    // pkg/custompluginmonitor/types/config.go: Validate()
    expect(config.plugin).toBe("custom");
    expect(config.source).toMatch(/\S/);
    const globalTimeout = goDuration(config.pluginConfig.timeout);
    expect(goDuration(config.pluginConfig.invoke_interval)).toBeGreaterThan(globalTimeout);
    expect(config.pluginConfig.max_output_length).toBe(80);
    expect(config.pluginConfig.concurrency).toBe(1);
    for (const rule of config.rules) {
      expect(goDuration(rule.timeout)).toBeLessThanOrEqual(globalTimeout);
      expect(["permanent", "temporary"]).toContain(rule.type);
      if (rule.type === "permanent") expect(config.conditions.map((c) => c.type)).toContain(rule.condition);
    }
  });

  it("GIVEN the rendered config THEN it sets PrivateNetworkUnavailable from `holdfast check`", () => {
    expect(config.conditions).toEqual([
      {
        type: "PrivateNetworkUnavailable",
        reason: "PrivateNetworkAvailable",
        message: "private-network address is held by holdfast",
      },
      {
        type: "PrivateNetworkAddressConflict",
        reason: "NoPrivateNetworkAddressConflict",
        message: "no other host answers for the private-network address",
      },
    ]);
    expect(config.rules).toEqual([
      {
        type: "permanent",
        condition: "PrivateNetworkUnavailable",
        reason: "PrivateNetworkAddressNotHeld",
        path: "/usr/local/bin/holdfast",
        args: ["check", "--config", "/etc/holdfast/holdfast.yaml"],
        timeout: "10s",
      },
      {
        type: "permanent",
        condition: "PrivateNetworkAddressConflict",
        reason: "PrivateNetworkAddressConflict",
        path: "/usr/local/bin/holdfast",
        args: ["check", "--config", "/etc/holdfast/holdfast.yaml", "--conflict"],
        timeout: "10s",
      },
    ]);
  });

  it("GIVEN no config path THEN the default one; output is stable", () => {
    const again = renderNpdConfig({ holdfastPath: "/usr/local/bin/holdfast" });
    expect(again).toBe(text);
    expect(text.endsWith("}\n")).toBe(true);
  });
});
