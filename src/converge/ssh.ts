import { errorMessage, HoldfastError } from "../errors.js";
import { run, type RunResult, type Runner } from "../util/exec.js";

/**
 * Remote commands go through the system's OpenSSH client, so ~/.ssh/config, agents and
 * known_hosts work as users expect (design §4.7). A script always travels on stdin of a
 * remote `bash -s`, never in argv: argv shows in `ps` on both ends and has a size limit.
 */

export interface SshTarget {
  readonly name: string;
  readonly address: string;
  readonly user: string | undefined;
  readonly port: number | undefined;
}

export interface SshOptions {
  /** seconds for the TCP connect and the SSH handshake @default 10 */
  readonly connectTimeoutSec?: number;
  /** StrictHostKeyChecking=accept-new instead of yes @default false */
  readonly acceptNewHostKeys?: boolean;
  /** `ssh -F <file>` instead of ~/.ssh/config */
  readonly configFile?: string;
  /** where ssh is spawned; tests plug a fake, the lab one that enters a namespace @default run */
  readonly runner?: Runner;
}

export const DEFAULT_CONNECT_TIMEOUT_SEC = 10;
/** ssh(1): "exits with the exit status of the remote command or with 255 if an error occurred" */
export const SSH_ERROR_EXIT = 255;

export function sshArgs(target: SshTarget, options: SshOptions, remoteCommand: string): string[] {
  const args: string[] = [];
  if (options.configFile !== undefined) args.push("-F", options.configFile);
  args.push(
    "-o", "BatchMode=yes",
    "-o", `ConnectTimeout=${options.connectTimeoutSec ?? DEFAULT_CONNECT_TIMEOUT_SEC}`,
    "-o", `StrictHostKeyChecking=${options.acceptNewHostKeys ? "accept-new" : "yes"}`,
    // a dead host must fail the run, not hang it: 3 missed keepalives at 5 s
    "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
    "-o", "LogLevel=ERROR",
    "-T",
  ); // prettier-ignore
  if (target.port !== undefined) args.push("-p", String(target.port));
  if (target.user !== undefined) args.push("-l", target.user);
  args.push("--", target.address, remoteCommand);
  return args;
}

export interface RemoteResult {
  /** what ran locally: `ssh … -- <address> bash -s` (the script itself travelled on stdin) */
  readonly command: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** ssh itself failed (connect, auth, host key), not the remote command */
  readonly sshFailed: boolean;
}

/** One remote `bash -s` with `script` on its stdin. */
export async function runRemoteScript(
  target: SshTarget,
  script: string,
  options: SshOptions & { readonly timeoutMs: number },
): Promise<RemoteResult> {
  const runner = options.runner ?? run;
  const args = sshArgs(target, options, "bash -s");
  let result: RunResult;
  try {
    result = await runner("ssh", args, { input: script, timeoutMs: options.timeoutMs });
  } catch (error) {
    // ssh itself could not be started (not installed, not executable): the spawn error is the cause
    throw new HoldfastError(`could not run ssh: ${errorMessage(error)}`, { code: "failure", cause: error });
  }
  return {
    command: result.command,
    code: result.code,
    stdout: result.stdout,
    stderr: result.stderr,
    timedOut: result.timedOut,
    sshFailed: result.code === SSH_ERROR_EXIT,
  };
}

/** The last meaningful line ssh or the script printed on stderr: why it failed. */
export function lastErrorLine(result: RemoteResult): string {
  if (result.timedOut) return "timed out";
  const lines = result.stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1);
  if (last !== undefined) return last;
  return `exit ${result.code ?? "signal"}`;
}

// The reason a remote command failed is nearly always in its last few lines.
const STDERR_TAIL_LINES = 5;

/** The last non-empty lines of what ssh or the remote command wrote on stderr. */
export function stderrTail(stderr: string, lines = STDERR_TAIL_LINES): string[] {
  return stderr
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "")
    .slice(-lines);
}

/**
 * A remote command that failed, as execa reports a failed command: the message says what
 * ran and how it ended; the fields keep the exit code and the last lines it printed, so a
 * report can show them. Converge attaches it as the `cause` of the error a stage throws.
 */
export class RemoteCommandError extends Error {
  readonly command: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly sshFailed: boolean;
  readonly stderrTail: readonly string[];

  constructor(result: RemoteResult) {
    const how = result.timedOut
      ? "timed out"
      : result.code === null
        ? "was killed by a signal"
        : `failed with exit code ${result.code}`;
    super(`Command ${how}: ${result.command}`);
    this.name = "RemoteCommandError";
    this.command = result.command;
    this.exitCode = result.code;
    this.timedOut = result.timedOut;
    this.sshFailed = result.sshFailed;
    this.stderrTail = stderrTail(result.stderr);
  }
}
