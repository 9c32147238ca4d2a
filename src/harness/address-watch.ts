import { spawn, type ChildProcess } from "node:child_process";
import { parseMonitorLine } from "../net/monitor.js";
import { onLines } from "../util/lines.js";
import type { LabNode } from "./topology.js";

/** Address presence changes of the node's PN address, as seen by the kernel's netlink stream. */
export interface AddressSample {
  /** epoch ms */
  readonly t: number;
  readonly present: boolean;
}

/**
 * Records when the node's PN address is present on pn0, from the kernel's own netlink
 * stream (`ip -ts monitor address` stamps each event when it arrives), so a delete and a
 * re-add a millisecond apart are both seen. Runs `ip -n <node ns>` from the lab process:
 * no helper inside the node namespace that the implementation under test could disturb.
 */
export class AddressWatch {
  readonly samples: AddressSample[] = [];
  private present = false;
  private child: ChildProcess | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly node: LabNode) {}

  async start(): Promise<void> {
    const child = spawn("ip", ["-n", this.node.ns.name, "-o", "-ts", "monitor", "address"], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, TZ: "UTC" },
    });
    // 'error' has a listener for the child's whole life: unheard, it would end the lab
    const spawned = new Promise<Error | undefined>((resolve) => {
      child.once("spawn", () => resolve(undefined));
      child.on("error", resolve);
    });
    const failed = await spawned;
    if (failed !== undefined)
      throw new Error(`ip monitor for ${this.node.ns.name}: ${failed.message}`, { cause: failed });
    this.child = child;
    onLines(child.stdout!, (line) => this.onLine(line));
    // The monitor is subscribed once it has started; the dump after that fills in the initial state.
    await new Promise<void>((resolve) => setTimeout(resolve, 100));
    const initial = await this.node.addresses();
    if (this.samples.length === 0) this.record(Date.now(), initial.includes(this.node.cidr));
  }

  /** the monitor's pid (it lives in the node namespace: `ip -n` enters it) */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isPresent(): boolean {
    return this.present;
  }

  /** Resolves when the address is present, or after timeoutMs; returns whether it is. */
  waitPresent(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.present) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(this.present);
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done);
      this.waiters.push(done);
    });
  }

  /**
   * Resolves true once, after sample index `since`, the address went away and came back;
   * false when that has not happened within timeoutMs (for benchmarks).
   */
  async waitAbsentThenPresent(since: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const recent = this.samples.slice(since);
      const lost = recent.findIndex((s) => !s.present);
      if (lost >= 0 && recent.slice(lost).some((s) => s.present)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  stop(): void {
    this.child?.kill("SIGTERM");
    this.child = undefined;
  }

  private onLine(line: string): void {
    const event = parseMonitorLine(line);
    if (event?.kind !== "address" || event.at === undefined || event.interface !== this.node.ifname) return;
    if (event.address?.split("/")[0] !== this.node.ip) return;
    this.record(event.at, !event.deleted);
  }

  private record(t: number, present: boolean): void {
    this.samples.push({ t, present });
    this.present = present;
    if (present) for (const waiter of [...this.waiters]) waiter();
  }
}
