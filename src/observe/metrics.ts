import { Counter, Gauge, Registry, collectDefaultMetrics } from "./prom.js";
import type {
  AgentObserver,
  AttachmentStatus,
  ConfirmResult,
  DiscoveryResult,
  ReassertReason,
} from "../agent/events.js";
import { VERSION } from "../version.js";

// Every label value is created at start with 0, so `rate()` and `increase()` see the
// first increment instead of a series appearing out of nowhere (Prometheus naming docs).
export const REASSERT_REASONS: readonly ReassertReason[] = [
  "deleted",
  "link-recreated",
  "periodic",
  "startup",
];
export const DISCOVERY_RESULTS: readonly DiscoveryResult[] = ["ok", "timeout", "error"];
export const CONFIRM_RESULTS: readonly ConfirmResult[] = ["ack", "reassigned", "nak", "timeout", "error"];

/** How often the event-loop delay metrics take a sample (prom-client's default is 10 ms). */
export const EVENT_LOOP_SAMPLE_MS = 1000;

const LINT_FAILING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export interface MetricsOptions {
  /** the configured attachments; their series exist from the start */
  readonly interfaces: readonly string[];
  /** @default VERSION */
  readonly version?: string;
  /** Node.js process metrics under `holdfast_`. @default true */
  readonly processMetrics?: boolean;
  /** called after every update, e.g. to rewrite the textfile */
  readonly onChange?: () => void;
  /** config directories the agent found broken at start (agent/dirs.ts), by config field */
  readonly problems?: readonly { readonly field: string }[];
}

/** The config fields naming a directory the agent depends on for bookkeeping, never for the hold. */
export const DIRECTORY_FIELDS = ["stateDir", "runDir"] as const;

export interface HoldfastMetrics {
  /** a private registry: never prom-client's global one, so a library user's metrics stay theirs */
  readonly registry: Registry;
  readonly observer: AgentObserver;
  /** the exposition text, as /metrics serves it */
  render(): Promise<string>;
}

