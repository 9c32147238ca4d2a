import { DEFAULT_CONFIG_PATH } from "../config/load.js";

export const NPD_CONDITION = "PrivateNetworkUnavailable";
/** True while another host answers ARP for a held address (`holdfast check --conflict`). */
export const NPD_CONFLICT_CONDITION = "PrivateNetworkAddressConflict";

export interface NpdConfigOptions {
  /** the holdfast launcher NPD runs, e.g. `/usr/local/bin/holdfast` */
  readonly holdfastPath: string;
  /** @default /etc/holdfast/holdfast.yaml */
  readonly configPath?: string;
}

// NPD's plugin protocol cuts stdout at max_output_length; `holdfast check` prints at
// most 80 characters, NPD's own default.
const MAX_OUTPUT_LENGTH = 80;
// The rule timeout must not exceed the global one (NPD rejects the config otherwise).
const TIMEOUT = "10s";

/**
 * A node-problem-detector custom-plugin-monitor config that runs `holdfast check` and
 * sets the `PrivateNetworkUnavailable` Node condition: True while the address is not
 * held, the agent is not running or another host answers for the address, False while
 * held, Unknown when check exits 2; and `PrivateNetworkAddressConflict` from
 * `holdfast check --conflict`, True only while another host answers for a held address.
 * Key order is fixed so re-rendering gives the same bytes.
 */
export function renderNpdConfig(options: NpdConfigOptions): string {
  const configPath = options.configPath ?? DEFAULT_CONFIG_PATH;
  const config = {
    plugin: "custom",
    pluginConfig: {
      invoke_interval: "30s",
      timeout: TIMEOUT,
      max_output_length: MAX_OUTPUT_LENGTH,
      concurrency: 1,
      // the message carries the state (`problem: pn0 waiting-link`); a change of it is news
      enable_message_change_based_condition_update: true,
    },
    source: "holdfast-custom-plugin-monitor",
    metricsReporting: true,
    conditions: [
      {
        type: NPD_CONDITION,
        reason: "PrivateNetworkAvailable",
        message: "private-network address is held by holdfast",
      },
      {
        type: NPD_CONFLICT_CONDITION,
        reason: "NoPrivateNetworkAddressConflict",
        message: "no other host answers for the private-network address",
      },
    ],
    rules: [
      {
        type: "permanent",
        condition: NPD_CONDITION,
        reason: "PrivateNetworkAddressNotHeld",
        path: options.holdfastPath,
        args: ["check", "--config", configPath],
        timeout: TIMEOUT,
      },
      {
        type: "permanent",
        condition: NPD_CONFLICT_CONDITION,
        reason: "PrivateNetworkAddressConflict",
        path: options.holdfastPath,
        args: ["check", "--config", configPath, "--conflict"],
        timeout: TIMEOUT,
      },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
