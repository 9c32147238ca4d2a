import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A client of qemu-guest-agent over the VM's virtio-serial port (a unix socket on the
 * host): how prove runs commands in a VM without any network or ssh. One connection per
 * command, resynchronised with guest-sync-delimited, so a guest that rebooted (its agent
 * restarted and may have read half a request) is never out of step.
 */

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface QgaReply {
  readonly return?: unknown;
  readonly error?: { readonly class?: string; readonly desc?: string };
}

// The guest agent's status poll; a command under TCG takes tens of ms at best.
const POLL_MS = 100;
// One answer of the guest agent: instant on an idle host, seconds for a TCG guest that gets
// a tenth of a CPU. The floor; once the VM has booted, its measured boot time raises it
// (a guest that took 4 min to boot on a loaded host may take minutes for one answer too:
// the run at load 11–15 failed on a fixed 60 s).
export const MIN_REPLY_MS = 60_000;

class Connection {
  private buffer = "";
  private waiters: ((line: string | undefined) => void)[] = [];
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      // 0xff: guest-sync-delimited's marker; everything before it is stale output
      const marker = chunk.lastIndexOf("\xff");
      this.buffer = marker >= 0 ? chunk.slice(marker + 1) : this.buffer + chunk;
      this.drain();
    });
    const end = () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    };
    socket.on("close", end);
    socket.on("error", end);
  }

  private drain(): void {
    let nl: number;
    while (this.waiters.length > 0 && (nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== "") this.waiters.shift()!(line);
    }
  }

  send(request: object): void {
    this.socket.write(`${JSON.stringify(request)}\n`);
  }

  async reply(timeoutMs: number): Promise<QgaReply> {
    if (this.closed) throw new Error("guest agent connection closed");
    const line = await Promise.race([
      new Promise<string | undefined>((resolve) => {
        this.waiters.push(resolve);
        this.drain();
      }),
      sleep(timeoutMs).then(() => "timeout" as const),
    ]);
    if (line === "timeout") throw new Error(`guest agent did not answer within ${timeoutMs} ms`);
    if (line === undefined) throw new Error("guest agent connection closed");
    return JSON.parse(line) as QgaReply;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function open(path: string, timeoutMs: number): Promise<Connection> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(path);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
  const connection = new Connection(socket);
  const id = Math.floor(Math.random() * 2 ** 31);
  try {
    connection.send({ execute: "guest-sync-delimited", arguments: { id } });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await connection.reply(Math.max(1, deadline - Date.now()));
      if (reply.return === id) return connection;
    }
  } catch (error) {
    connection.close();
    throw error;
  }
}

export class GuestAgent {
  /** how long one answer may take: MIN_REPLY_MS, raised to the measured boot time by waitReady */
  replyMs = MIN_REPLY_MS;

  constructor(readonly socketPath: string) {}

  /** Whether the guest's agent answers within timeoutMs (it is down while the VM boots). */
  async ping(timeoutMs = 3000): Promise<boolean> {
    try {
      (await open(this.socketPath, timeoutMs)).close();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Waits until the guest agent answers; throws after timeoutMs. Returns the wait (ms since
   * `since`, e.g. qemu's start or the reboot) and makes it the floor of later answers' deadline.
   */
  async waitReady(timeoutMs: number, since = Date.now()): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.ping(Math.min(15_000, Math.max(500, deadline - Date.now())))) {
        const waited = Date.now() - since;
        this.replyMs = Math.max(this.replyMs, MIN_REPLY_MS, waited);
        return waited;
      }
      await sleep(500);
    }
    throw new Error(`guest agent at ${this.socketPath} not up after ${Math.round(timeoutMs / 1000)} s`);
  }

  /** `sh -c script` in the guest as root; output captured. A failure names the VM and the command. */
  async sh(script: string, timeoutMs = 600_000): Promise<ExecResult> {
    try {
      return await this.exec(script, timeoutMs);
    } catch (error) {
      const what = script.split("\n")[0]!.slice(0, 120);
      throw new Error(
        `${this.socketPath}: ${what}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  private async exec(script: string, timeoutMs: number): Promise<ExecResult> {
    const connection = await open(this.socketPath, this.replyMs);
    try {
      connection.send({
        execute: "guest-exec",
        arguments: { path: "/bin/sh", arg: ["-c", script], "capture-output": true },
      });
      const started = await connection.reply(this.replyMs);
      if (started.error) throw new Error(`guest-exec: ${started.error.desc ?? "refused"}`);
      const pid = (started.return as { pid: number }).pid;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        connection.send({ execute: "guest-exec-status", arguments: { pid } });
        const status = (await connection.reply(this.replyMs)).return as {
          exited: boolean;
          exitcode?: number;
          signal?: number;
          "out-data"?: string;
          "err-data"?: string;
        };
        if (status.exited) {
          const decode = (b64?: string) => (b64 ? Buffer.from(b64, "base64").toString("utf8") : "");
          return {
            exitCode: status.exitcode ?? 128 + (status.signal ?? 0),
            stdout: decode(status["out-data"]),
            stderr: decode(status["err-data"]),
          };
        }
        if (Date.now() > deadline)
          throw new Error(`guest command still running after ${timeoutMs} ms: ${script}`);
        await sleep(POLL_MS);
      }
    } finally {
      connection.close();
    }
  }

  /** Like sh(), but a non-zero exit throws with the command's stderr. */
  async run(script: string, timeoutMs?: number): Promise<string> {
    const result = await this.sh(script, timeoutMs);
    if (result.exitCode !== 0) {
      throw new Error(`guest command failed (exit ${result.exitCode}): ${script}\n${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  /** Asks the guest to reboot (the kernel really restarts; qemu keeps the disk). */
  async reboot(): Promise<void> {
    const connection = await open(this.socketPath, this.replyMs);
    try {
      connection.send({ execute: "guest-shutdown", arguments: { mode: "reboot" } });
    } finally {
      // guest-shutdown answers nothing on success
      await sleep(200);
      connection.close();
    }
  }
}