/** The metrics of design §4.5, kept up to date from agent events. */
export function createMetrics(options: MetricsOptions): HoldfastMetrics {
  const registry = new Registry();
  const registers = [registry];

  const held = new Gauge({
    name: "holdfast_address_held",
    help: "1 while the attachment's address is on its interface, else 0.",
    labelNames: ["interface"] as const,
    registers,
  });
  const reasserts = new Counter({
    name: "holdfast_reasserts_total",
    help: "Times the address had to be put back, by what took it away.",
    labelNames: ["interface", "reason"] as const,
    registers,
  });
  const discoveries = new Counter({
    name: "holdfast_discovery_attempts_total",
    help: "DHCP discovery exchanges, by result.",
    labelNames: ["interface", "result"] as const,
    registers,
  });
  const recreations = new Counter({
    name: "holdfast_link_recreations_total",
    help: "Times the attachment's link had to be created again.",
    labelNames: ["interface"] as const,
    registers,
  });
  const lastReconcile = new Gauge({
    name: "holdfast_last_reconcile_timestamp_seconds",
    help: "Unix time of the attachment's last finished reconcile pass.",
    labelNames: ["interface"] as const,
    registers,
  });
  const confirms = new Counter({
    name: "holdfast_confirm_attempts_total",
    help: "Exchanges that asked the DHCP server for the held address, by what it said.",
    labelNames: ["interface", "result"] as const,
    registers,
  });
  const lastConfirmed = new Gauge({
    name: "holdfast_last_confirmed_timestamp_seconds",
    help: "Unix time the DHCP server last ACKed the held address; 0 before the first ACK.",
    labelNames: ["interface"] as const,
    registers,
  });
  const confirmInterval = new Gauge({
    name: "holdfast_confirm_interval_seconds",
    help: "The confirm period in force (lease T1 with confirmInterval auto); 0 while not confirming.",
    labelNames: ["interface"] as const,
    registers,
  });
  const reassignments = new Counter({
    name: "holdfast_reassignments_total",
    help: "Times the attachment followed the DHCP server to another address (make-before-break).",
    labelNames: ["interface"] as const,
    registers,
  });
  const conflict = new Gauge({
    name: "holdfast_address_conflict",
    help: "1 while another host answers ARP for the held address (RFC 5227), else 0.",
    labelNames: ["interface"] as const,
    registers,
  });
  const announcements = new Counter({
    name: "holdfast_arp_announcements_total",
    help: "RFC 5227 announcements (gratuitous ARP) sent for the held address.",
    labelNames: ["interface"] as const,
    registers,
  });
  const info = new Gauge({
    name: "holdfast_info",
    help: "Always 1; the agent's version as a label.",
    labelNames: ["version"] as const,
    registers,
  });
  info.set({ version: options.version ?? VERSION }, 1);
  const directoryProblem = new Gauge({
    name: "holdfast_directory_problem",
    help: "1 while the directory a config field names (stateDir, runDir) cannot be used; the address is held regardless.",
    labelNames: ["field"] as const,
    registers,
  });
  for (const field of DIRECTORY_FIELDS) {
    const broken = options.problems?.some((p) => p.field === field) ?? false;
    directoryProblem.set({ field }, broken ? 1 : 0);
  }
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({
      register: registry,
      prefix: "holdfast_",
      // prom-client samples event-loop delay with a 10 ms timer by default: 100 wake-ups a
      // second and ~1% of a CPU in an idle agent. One a second still shows a stalled loop.
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
    });
    // prom-client names these gauges `_total`, which `promtool check metrics` rejects.
    for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(`holdfast_${name}`);
  }

  for (const iface of options.interfaces) {
    held.set({ interface: iface }, 0);
    conflict.set({ interface: iface }, 0);
    announcements.inc({ interface: iface }, 0);
    recreations.inc({ interface: iface }, 0);
    for (const reason of REASSERT_REASONS) reasserts.inc({ interface: iface, reason }, 0);
    for (const result of DISCOVERY_RESULTS) discoveries.inc({ interface: iface, result }, 0);
    for (const result of CONFIRM_RESULTS) confirms.inc({ interface: iface, result }, 0);
    lastConfirmed.set({ interface: iface }, 0);
    confirmInterval.set({ interface: iface }, 0);
    reassignments.inc({ interface: iface }, 0);
  }

  const changed = (): void => options.onChange?.();
  const fromStatus = (status: AttachmentStatus): void => {
    held.set({ interface: status.interface }, status.state === "held" ? 1 : 0);
    conflict.set({ interface: status.interface }, status.conflict === null ? 0 : 1);
    if (status.lastReconcileAt !== null) {
      lastReconcile.set({ interface: status.interface }, Date.parse(status.lastReconcileAt) / 1000);
    }
    if (status.lastConfirmedAt !== null) {
      lastConfirmed.set({ interface: status.interface }, Date.parse(status.lastConfirmedAt) / 1000);
    }
    changed();
  };

  const observer: AgentObserver = {
    statusChanged: fromStatus,
    reconciled: fromStatus,
    reasserted: (iface, reason) => {
      reasserts.inc({ interface: iface, reason });
      changed();
    },
    discoveryAttempt: (iface, result) => {
      discoveries.inc({ interface: iface, result });
      changed();
    },
    linkRecreated: (iface) => {
      recreations.inc({ interface: iface });
      changed();
    },
    confirmAttempt: (iface, result) => {
      confirms.inc({ interface: iface, result });
      changed();
    },
    confirmInterval: (iface, seconds) => {
      confirmInterval.set({ interface: iface }, seconds);
      changed();
    },
    reassigned: (iface) => {
      reassignments.inc({ interface: iface });
      changed();
    },
    announced: (iface) => {
      announcements.inc({ interface: iface });
      changed();
    },
  };

  return { registry, observer, render: () => registry.metrics() };
}
