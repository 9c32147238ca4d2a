import type { Command } from "./supervisor.js";
import type { LabNode } from "../../harness/topology.js";

export const IMPL_NAMES = ["dhclient", "seed-loop", "dhcpcd", "networkd", "holdfast"] as const;
export type ImplName = (typeof IMPL_NAMES)[number];

/** Where one run keeps its files: stateDir survives a simulated reboot (disk), runDir does not (tmpfs). */
export interface ImplContext {
  readonly node: LabNode;
  /** the run's own directory (configs, logs) */
  readonly dir: string;
  readonly stateDir: string;
  readonly runDir: string;
  readonly leaseSeconds: number;
}

export interface Impl {
  readonly name: ImplName;
  /** one line for the report */
  readonly summary: string;
  /** executables that must be installed, with the Debian package that has them */
  readonly requires: readonly { readonly command: string; readonly pkg: string }[];
  /** writes what the implementation needs into the run's dirs and returns its command line */
  prepare(ctx: ImplContext): Promise<Command>;
}
