import type { Impl } from "../impls/types.js";
import type { LabNode, Topology } from "../../harness/topology.js";
import type { AddressWatch } from "../../harness/address-watch.js";
import type { Supervisor } from "../impls/supervisor.js";
import type { Timeline } from "../timeline.js";

export const SCENARIO_NAMES = [
  "silent-server",
  "address-flush",
  "link-recreate",
  "reboot-silent",
  "ipam-lag",
  "agent-kill",
  "parent-flap",
  "ipam-change",
  "pool-reuse",
  "conflict",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** One implementation on one node of a scenario's topology. */
export interface RunHandle {
  readonly impl: Impl;
  readonly node: LabNode;
  readonly watch: AddressWatch;
  readonly supervisor: Supervisor;
  /** the run's tmpfs stand-in, where an implementation keeps its status */
  readonly runDir: string;
  /** adds a mark to this run only */
  mark(label: string): void;
  /** power cut: the implementation and everything it forked die, pn0 is re-created, the run dir (tmpfs) is wiped */
  powerCut(): Promise<void>;
  /** starts the implementation again (marks `boot`) */
  boot(): Promise<void>;
  /** what a scenario found out about this run besides the timeline, for its judge */
  readonly findings: Map<string, string>;
}

export interface ScenarioContext {
  readonly topo: Topology;
  readonly runs: readonly RunHandle[];
  readonly leaseMs: number;
  /** `pool-per-node` scenarios: a second client per run (same index), in that run's pool class */
  readonly intruders: readonly LabNode[];
  /** adds a mark to every run */
  mark(label: string): void;
  /** starts the DHCP server (for scenarios that start without one) */
  startServer(): Promise<void>;
  /** sleeps, or throws once the lab is interrupted */
  sleep(ms: number): Promise<void>;
  /** waits until every run holds its address (or the timeout passes) */
  waitAllPresent(timeoutMs: number): Promise<void>;
}

/** The numbers of design §5, computed over [fault, end]. */
export interface Metrics {
  readonly addressLostMs: number;
  readonly probeFailures: number;
  readonly probeTotal: number;
  /** 0: never lost; null: not back by the end */
  readonly timeToRestoreMs: number | null;
}

/** Metrics plus when the address came back (epoch ms; null: it did not), for the pass rules. */
export interface Measured extends Metrics {
  readonly restoredAt: number | null;
}

export interface Verdict {
  readonly pass: boolean;
  readonly notes: readonly string[];
}

export interface Scenario {
  readonly name: ScenarioName;
  /** what the fault is, one sentence */
  readonly fault: string;
  /** the pass rule, as the README states it */
  readonly passRule: string;
  /** false: Kea starts late, the scenario starts it */
  readonly serverAtStart: boolean;
  /**
   * How Kea hands out addresses: a MAC reservation per node (IPAM), or a one-address dynamic
   * pool per node, no reservation, that a second client of the same class may ask for.
   * @default "reservations"
   */
  readonly kea?: "reservations" | "pool-per-node";
  /** time to restore is measured from this mark; `loss` = from the moment the address went away */
  readonly restoreFrom: "loss" | string;
  /** upper bound of the scenario's own timeline, for planning and the user's patience */
  estimateMs(leaseMs: number): number;
  /**
   * drives the fault; must mark `fault` and `end`, and `fault-end` once a fault command
   * returned, so that the deletions it made (in however many rounds) count as one fault
   */
  run(ctx: ScenarioContext): Promise<void>;
  judge(timeline: Timeline, measured: Measured, findings: ReadonlyMap<string, string>): Verdict;
}
