import type { Config } from "../config/schema.js";
import { NODE_PATHS, UNIT_NAME, generatedMarker } from "./paths.js";
import { SystemdUnit } from "./systemd-unit.js";

/**
 * How long boot waits for the hold before network-online.target is reached anyway: a
 * broken PN must never hang the boot (systemd-networkd-wait-online's default is 120 s;
 * a held address comes back from the cache in well under a second).
 */
export const WAIT_ONLINE_TIMEOUT = "30s";

/**
 * `holdfast-wait-online.service`: network-online.target waits until every attachment is
 * held, like systemd-networkd-wait-online and NetworkManager-wait-online, so units that
 * need the PN address (kubelet, a cache) and order after network-online.target find it.
 * It fails after the timeout; the target is only Wanted, so boot goes on.
 */
export function waitOnlineUnit(configPath: string = NODE_PATHS.config): SystemdUnit {
  return new SystemdUnit({
    header: [generatedMarker("waits for holdfast's addresses before network-online.target")],
    sections: [
      {
        name: "Unit",
        entries: [
          ["Description", "holdfast: wait until every private-network address is held"],
          ["Documentation", "https://www.npmjs.com/package/holdfast"],
          // The same shape as systemd-networkd-wait-online.service.
          ["DefaultDependencies", false],
          ["Conflicts", "shutdown.target"],
          ["Wants", UNIT_NAME],
          ["After", UNIT_NAME],
          ["Before", ["network-online.target", "shutdown.target"]],
        ],
      },
      {
        name: "Service",
        entries: [
          ["Type", "oneshot"],
          [
            "ExecStart",
            `${NODE_PATHS.launcher} wait-online --config ${configPath} --timeout ${WAIT_ONLINE_TIMEOUT}`,
          ],
          ["RemainAfterExit", true],
          // It only reads the agent's status file.
          ["ProtectSystem", "strict"],
          ["ProtectHome", true],
          ["PrivateTmp", true],
          ["PrivateNetwork", true],
          ["NoNewPrivileges", true],
          ["CapabilityBoundingSet", ""],
        ],
      },
      { name: "Install", entries: [["WantedBy", "network-online.target"]] },
    ],
  });
}

/**
 * `/etc/modules-load.d/holdfast.conf`: 8021q at every boot, before the agent starts. The
 * agent's unit has ProtectKernelModules=yes, so it must never be the one to need it
 * loaded; an empty list (no VLAN attachment) renders nothing.
 */
export function modulesLoad(config: Config): string | undefined {
  if (!config.attachments.some((a) => a.link.kind === "vlan")) return undefined;
  return `# ${generatedMarker("kernel modules holdfast's attachments need")}\n8021q\n`;
}
