import { mkdirSync } from "node:fs";
import type { Attachment, Config } from "../config/schema.js";
import type { Lease } from "../dhcp/lease.js";
import { errorMessage } from "../errors.js";
import type { NetBackend, NetEvent } from "../net/backend.js";
import { Arp, findArpTool, type ArpTool } from "../net/arp.js";
import { Iproute2Backend } from "../net/iproute2.js";
import { startMonitor, type MonitorHandle } from "../net/monitor.js";
import { AttachmentController } from "./attachment.js";
import { backoffDelay } from "./backoff.js";
import type { ConfirmExchange } from "./confirm.js";
import type { AgentObserver, AttachmentStatus } from "./events.js";
import { acquireLock, type AgentLock } from "./lock.js";
import { jsonLogger, type Logger } from "./log.js";
import { Scheduler } from "./scheduler.js";
import { monotonicMs } from "../util/clock.js";

export interface AgentOptions {
  readonly config: Config;
  /** the runDir lock, when the caller took it before anything else (the CLI does) */
  readonly lock?: AgentLock;
  readonly discover: (attachment: Attachment) => Promise<Lease & { client: string }>;
  /** one confirm exchange (design §3 step 6); without it the agent never confirms */
  readonly confirm?: ConfirmExchange;
  readonly backend?: NetBackend;
  readonly observers?: readonly AgentObserver[];
  readonly log?: Logger;
  /** the netlink event source; tests may plug their own */
  readonly monitor?: (onEvent: (event: NetEvent) => void, onExit: (reason: string) => void) => MonitorHandle;
  /**
   * where the ARP tool comes from (RFC 5227 announce/probe). Defaults to findArpTool with
   * the kernel backend, and to no tool with any other backend: a backend that is not this
   * kernel has no wire, and a test's fake must never put a real arping on the host's links.
   */
  readonly findArp?: () => Promise<ArpTool | undefined>;
}

export interface RunningAgent {
  readonly controllers: readonly AttachmentController[];
  status(): readonly AttachmentStatus[];
  /**
   * Every attachment has had its first pass (so a cached or static address is held), or
   * STARTUP_GRACE_MS went by, or the agent stopped: what the first hold does not need starts now.
   */
  readonly started: Promise<void>;
  /** Stops watching and leaves every address in place (design §3: never remove on stop). */
  stop(): Promise<void>;
}

// If `ip monitor` dies, restart it after this long and reconcile everything (events were missed).
const MONITOR_RESTART_MS = 500;
const MONITOR_RESTART_MAX_MS = 30_000;
// The longest the helpers the first hold does not need wait for the first passes to end.
const STARTUP_GRACE_MS = 1000;

/** Fans one event out to every observer; one observer's failure never stops the agent. */
function fanOut(observers: readonly AgentObserver[], log: Logger): AgentObserver {
  const call =
    <K extends keyof AgentObserver>(key: K) =>
    (...args: Parameters<NonNullable<AgentObserver[K]>>): void => {
      for (const observer of observers) {
        try {
          (observer[key] as ((...a: unknown[]) => unknown) | undefined)?.(...args);
        } catch (error) {
          log("agent", `observer ${key} failed: ${errorMessage(error)}`);
        }
      }
    };
  return {
    statusChanged: call("statusChanged"),
    reconciled: call("reconciled"),
    reasserted: call("reasserted"),
    discoveryAttempt: call("discoveryAttempt"),
    linkRecreated: call("linkRecreated"),
    confirmAttempt: call("confirmAttempt"),
    confirmInterval: call("confirmInterval"),
    reassigned: call("reassigned"),
    announced: call("announced"),
  };
}

/**
 * The ARP tool, looked up once in the background (the first hold never waits for it);
 * a missing tool is said once for the whole agent.
 */
function lookUpArp(find: () => Promise<ArpTool | undefined>, log: Logger): () => Promise<Arp | undefined> {
  let found: Promise<Arp | undefined> | undefined;
  return () => (found ??= lookUp(find, log));
}

function lookUp(find: () => Promise<ArpTool | undefined>, log: Logger): Promise<Arp | undefined> {
  return find().then(
    (tool) => {
      if (tool) log("agent", `ARP (RFC 5227 announce, conflict probes) through ${tool.name}`);
      else log("agent", "no arping installed: conflict detection and announcements unavailable");
      return tool && new Arp(tool);
    },
    (error: unknown) => {
      log("agent", `ARP tool lookup failed: ${errorMessage(error)}; conflict detection unavailable`);
      return undefined;
    },
  );
}

