import { stringify } from "yaml";
import { formatDuration } from "../config/duration.js";
import type { Attachment, ConfigInput, Config } from "../config/schema.js";
import { generatedMarker } from "./paths.js";

function attachmentDocument(a: Attachment): NonNullable<ConfigInput["attachments"]>[number] {
  const link =
    a.link.kind === "vlan"
      ? { kind: "vlan" as const, parent: a.link.parent, vlanId: a.link.vlanId }
      : { kind: "existing" as const };
  const address =
    a.address.source === "static"
      ? { source: "static" as const, cidr: a.address.cidr }
      : {
          source: "dhcp" as const,
          dhcpClient: a.address.dhcpClient,
          confirmInterval:
            typeof a.address.confirmInterval === "number"
              ? formatDuration(a.address.confirmInterval)
              : a.address.confirmInterval,
          onReassign: a.address.onReassign,
        };
  return {
    interface: a.interface,
    link,
    address,
    conflict: {
      detect: a.conflict.detect,
      interval: formatDuration(a.conflict.interval),
      onConflict: a.conflict.onConflict,
    },
    discovery: {
      attemptTimeout: formatDuration(a.discovery.attemptTimeout),
      maxBackoff: formatDuration(a.discovery.maxBackoff),
    },
    reconcileInterval: formatDuration(a.reconcileInterval),
  };
}

/**
 * The agent config back in its written form, every default spelled out and keys in the
 * order of design §4.2, so the file on the node says exactly what the agent will do.
 */
export function configDocument(config: Config): ConfigInput {
  const metrics: NonNullable<ConfigInput["metrics"]> = {};
  if (config.metrics?.listen !== undefined) metrics.listen = config.metrics.listen;
  if (config.metrics?.textfile !== undefined) metrics.textfile = config.metrics.textfile;
  return {
    version: 1,
    stateDir: config.stateDir,
    runDir: config.runDir,
    ...(config.metrics ? { metrics } : {}),
    attachments: config.attachments.map(attachmentDocument),
  };
}

/** `/etc/holdfast/holdfast.yaml`. */
export function renderConfigFile(config: Config): string {
  // lineWidth 0: never fold a long value over lines; strings that YAML could misread are quoted by the library.
  const body = stringify(configDocument(config), { lineWidth: 0 });
  return `# ${generatedMarker("holdfast agent config (design §4.2)")}\n${body}`;
}
