import { setTimeout as sleep } from "node:timers/promises";
import type { Netns, NsProcess } from "../../harness/netns.js";

/** systemd's default RestartSec (systemd.service(5)). */
export const RESTART_SEC_MS = 100;

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * `Restart=always` for one implementation inside a node namespace: whenever the process
 * exits, for whatever reason, it is started again after RestartSec. The incident turns on
 * exactly this: a supervisor only helps when the process exits.
 */
export class Supervisor {
  private current: NsProcess | undefined;
  private stopped = true;
  private loop: Promise<void> | undefined;
  /** how many times the process was started again after an exit */
  restarts = 0;
  /** why supervision ended on its own (the namespace went away under it), if it did */
  error: unknown;
  readonly exits: { t: number; code: number | null; signal: string | null }[] = [];

  constructor(
    private readonly ns: Netns,
    private readonly logFile: string,
  ) {}

  /** Starts supervising; after stop() it can start again (a simulated boot). */
  start(command: Command): void {
    if (!this.stopped) return;
    this.stopped = false;
    // keepRunning records its own errors; nothing may escape as an unhandled rejection
    this.loop = this.keepRunning(command).catch((error: unknown) => {
      this.stopped = true;
      this.error ??= error;
    });
  }

  /** Signals the process group without stopping supervision (SIGKILL: the agent-kill fault). */
  signal(signal: NodeJS.Signals): void {
    this.current?.kill(signal);
  }

  /** Ends supervision and the process group (SIGKILL by default: a power cut, not a clean stop). */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    this.stopped = true;
    const proc = this.current;
    if (proc) {
      proc.kill(signal);
      proc.kill("SIGCONT");
      const exited = await Promise.race([proc.exited.then(() => true), sleep(2000, false)]);
      if (!exited) proc.kill("SIGKILL");
      // The leader is gone; helpers it forked into its group go too.
      proc.kill("SIGKILL");
    }
    await this.loop;
  }

  private async keepRunning(command: Command): Promise<void> {
    let first = true;
    while (!this.stopped) {
      if (!first) this.restarts++;
      first = false;
      let proc: NsProcess;
      try {
        proc = this.ns.spawn(command.file, command.args, {
          stdout: this.logFile,
          ...(command.env ? { env: command.env } : {}),
        });
      } catch (error) {
        // the namespace was destroyed (teardown after a failure): nothing left to restart in
        this.stopped = true;
        this.error = error;
        break;
      }
      this.current = proc;
      const exit = await proc.exited;
      this.exits.push({ t: Date.now(), ...exit });
      // Leftovers of the old instance's group must not fight the new one.
      proc.kill("SIGKILL");
      if (this.stopped) break;
      await sleep(RESTART_SEC_MS);
    }
    this.current = undefined;
  }
}
