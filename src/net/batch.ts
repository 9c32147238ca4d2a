import { spawn, type ChildProcess } from "node:child_process";

/**
 * A long-lived `ip -force -batch -`: a command written to it reaches the kernel without
 * forking a process, which is what keeps a restore in the low milliseconds on a busy node.
 * Fire and forget: the caller confirms by reading the kernel's state afterwards, so a
 * command that fails here (the link is gone) costs nothing.
 */
export class IpBatch {
  private child: ChildProcess | undefined;
  private closed = false;

  constructor(private readonly ip = "ip") {}

  private ensure(): ChildProcess | undefined {
    if (this.closed) return undefined;
    if (
      this.child &&
      this.child.exitCode === null &&
      this.child.signalCode === null &&
      this.child.stdin?.writable
    ) {
      return this.child;
    }
    try {
      const child = spawn(this.ip, ["-force", "-batch", "-"], { stdio: ["pipe", "ignore", "ignore"] });
      child.on("error", () => undefined);
      child.stdin?.on("error", () => undefined);
      this.child = child;
      return child;
    } catch {
      return undefined;
    }
  }

  /** Queues one iproute2 command line; false when the batch process is unavailable. */
  write(args: readonly string[]): boolean {
    const child = this.ensure();
    if (!child?.stdin?.writable) return false;
    return child.stdin.write(`${args.join(" ")}\n`) || true;
  }

  /** Starts the process ahead of the first write, so the first restore is fast too. */
  warm(): void {
    this.ensure();
  }

  close(): void {
    this.closed = true;
    this.child?.stdin?.end();
    this.child?.kill("SIGTERM");
    this.child = undefined;
  }
}
