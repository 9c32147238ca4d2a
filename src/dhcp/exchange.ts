import { access, constants, mkdir, mkdtemp, rm } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { run, type Runner } from "../util/exec.js";
import { DiscoveryTimeout, type DiscoverOptions, type Lease } from "./lease.js";
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
  parse(values: Map<string, string>): Lease;
}

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
  if (!isValidIfname(iface))
    throw new Error(`${spec.client}: invalid interface name ${JSON.stringify(iface)}`);
  const programs = await findPrograms(spec.programs);
  if ("missing" in programs) throw new Error(`${spec.client}: ${programs.missing} not found in ${SEARCHED}`);
  await mkdir(options.workDir, { recursive: true });
  const dir = await mkdtemp(join(options.workDir, `${spec.client}-${iface}-`));
  try {
    const { hookPath, leasePath } = await writeHook(dir, spec.hook);
    const clientTimeoutS = Math.max(1, Math.floor((options.timeoutMs - EXIT_MARGIN_MS) / 1000));
    const { file, args } = await spec.command({ iface, dir, hookPath, clientTimeoutS, programs });
    const result = await runner(file, args, {
      timeoutMs: options.timeoutMs,
      graceMs: KILL_GRACE_MS,
      ...(spec.hook.groupUser === undefined ? {} : { groupUser: spec.hook.groupUser }),
    });
    const values = await readHookLease(leasePath);
    if (values !== undefined) return spec.parse(values);
    const output = `${result.stderr}\n${result.stdout}`;
    if (result.timedOut || spec.noAnswer.test(output)) throw new DiscoveryTimeout(iface, options.timeoutMs);
    throw new Error(
      `${spec.client} failed on ${iface} (exit ${result.code ?? result.signal}):\n${explain(output)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
