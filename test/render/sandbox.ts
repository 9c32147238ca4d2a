import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { scratchDir } from "../helpers/scratch.js";

/**
 * Runs a rendered script for real, but where it can harm nothing: new mount, PID and
 * network namespaces (no host process to see or kill, only `lo`), with /etc, /usr/local
 * and /run as overlays whose writes land in a temp dir. Commands that would reach beyond
 * that (systemctl, package managers, ip, kill, networkctl, nmcli, sudo) are bash functions
 * that log their arguments; systemctl keeps enabled/active state in the temp dir, so a
 * second run sees what the first one did.
 */
export class Sandbox {
  readonly dir: string;

  constructor() {
    this.dir = scratchDir("hf-render-sbx-");
    for (const name of ["etc", "usr-local", "run"]) {
      mkdirSync(join(this.dir, "upper", name), { recursive: true });
      mkdirSync(join(this.dir, "work", name), { recursive: true });
    }
    // a booted systemd is what the script looks for before starting and waiting
    mkdirSync(join(this.dir, "upper", "run", "systemd", "system"), { recursive: true });
    writeFileSync(join(this.dir, "calls.log"), "");
  }

  /** What the fake commands were asked to do, one line per call. */
  calls(): string[] {
    return readFileSync(join(this.dir, "calls.log"), "utf8").split("\n").filter(Boolean);
  }

  /** The PID (inside the sandbox) of a dhclient stand-in started by `run()`. */
  standInPid(which: "dhclient" | "foreignDhclient"): number {
    const file = which === "dhclient" ? "dhclient.pid" : "foreign-dhclient.pid";
    return Number(readFileSync(join(this.dir, file), "utf8").trim());
  }

  /** A file as the script left it inside the sandbox (the overlay's upper dir). */
  written(path: string): string {
    const [, top, ...rest] = path.split("/");
    const layer =
      top === "usr" && rest[0] === "local" ? ["usr-local", ...rest.slice(1)] : [top ?? "", ...rest];
    return readFileSync(join(this.dir, "upper", ...layer), "utf8");
  }

  private prelude(options: RunOptions): string {
    const log = JSON.stringify(join(this.dir, "calls.log"));
    const state = JSON.stringify(this.dir);
    return `
hf_log() { printf '%s\\n' "$*" >>${log}; }
systemctl() {
  hf_log "systemctl $*"
  # like the real one: talking to the manager fails when systemd is not PID 1
  case "$1" in daemon-reload | start | stop | restart | reload | kill)
    [ -d /run/systemd/system ] || { echo "System has not been booted with systemd as init system (PID 1). Can't operate." >&2; return 1; } ;;
  esac
  case "$1" in
    # state per unit (the last argument): holdfast.service and holdfast-wait-online.service
    is-enabled) [ -e "${state}/enabled-\${*: -1}" ] ;;
    is-active) [ -e "${state}/active-\${*: -1}" ] ;;
    enable) touch "${state}/enabled-\${*: -1}"; case " $* " in *" --now "*) touch "${state}/active-\${*: -1}" ;; esac ;;
    show) printf '0\\n' ;;
    *) return 0 ;;
  esac
}
for hf_cmd in apt-get dnf yum zypper apk npm env networkctl nmcli modprobe; do
  eval "$hf_cmd() { hf_log \\"$hf_cmd \\$*\\"; return 1; }"
done
ip() {
  hf_log "ip $*"
  # a dhclient lease on pn0, as on the incident's node
  case "$*" in "-4 -o addr show dev pn0" | "-4 -o addr show dev pn0 dynamic") printf '%s\\n' "3: pn0    inet 198.18.0.2/22 brd 198.18.3.255 scope global dynamic pn0" ;; esac
  return 0
}
kill() { hf_log "kill $*"; }
id() { if [ "\${1:-}" = -u ]; then printf '%s\\n' ${options.uid ?? 0}; else command id "$@"; fi; }
sudo() { hf_log "sudo $*"; [ "$1" = -n ] && shift; [ "$1" = -- ] && shift; "$@"; }
`;
  }

  /** Pipes prelude + script into `bash -s`, as `ssh host 'bash -s' < boot.sh` would. */
  run(script: string, options: RunOptions = {}): { status: number | null; stdout: string; stderr: string } {
    const d = this.dir;
    const overlay = (lower: string, name: string) =>
      `mount -t overlay overlay -o lowerdir=${lower},upperdir=${d}/upper/${name},workdir=${d}/work/${name} ${lower}`;
    // the hold() function keeps bash from exec'ing sleep, which would change the comm
    const standIn = (prefix: string, pidFile: string) =>
      `(${prefix} ${d}/dhclient -c 'echo $$ >${d}/${pidFile}.tmp && mv ${d}/${pidFile}.tmp ${d}/${pidFile}; hold() { sleep 600; }; hold' -d pn0 &)\n` +
      `until [ -s ${d}/${pidFile} ]; do sleep 0.05; done`;
    const setup = [
      "set -e",
      overlay("/etc", "etc"),
      overlay("/usr/local", "usr-local"),
      overlay("/run", "run"),
      // an image build or a chroot: no systemd running
      options.booted === false ? "rm -rf /run/systemd/system" : ":",
      // files the node had before the script (under the overlaid /etc only)
      ...Object.entries(options.files ?? {}).map(
        ([path, text]) =>
          `mkdir -p ${dirname(path)} && echo ${Buffer.from(text).toString("base64")} | base64 -d >${path}`,
      ),
      // dhclient stand-ins (comm "dhclient") holding pn0, when asked for: copies of bash named
      // dhclient whose command line ends "-d pn0" and that write their PID to a file. The
      // foreign one lives in a network namespace of its own (as in a container or a lab), which
      // vanishes with it when the sandbox's PID namespace ends.
      options.dhclient || options.foreignDhclient ? `cp /bin/bash ${d}/dhclient` : ":",
      options.dhclient ? standIn("", "dhclient.pid") : ":",
      options.foreignDhclient ? standIn("unshare --net", "foreign-dhclient.pid") : ":",
      "exec bash -s",
    ].join("\n");
    const r = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "--net",
        "--pid",
        "--fork",
        "--mount-proc",
        "bash",
        "-c",
        setup,
      ],
      {
        input: this.prelude(options) + script,
        encoding: "utf8",
        // the test's own node dir first: the launcher must find a Node.js >= 18 wherever CI put it
        env: {
          PATH: `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
          HOME: d,
          HOLDFAST_WAIT_SECONDS: "5",
          ...(options.adoptFails ? { HOLDFAST_FAKE_ADOPT: "fail" } : {}),
          LANG: "C",
        },
        timeout: 60_000,
      },
    );
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RunOptions {
  /** what `id -u` says; non-zero makes the script go through (the fake) sudo. @default 0 */
  readonly uid?: number;
  /** whether systemd runs (`/run/systemd/system` exists). @default true */
  readonly booted?: boolean;
  /** start a process named dhclient for pn0 before the script runs */
  readonly dhclient?: boolean;
  /** start one more, in a network namespace of its own (the script must leave it alone) */
  readonly foreignDhclient?: boolean;
  /** files (absolute paths under /etc) written before the script runs */
  readonly files?: Readonly<Record<string, string>>;
  /** `holdfast adopt` fails (test/render/fixtures/fake-bundle.mjs) */
  readonly adoptFails?: boolean;
}
