import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { AGENT_NODE_OPTIONS } from "../../agent/node-options.js";
import type { ConfigInput } from "../../config/schema.js";
import { selfCommand } from "../../harness/bundle-path.js";
import { LAB_CONFLICT_INTERVAL_S } from "../scenarios/conflict.js";
import type { Impl, ImplContext } from "./types.js";

/**
 * The agent config the lab runs: pn0 exists already (a veth standing in for the VLAN), the
 * address comes from DHCP once. Discovery and the safety-net period are scaled down with the
 * lab's short leases; the netlink watch does the real work either way.
 */
export function holdfastConfig(ctx: ImplContext): ConfigInput {
  return {
    version: 1,
    stateDir: join(ctx.stateDir, "holdfast"),
    runDir: join(ctx.runDir, "holdfast"),
    attachments: [
      {
        interface: ctx.node.ifname,
        link: { kind: "existing" },
        address: { source: "dhcp", dhcpClient: "auto" },
        conflict: { interval: `${LAB_CONFLICT_INTERVAL_S}s` },
        discovery: { attemptTimeout: "5s", maxBackoff: "5s" },
        reconcileInterval: "5s",
      },
    ],
  };
}

export const holdfast: Impl = {
  name: "holdfast",
  summary: "holdfast agent (discover once, cache, hold, re-assert on netlink events)",
  requires: [],
  async prepare(ctx) {
    const config = join(ctx.dir, "holdfast.yaml");
    const stateDir = join(ctx.stateDir, "holdfast");
    await mkdir(stateDir, { recursive: true });
    await writeFile(config, `# holdfast lab\n${stringify(holdfastConfig(ctx))}`);
    // what the unit's StateDirectory= gives the agent: where it keeps the config it validated,
    // so a reboot starts from that (src/config/snapshot.ts), as on a node
    return {
      ...selfCommand("agent", ["--config", config], AGENT_NODE_OPTIONS),
      env: { ...process.env, STATE_DIRECTORY: stateDir },
    };
  },
};
