import { access, constants, mkdir, mkdtemp, rm } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { run, type Runner } from "../util/exec.js";
import {
  DiscoveryTimeout,
  type ConfirmAnswer,
  type ConfirmOptions,
  type DiscoverOptions,
  type Lease,
} from "./lease.js";
import { readHookLease, writeHook, type HookSpec } from "./hook.js";
import { isValidIfname } from "../net/ifname.js";

/** Injection points shared by every adapter (style: zx/execa options, not globals). */
export interface AdapterOptions {
  /**
   * Runs the client; must put it in a fresh process group (util/exec run() does). The lab
   * passes `ns.exec` so the exchange happens inside a node's namespace.
   * @default run
   */
  readonly runner?: Runner;
}

/** How long the client gets to exit by itself before the deadline's SIGTERM/SIGKILL. */
const EXIT_MARGIN_MS = 500;
const KILL_GRACE_MS = 300;

export interface CommandContext {
  readonly iface: string;
  /** private scratch dir of this exchange, inside DiscoverOptions.workDir */
  readonly dir: string;
  readonly hookPath: string;
  /** the client's own give-up time, a little inside the deadline */
  readonly clientTimeoutS: number;
  /** absolute path of each of ExchangeSpec.programs (the agent's PATH may lack the sbin dirs) */
  readonly programs: Programs;
  /** set for a confirm exchange: the held address to ask for (option 50) */
  readonly request?: RequestedAddress;
}

/** The held address a confirm exchange asks the server for. */
export interface RequestedAddress {
  readonly ip: string;
  readonly prefix: number;
  /** the server that gave it (option 54), when known */
  readonly server: string | undefined;
}

/** Absolute paths of executables, by name. */
export type Programs = ReadonlyMap<string, string>;

export interface ExchangeSpec {
  readonly client: "udhcpc" | "dhcpcd" | "dhclient";
  readonly hook: HookSpec;
  /** the executables `command` starts, resolved to absolute paths before every exchange */
  readonly programs: readonly string[];
  /** argv for one exchange */
  command(context: CommandContext): Promise<{ file: string; args: string[] }>;
  /** stderr/stdout of a client that gave up because no server answered */
  readonly noAnswer: RegExp;
  /** a line of the client's output saying a server NAKed; group 1 is the server when shown */
  readonly nak: RegExp;
  parse(values: Map<string, string>): Lease;
}

/** How one run of a client ended: a lease, or the output that says why not. */
type Outcome =
  | { readonly kind: "lease"; readonly lease: Lease }
  | { readonly kind: "none"; readonly output: string; readonly timedOut: boolean; readonly exit: string };

/**
 * One exchange: private scratch dir under workDir, generated hook, client run with a
 * deadline in its own process group (reaped whatever happens), lease read from the file the
 * hook wrote, scratch dir removed.
 */
export async function exchange(
  runner: Runner,
  iface: string,
  options: DiscoverOptions,
  spec: ExchangeSpec,
): Promise<Lease> {
  const outcome = await runOnce(runner, iface, options, spec, undefined);
  if (outcome.kind === "lease") return outcome.lease;
  throw failure(iface, options, spec, outcome);
}

/**
 * One confirm exchange (design §3 step 6): the same run, asking for the held address. An ACK
 * (of that address or another) is the answer; a NAK with no ACK after it is `nak`; silence
 * is a DiscoveryTimeout, as in discovery.
 */
export async function confirmExchange(
  runner: Runner,
  iface: string,
  options: ConfirmOptions,
  spec: ExchangeSpec,
): Promise<ConfirmAnswer> {
  const [ip, prefix] = options.cidr.split("/");
  const request: RequestedAddress = { ip: ip ?? "", prefix: Number(prefix), server: options.server };
  const outcome = await runOnce(runner, iface, options, spec, request);
  if (outcome.kind === "lease") return { kind: "ack", lease: outcome.lease };
  const nak = spec.nak.exec(outcome.output);
  if (nak) return { kind: "nak", server: nak[1] };
  throw failure(iface, options, spec, outcome);
}