/**
 * Starts the agent: takes the runDir lock, starts one controller per attachment (each
 * independent: one that cannot be held never stops the others), and the netlink watch.
 */
export function startAgent(options: AgentOptions): RunningAgent {
  const { config } = options;
  const log = options.log ?? jsonLogger();
  const lock = options.lock ?? acquireLock(config.runDir);
  let stopped = false;
  try {
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  } catch {
    // a broken stateDir costs the cache, never the hold (agent/dirs.ts reports it)
  }
  if (lock.problem !== undefined) log("agent", lock.problem);
  const backend = options.backend ?? new Iproute2Backend();
  const scheduler = new Scheduler();
  const observers = options.observers ?? [];
  const pnInterfaces = config.attachments.map((a) => a.interface);
  const findArp = options.findArp ?? (options.backend === undefined ? findArpTool : undefined);
  // looked up when first asked (the first hold's announcement) or once started, whichever is first
  const arp = findArp && lookUpArp(findArp, log);
  // The first hold comes first: the restore path's `ip -batch` and the ARP tool lookup each
  // fork a process, so they start once every attachment has had its first pass.
  const firstPasses = new Set<string>();
  let startupDone!: () => void;
  const started = new Promise<void>((resolve) => (startupDone = resolve));
  const graceTimer = setTimeout(() => startupDone(), STARTUP_GRACE_MS);
  void started.then(() => {
    clearTimeout(graceTimer);
    if (stopped) return;
    if (backend instanceof Iproute2Backend) backend.warm();
    void arp?.();
  });
  const fanned = fanOut(observers, log);
  const observer: AgentObserver = {
    ...fanned,
    reconciled: (status, all) => {
      fanned.reconciled?.(status, all);
      firstPasses.add(status.interface);
      if (firstPasses.size >= config.attachments.length) startupDone();
    },
  };
  const controllers: AttachmentController[] = [];
  const allStatus = () => controllers.map((c) => c.current);
  for (const attachment of config.attachments) {
    controllers.push(
      new AttachmentController(attachment, {
        backend,
        scheduler,
        log,
        observer,
        stateDir: config.stateDir,
        pnInterfaces,
        discover: options.discover,
        ...(options.confirm === undefined ? {} : { confirm: options.confirm }),
        allStatus,
        arp,
      }),
    );
  }
  const byName = new Map(controllers.map((c) => [c.attachment.interface, c]));

  const onEvent = (event: NetEvent) => {
    const at = monotonicMs();
    const target = event.interface === undefined ? undefined : byName.get(event.interface);
    if (target) {
      target.trigger("event", {
        eventAt: at,
        deletedCidr: event.deleted ? event.address : undefined,
        permanentCidr: !event.deleted && event.permanent ? event.address : undefined,
      });
      return;
    }
    // Another link appearing (a hot-plugged parent NIC) matters to a VLAN still waiting for
    // one; a held VLAN hears about its own link directly. Pod veth churn costs nothing then.
    if (event.kind === "link") {
      for (const c of controllers) {
        if (c.attachment.link.kind === "vlan" && c.current.state !== "held")
          c.trigger("event", { eventAt: at });
      }
    }
  };
  let monitor: MonitorHandle | undefined;
  let monitorRestarts = 0;
  const watch = () => {
    let ended = false;
    monitor = (options.monitor ?? startMonitor)(
      (event) => {
        monitorRestarts = 0;
        onEvent(event);
      },
      (reason) => {
        // `error` and `exit` may both report one death: restart once per monitor.
        if (stopped || ended) return;
        ended = true;
        const delay = backoffDelay(monitorRestarts++, {
          baseMs: MONITOR_RESTART_MS,
          maxMs: MONITOR_RESTART_MAX_MS,
        });
        log("agent", `netlink monitor stopped (${reason}); restarting in ${delay} ms`);
        scheduler.set("agent:monitor", delay, () => {
          watch();
          // events were missed while it was down: reconcile everything
          for (const c of controllers) c.trigger("periodic");
        });
      },
    );
  };
  watch();
  log("agent", `started with ${controllers.length} attachment(s)`, { pid: process.pid });
  for (const c of controllers) c.trigger("startup");

  return {
    controllers,
    status: allStatus,
    started,
    async stop() {
      if (stopped) return;
      stopped = true;
      startupDone();
      for (const c of controllers) c.stop();
      scheduler.stop();
      monitor?.stop();
      backend.close?.();
      for (const o of observers) {
        try {
          await o.stopping?.();
        } catch (error) {
          log("agent", `observer stop failed: ${errorMessage(error)}`);
        }
      }
      lock.release();
      log("agent", "stopped; addresses left in place");
    },
  };
}
