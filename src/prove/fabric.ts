import { renderKeaConfig, type Reservation } from "../harness/kea.js";
import { LAB_KEA_OPTIONS } from "../harness/kea-options.js";
import { DHCP_SERVER_IP, METADATA_IP } from "../harness/topology.js";
import type { GuestAgent } from "./qga.js";
import { shellQuote } from "../render/shell.js";

/**
 * The fabric VM: a real 802.1Q kernel standing in for the provider's network. Its NICs
 * (one per node VM) are bridged; a VLAN on the bridge carries Kea at 198.18.0.1 and
 * 169.254.169.254 (the PN DHCP server's address) and the runner that probes the nodes.
 */

const WORK = "/run/holdfast-prove";
// A probe that gets no answer within this long failed. A held address answers a probe in
// tens of ms even under TCG; 1 s failed 41 of 245 probes of a node that held its address
// throughout (the kernel's address events had no gap) while the host ran at load ~20: the
// guests, not the address, were late. A lost address never answers at all.
const PROBE_TIMEOUT_MS = 3000;
const PROBE_INTERVAL_MS = 100;

export interface FabricOptions {
  readonly vlanId: number;
  readonly nics: readonly string[];
  readonly leaseSeconds: number;
  readonly reservations: readonly Reservation[];
}

/** The runner: probes http://<ip>:8080/up every 100 ms, one line per probe: `<epoch ms> <ok 0|1> <ms>`. */
const RUNNER = `import { get } from "node:http";
import { appendFileSync } from "node:fs";
const [dir, ...targets] = process.argv.slice(2);
setInterval(() => {
  for (const ip of targets) {
    const t = Date.now();
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      appendFileSync(dir + "/probes-" + ip + ".log", t + " " + (ok ? 1 : 0) + " " + (Date.now() - t) + "\\n");
    };
    const req = get({ host: ip, port: 8080, path: "/up", timeout: ${PROBE_TIMEOUT_MS}, agent: false }, (res) => {
      res.resume();
      res.on("end", () => finish(res.statusCode === 200));
    });
    req.on("timeout", () => { req.destroy(); finish(false); });
    req.on("error", () => finish(false));
  }
}, ${PROBE_INTERVAL_MS});
`;

export function fabricScript(options: FabricOptions): string {
  const kea = renderKeaConfig({
    interface: "pn",
    leaseSeconds: options.leaseSeconds,
    subnet: "198.18.0.0/22",
    pool: "198.18.1.0 - 198.18.1.255",
    reservations: options.reservations,
    workDir: WORK,
    optionData: LAB_KEA_OPTIONS,
  });
  const lines = [
    "set -eu",
    `mkdir -p ${WORK}`,
    "modprobe 8021q",
    "ip link add br0 type bridge",
    ...options.nics.flatMap((nic) => [`ip link set ${nic} master br0`, `ip link set ${nic} up`]),
    "ip link set br0 up",
    `ip link add link br0 name pn type vlan id ${options.vlanId}`,
    "ip link set pn up",
    `ip addr add ${DHCP_SERVER_IP}/22 dev pn`,
    `ip addr add ${METADATA_IP}/32 dev pn`,
    `printf '%s' ${shellQuote(JSON.stringify(kea))} > ${WORK}/kea.json`,
    `printf '%s' ${shellQuote(RUNNER)} > ${WORK}/runner.mjs`,
    `systemd-run --quiet --unit=prove-kea -E KEA_PIDFILE_DIR=${WORK} -E KEA_LOCKFILE_DIR=${WORK} kea-dhcp4 -c ${WORK}/kea.json`,
  ];
  return lines.join("\n");
}

export class Fabric {
  constructor(
    readonly agent: GuestAgent,
    readonly options: FabricOptions,
  ) {}

  async setUp(): Promise<void> {
    await this.agent.run(fabricScript(this.options));
    // Kea's start takes seconds under TCG on a loaded host
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const log = await this.agent.sh(`cat ${WORK}/kea.log 2>/dev/null`);
      if (log.stdout.includes("DHCP4_STARTED")) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error("Kea in the fabric VM did not start serving");
  }

  async startRunner(targets: readonly string[]): Promise<void> {
    await this.agent.run(
      `systemd-run --quiet --unit=prove-runner node ${WORK}/runner.mjs ${WORK} ${targets.map(shellQuote).join(" ")}`,
    );
  }

  /** The incident: the server stops answering (SIGSTOP), its leases run out. */
  async silence(): Promise<void> {
    await this.agent.run("systemctl kill --signal=SIGSTOP prove-kea.service");
  }

  async resume(): Promise<void> {
    await this.agent.run("systemctl kill --signal=SIGCONT prove-kea.service");
  }

  /** Probe lines for one target: `{ t, ok, ms }` in the fabric's clock (epoch ms). */
  async probes(ip: string): Promise<{ t: number; ok: boolean; ms: number }[]> {
    const out = await this.agent.sh(`cat ${WORK}/probes-${ip}.log 2>/dev/null`);
    return out.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [t, ok, ms] = line.split(" ").map(Number);
        return { t: t!, ok: ok === 1, ms: ms! };
      });
  }

  async keaLog(): Promise<string> {
    return (await this.agent.sh(`tail -n 40 ${WORK}/kea.log`)).stdout;
  }
}