async function runOnce(
  runner: Runner,
  iface: string,
  options: DiscoverOptions,
  spec: ExchangeSpec,
  request: RequestedAddress | undefined,
): Promise<Outcome> {
  if (!isValidIfname(iface))
    throw new Error(`${spec.client}: invalid interface name ${JSON.stringify(iface)}`);
  const programs = await findPrograms(spec.programs);
  if ("missing" in programs) throw new Error(`${spec.client}: ${programs.missing} not found in ${SEARCHED}`);
  await mkdir(options.workDir, { recursive: true });
  const dir = await mkdtemp(join(options.workDir, `${spec.client}-${iface}-`));
  try {
    const { hookPath, leasePath } = await writeHook(dir, spec.hook);
    // A hook that cannot run is silent: the client gets its lease and exits 0 without it
    await access(hookPath, constants.X_OK).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        `${spec.client}: its hook cannot run from ${options.workDir} (${error.code ?? "error"}: mounted noexec?)`,
      );
    });
    const clientTimeoutS = Math.max(1, Math.floor((options.timeoutMs - EXIT_MARGIN_MS) / 1000));
    const { file, args } = await spec.command({
      iface,
      dir,
      hookPath,
      clientTimeoutS,
      programs,
      ...(request === undefined ? {} : { request }),
    });
    const result = await runner(file, args, {
      timeoutMs: options.timeoutMs,
      graceMs: KILL_GRACE_MS,
      ...(spec.hook.groupUser === undefined ? {} : { groupUser: spec.hook.groupUser }),
    });
    const values = await readHookLease(leasePath);
    if (values !== undefined) return { kind: "lease", lease: spec.parse(values) };
    return {
      kind: "none",
      output: `${result.stderr}\n${result.stdout}`,
      timedOut: result.timedOut,
      exit: String(result.code ?? result.signal),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function failure(
  iface: string,
  options: DiscoverOptions,
  spec: ExchangeSpec,
  outcome: Extract<Outcome, { kind: "none" }>,
): Error {
  if (outcome.timedOut || spec.noAnswer.test(outcome.output))
    return new DiscoveryTimeout(iface, options.timeoutMs);
  return new Error(`${spec.client} failed on ${iface} (exit ${outcome.exit}):\n${explain(outcome.output)}`);
}

/** The lines of a client's output that say what went wrong (dhclient ends with a bug-report banner). */
function explain(output: string): string {
  const lines = output
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const telling = lines.filter((line) =>
    /error|fail|no such|not found|cannot|denied|invalid|unknown/i.test(line),
  );
  return (telling.length > 0 ? telling.slice(0, 3) : lines.slice(-5)).join("\n");
}

// Where clients live even when the agent's PATH (a non-login shell, a minimal service
// environment) lacks them.
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];
const SEARCHED = `PATH or ${SBIN_DIRS.join(", ")}`;

/** Absolute path of an executable on PATH (plus the sbin dirs a non-login PATH may lack). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), ...SBIN_DIRS];
  for (const dir of dirs.filter((d) => d.startsWith("/"))) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Every one of `names` resolved, or the first one that is missing. */
export async function findPrograms(names: readonly string[]): Promise<Programs | { missing: string }> {
  const found = new Map<string, string>();
  for (const name of names) {
    const path = await findExecutable(name);
    if (path === undefined) return { missing: name };
    found.set(name, path);
  }
  return found;
}

/** Whether every program an exchange starts is installed. */
export async function installed(spec: ExchangeSpec): Promise<boolean> {
  return !("missing" in (await findPrograms(spec.programs)));
}

/** The absolute path of a program the exchange declared (resolved before `command` runs). */
export function programPath(programs: Programs, name: string): string {
  const path = programs.get(name);
  if (path === undefined) throw new Error(`internal: ${name} is not among the exchange's programs`);
  return path;
}

export function runnerOf(options: AdapterOptions | undefined): Runner {
  return options?.runner ?? run;
}
