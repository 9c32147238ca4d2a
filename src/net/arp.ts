import { findExecutable } from "../dhcp/exchange.js";
import { isValidIfname } from "./ifname.js";
import { run, type Runner } from "../util/exec.js";

/**
 * ARP on the wire through a well-kept tool, never hand-written raw sockets (as the DHCP
 * adapters use DHCP clients): iputils `arping` (Debian `iputils-arping`), else busybox's
 * `arping` applet. Both take the same flags for what we ask of them, and print a reply as
 * `... reply from <ip> [<mac>] ...`. Each run has its own process group and a deadline and
 * is always reaped (util/exec run()).
 */

// RFC 5227 §1.1: a probe run sends PROBE_NUM requests; iputils and busybox space them 1 s
// apart (PROBE_MIN) and stop at the first reply, so a conflict shows within milliseconds.
export const PROBE_NUM = 3;
// RFC 5227 §1.1 PROBE_MAX after the last probe is the longest a reply may take.
const PROBE_WAIT_S = PROBE_NUM + 1;
// A run that outlives its own -w (a wedged socket) is ended this long after.
const DEADLINE_MARGIN_MS = 2000;
// An announcement is one request; the tool waits for nothing after it (-U expects no reply).
const ANNOUNCE_DEADLINE_MS = 3000;

export interface ArpTool {
  /** how the tool is called: `["/usr/bin/arping"]` or `["/usr/bin/busybox", "arping"]` */
  readonly argv: readonly string[];
  /** for logs and status: `iputils arping`, `busybox arping` */
  readonly name: string;
}

/** The ARP tool on this host, or undefined when there is none (detection then reports unavailable). */
export async function findArpTool(): Promise<ArpTool | undefined> {
  const arping = await findExecutable("arping");
  if (arping !== undefined) {
    // busybox installs `arping` as a link to itself on some distributions
    const name = (await isBusybox(arping)) ? "busybox arping" : "iputils arping";
    return { argv: [arping], name };
  }
  const busybox = await findExecutable("busybox");
  if (busybox !== undefined && (await hasApplet(busybox, "arping"))) {
    return { argv: [busybox, "arping"], name: "busybox arping" };
  }
  return undefined;
}

async function isBusybox(path: string): Promise<boolean> {
  const result = await run(path, ["-V"], { timeoutMs: 2000 });
  return !/iputils/i.test(`${result.stdout}${result.stderr}`);
}

async function hasApplet(busybox: string, applet: string): Promise<boolean> {
  const result = await run(busybox, ["--list"], { timeoutMs: 2000 });
  return result.code === 0 && result.stdout.split("\n").includes(applet);
}

export interface ProbeResult {
  /** MACs (lower case) that answered for the address, in order, without duplicates */
  readonly repliedMacs: readonly string[];
}

// iputils: `Unicast reply from 198.18.0.11 [DA:0C:5A:A1:EE:31]  0.530ms`
// busybox: `Unicast reply from 198.18.0.11 [da:0c:5a:a1:ee:31] 0.017ms`
const REPLY = /reply from (\d{1,3}(?:\.\d{1,3}){3}) \[([0-9a-f]{2}(?::[0-9a-f]{2}){5})\]/gi;

/** The MACs that answered for `ip` in a tool's output. */
export function parseReplies(output: string, ip: string): string[] {
  const macs: string[] = [];
  for (const match of output.matchAll(REPLY)) {
    const mac = (match[2] ?? "").toLowerCase();
    if (match[1] === ip && !macs.includes(mac)) macs.push(mac);
  }
  return macs;
}

/** ARP requests on one host's interfaces. */
export class Arp {
  constructor(
    readonly tool: ArpTool,
    private readonly runner: Runner = run,
  ) {}

  /**
   * RFC 5227 §2.3 announcement: one ARP request with sender IP = target IP = `ip`, from the
   * interface's own MAC, so neighbours with a stale cache entry learn where `ip` is now.
   */
  async announce(iface: string, ip: string): Promise<void> {
    checkArgs(iface, ip);
    const [file, ...pre] = this.tool.argv as [string, ...string[]];
    // -U: unsolicited (gratuitous) request; -s: sender IP; -c 1: one packet
    const args = [...pre, "-U", "-c", "1", "-w", "1", "-I", iface, "-s", ip, ip];
    const result = await this.runner(file, args, { timeoutMs: ANNOUNCE_DEADLINE_MS, graceMs: 300 });
    if (result.code !== 0) throw new Error(`${this.tool.name} -U on ${iface}: ${describe(result)}`);
  }

  /**
   * RFC 5227 §2.1.1 probe: ARP requests for `ip` with sender IP 0.0.0.0 (-D, duplicate
   * address detection), so no neighbour's cache changes; the MACs that answered come back.
   */
  async probe(iface: string, ip: string): Promise<ProbeResult> {
    checkArgs(iface, ip);
    const [file, ...pre] = this.tool.argv as [string, ...string[]];
    const args = [...pre, "-D", "-c", String(PROBE_NUM), "-w", String(PROBE_WAIT_S), "-I", iface, ip];
    const result = await this.runner(file, args, {
      timeoutMs: PROBE_WAIT_S * 1000 + DEADLINE_MARGIN_MS,
      graceMs: 300,
    });
    const repliedMacs = parseReplies(`${result.stdout}\n${result.stderr}`, ip);
    // -D exits 1 when somebody answered, 0 when nobody did; anything else is the tool failing
    if (repliedMacs.length === 0 && result.code !== 0) {
      throw new Error(`${this.tool.name} -D on ${iface}: ${describe(result)}`);
    }
    return { repliedMacs };
  }
}

function checkArgs(iface: string, ip: string): void {
  if (!isValidIfname(iface)) throw new Error(`arp: invalid interface name ${JSON.stringify(iface)}`);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`arp: invalid IPv4 address ${JSON.stringify(ip)}`);
}

function describe(result: { code: number | null; signal: string | null; stderr: string; timedOut: boolean }) {
  if (result.timedOut) return "timed out";
  const text = result.stderr.trim().split("\n").slice(-1)[0];
  return text !== undefined && text !== "" ? text : `exit ${result.code ?? result.signal}`;
}
