import type { Command } from "./supervisor.js";

/**
 * Runs `script` with sh in a private mount (and UTS: client scripts may set the hostname)
 * namespace, so the mounts it makes hide the host's files from one client and nobody else.
 * `params` become $1…; the script ends by exec'ing the client, so the pid stays its own.
 */
export function inPrivateMounts(script: string, label: string, params: readonly string[]): Command {
  return {
    file: "unshare",
    args: ["--mount", "--uts", "--propagation", "private", "sh", "-c", script, label, ...params],
  };
}
