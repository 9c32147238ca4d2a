import { existsSync, readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { run } from "../../src/util/exec.js";
import { nodeIp, type ConvergeLab } from "./converge-nodes.js";

/**
 * Runs Debian's ansible-playbook against a converge lab's booted nodes: the role rendered
 * by `holdfast render --format ansible`, an inventory of the lab's nodes, and everything
 * Ansible keeps (config, control sockets, temp files) in this run's own directory, so runs
 * as root on one machine never share ~/.ansible. Shared by the ansible namespace test and
 * bench/ansible.ts.
 */

const CALLBACKS = fileURLToPath(new URL("./ansible-callback", import.meta.url));

/** `ansible-playbook` is there (scripts/install-deps.sh installs Debian's ansible-core). */
export async function checkAnsible(): Promise<string | undefined> {
  const r = await run("sh", ["-c", "command -v ansible-playbook"], { timeoutMs: 5000 });
  return r.code === 0 ? undefined : "ansible-playbook is not installed (see scripts/install-deps.sh)";
}

export interface AnsibleHostStats {
  readonly ok: number;
  readonly changed: number;
  readonly failures: number;
  readonly unreachable: number;
  readonly skipped: number;
}

export interface AnsibleTaskResult {
  readonly changed?: boolean;
  readonly failed?: boolean;
  readonly unreachable?: boolean;
  readonly skipped?: boolean;
  readonly msg?: string;
  readonly stdout?: string;
  readonly diff?: readonly { readonly before?: string; readonly after?: string }[];
  /** from the worker's start to its result (the holdfast_json callback measures it) */
  readonly duration_ms?: number;
  /** epoch ms when the task's worker for this host started */
  readonly start_ms?: number;
}

/** What the holdfast_json stdout callback (ansible-callback/) prints. */
export interface AnsibleReport {
  readonly plays: readonly {
    readonly tasks: readonly {
      readonly task: { readonly name: string };
      readonly hosts: Readonly<Record<string, AnsibleTaskResult>>;
    }[];
  }[];
  readonly stats: Readonly<Record<string, AnsibleHostStats>>;
}

export interface PlaybookRun {
  readonly code: number | null;
  readonly report: AnsibleReport;
  readonly stderr: string;
  readonly durationMs: number;
}

/** One host's result of the task named `name` (the last play that ran it). */
export function taskResult(report: AnsibleReport, name: string, host: string): AnsibleTaskResult | undefined {
  for (const play of [...report.plays].reverse()) {
    const task = play.tasks.find((t) => t.task.name === name);
    if (task?.hosts[host]) return task.hosts[host];
  }
  return undefined;
}

/**
 * Every failed or unreachable host's task and what it said, one line each: the assertion
 * message of a run that should have passed (stderr is empty with the JSON callback).
 */
export function failuresOf(report: AnsibleReport): string {
  const lines: string[] = [];
  for (const play of report.plays)
    for (const task of play.tasks)
      for (const [host, r] of Object.entries(task.hosts)) {
        if (!r.failed && !r.unreachable) continue;
        const said = [r.msg, r.stdout, (r as { stderr?: string }).stderr].filter((t) => t).join(" / ");
        lines.push(`${host}: ${task.task.name}: ${r.unreachable ? "unreachable: " : ""}${said}`);
      }
  return lines.join("\n") || "no failed task";
}

/**
 * Where a run's time went: each task with its slowest host's duration (the linear strategy
 * waits for every host before the next task), slowest first, as "name 1234 ms".
 */
export function taskTimes(report: AnsibleReport, count = 5): string {
  const rows = report.plays.flatMap((play) =>
    play.tasks.map((task) => {
      const ms = Math.max(0, ...Object.values(task.hosts).map((r) => r.duration_ms ?? 0));
      return { name: task.task.name, ms };
    }),
  );
  rows.sort((a, b) => b.ms - a.ms);
  return rows
    .slice(0, count)
    .map((r) => `${r.name} ${r.ms} ms`)
    .join("; ");
}

export class AnsibleProject {
  readonly home: string;

  constructor(
    readonly lab: ConvergeLab,
    readonly dir: string,
    readonly bundle: string,
  ) {
    this.home = join(dir, "ansible-home");
  }

  /** Renders the role from `spec.yaml` (written by writeInventory) with the given bundle. */
  async render(specFile: string): Promise<void> {
    await mkdir(join(this.home, "tmp"), { recursive: true });
    const r = await run(
      process.execPath,
      [this.bundle, "render", "--format", "ansible", "--spec", specFile, "--out", this.dir],
      { timeoutMs: 60_000 },
    );
    if (r.code !== 0) throw new Error(`holdfast render --format ansible failed: ${r.stderr}`);
  }

  /** Writes an inventory of the given lab nodes (group `holdfast`); extra host vars per name. */
  async inventory(
    indexes: readonly number[],
    hostVars: Record<string, Record<string, unknown>> = {},
    name = "hosts.yml",
  ): Promise<string> {
    const hosts = Object.fromEntries(
      indexes.map((i) => [`n${i + 1}`, { ansible_host: nodeIp(i), ...hostVars[`n${i + 1}`] }]),
    );
    const file = join(this.dir, name);
    await writeFile(
      file,
      stringify({
        holdfast: {
          hosts,
          vars: {
            ansible_user: "ubuntu",
            ansible_ssh_common_args: `-F ${this.lab.sshConfig}`,
            ansible_python_interpreter: "/usr/bin/python3",
          },
        },
      }),
    );
    return file;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ANSIBLE_CONFIG: join(this.dir, "ansible.cfg"),
      ANSIBLE_HOME: this.home,
      ANSIBLE_LOCAL_TEMP: join(this.home, "tmp"),
      ANSIBLE_SSH_CONTROL_PATH_DIR: join(this.home, "cp"),
      ANSIBLE_ROLES_PATH: join(this.dir, "roles"),
      // ours: Debian's ansible-core ships no JSON callback
      ANSIBLE_CALLBACK_PLUGINS: CALLBACKS,
      ANSIBLE_STDOUT_CALLBACK: "holdfast_json",
      ANSIBLE_FORKS: "10",
      ANSIBLE_PIPELINING: "True",
      ANSIBLE_NOCOLOR: "1",
      ANSIBLE_RETRY_FILES_ENABLED: "False",
      // `timeout` bounds both the ssh connect and the wait for sudo's prompt; sudo on a booted
      // node at load 10 took over 7 s, so the wait is 30 s while the connect stays at 5 s (an
      // -o in ssh_args comes before Ansible's own ConnectTimeout, and ssh keeps the first)
      ANSIBLE_TIMEOUT: "30",
      ANSIBLE_SSH_ARGS: "-C -o ControlMaster=auto -o ControlPersist=60s -o ConnectTimeout=5",
      // the test's own ssh config pins the host keys
      ANSIBLE_HOST_KEY_CHECKING: "True",
    };
  }

  /** `ansible-playbook site.yml` from the runner namespace, as an operator's controller would. */
  async playbook(inventory: string, ...extra: string[]): Promise<PlaybookRun> {
    const started = performance.now();
    const r = await this.lab.topo.runner.exec(
      "ansible-playbook",
      ["-i", inventory, join(this.dir, "site.yml"), ...extra],
      { env: this.env(), cwd: this.dir, timeoutMs: 600_000 },
    );
    const durationMs = Math.round(performance.now() - started);
    let report: AnsibleReport;
    try {
      report = JSON.parse(r.stdout) as AnsibleReport;
    } catch {
      throw new Error(
        `ansible-playbook printed no JSON (exit ${r.code}): ${r.stdout.slice(0, 2000)}\n${r.stderr}`,
      );
    }
    return { code: r.code, report, stderr: r.stderr, durationMs };
  }

  /** Ends the ssh control masters Ansible left behind (ControlPersist). */
  async close(): Promise<void> {
    const cp = join(this.home, "cp");
    if (!existsSync(cp)) return;
    for (const socket of readdirSync(cp)) {
      await this.lab.topo.runner
        .exec("ssh", ["-o", `ControlPath=${join(cp, socket)}`, "-O", "exit", "placeholder"], {
          timeoutMs: 10_000,
        })
        .catch(() => undefined);
    }
  }
}
