import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { signalPid } from "../util/exec.js";
import { AddressWatch } from "../harness/address-watch.js";
import type { Impl, ImplContext } from "./impls/types.js";
import { spawnUpServer } from "../harness/instruments.js";
import type { NsProcess } from "../harness/netns.js";
import type { RunHandle } from "./scenarios/types.js";
import { Supervisor } from "./impls/supervisor.js";
import type { Mark, Timeline } from "./timeline.js";
import type { LabNode } from "../harness/topology.js";

/**
 * One implementation on one lab node: its directories, the /up server and the address
 * watch (the lab's instruments, which a simulated reboot leaves alone), and the supervised
 * implementation itself.
 */
export class NodeRun implements RunHandle {
  readonly marks: Mark[] = [];
  readonly findings = new Map<string, string>();
  readonly watch: AddressWatch;
  readonly supervisor: Supervisor;
  private upServer: NsProcess | undefined;
  private readonly ctx: ImplContext;

  constructor(
    readonly impl: Impl,
    readonly node: LabNode,
    dir: string,
    leaseSeconds: number,
  ) {
    this.ctx = { node, dir, stateDir: join(dir, "state"), runDir: join(dir, "run"), leaseSeconds };
    this.watch = new AddressWatch(node);
    this.supervisor = new Supervisor(node.ns, join(dir, `${impl.name}.log`));
  }

  /** the /up server's pid: an instrument, not part of the implementation */
  get upServerPid(): number | undefined {
    return this.upServer?.pid;
  }

  get runDir(): string {
    return this.ctx.runDir;
  }

  get logFile(): string {
    return join(this.ctx.dir, `${this.impl.name}.log`);
  }

  /** Directories, the /up server and the address watch; the implementation is not started yet. */
  async setUp(): Promise<void> {
    await mkdir(this.ctx.stateDir, { recursive: true });
    await mkdir(this.ctx.runDir, { recursive: true });
    this.upServer = spawnUpServer(this.node.ns, join(this.ctx.dir, "up-server.log"));
    await this.watch.start();
  }

  mark(label: string): void {
    this.marks.push({ t: Date.now(), label });
  }

  async boot(label = "boot"): Promise<void> {
    const command = await this.impl.prepare(this.ctx);
    this.mark(label);
    this.supervisor.start(command);
  }

  async powerCut(): Promise<void> {
    await this.supervisor.stop("SIGKILL");
    // daemonised helpers (dhclient -1 forks away into its own session) die with the node
    const keep = new Set([this.upServerPid, this.watch.pid]);
    for (const pid of await this.node.ns.pids()) if (!keep.has(pid)) signalPid(pid, "SIGKILL");
    await rm(this.ctx.runDir, { recursive: true, force: true });
    await mkdir(this.ctx.runDir, { recursive: true });
    await this.node.recreateLink();
  }

  /** Stops the implementation and the instruments (the topology's teardown ends whatever is left). */
  async stop(): Promise<void> {
    await this.supervisor.stop("SIGTERM");
    this.watch.stop();
    this.upServer?.kill("SIGTERM");
  }

  timeline(probes: Timeline["probes"]): Timeline {
    return { address: [...this.watch.samples], probes, marks: [...this.marks].sort((a, b) => a.t - b.t) };
  }
}
