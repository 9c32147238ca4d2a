import { probeScript, type ProbedAgent } from "./probe-script.js";
import { HoldfastError } from "../errors.js";
import { parseStatusDocument } from "../observe/status-read.js";
import {
  lastErrorLine,
  RemoteCommandError,
  runRemoteScript,
  type SshOptions,
  type SshTarget,
} from "./ssh.js";

/** What currently keeps an interface's address (or that nothing does). */
export type Holder =
  | "holdfast"
  | "dhclient"
  | "dhcpcd"
  | "networkd"
  | "networkmanager"
  /** an address that never expires and no client: set by hand or by a script */
  | "static"
  /** a lease address counting down with no client renewing it: the incident in progress */
  | "orphan-lease"
  | "nothing"
  /** the interface does not exist (yet): a VLAN holdfast will create */
  | "absent";

export interface ProbedAddress {
  readonly cidr: string;
  readonly validLft: number | "forever";
  readonly dynamic: boolean;
}

export interface ProbedInterface {
  readonly name: string;
  readonly holder: Holder;
  /** what the holder is, for people: "dhclient pid 312 (dhclient-pn0.service)" */
  readonly detail: string;
  readonly addresses: readonly ProbedAddress[];
  /** the systemd unit of a DHCP client that holds it, if any */
  readonly clientUnit: string | undefined;
  /** ifupdown files with an `iface <name> inet dhcp` stanza (the install script sets it to manual) */
  readonly ifupdownFiles?: readonly string[];
  /** the holder is a dhcpcd manager serving every interface: only this one is taken from it */
  readonly dhcpcdManager?: { readonly pid: number; readonly unit: string | undefined };
}

export interface AgentStatusSummary {
  readonly running: boolean;
  readonly version: string | undefined;
  readonly attachments: readonly {
    readonly interface: string;
    readonly state: string;
    readonly cidr: string | null;
  }[];
}

export interface Probe {
  /** "yes" (root), "sudo" (passwordless sudo), "no" */
  readonly root: "yes" | "sudo" | "no";
  /** "debian 12" */
  readonly os: string;
  readonly osName: string;
  readonly systemd: boolean;
  /** "v18.19.0" or "none" */
  readonly node: string;
  readonly installed: {
    readonly bundleSha256: string | undefined;
    readonly launcherSha256: string | undefined;
    readonly configSha256: string | undefined;
    readonly unitSha256: string | undefined;
    readonly version: string | undefined;
  };
  readonly service: { readonly active: string; readonly enabled: string };
  readonly status: AgentStatusSummary | undefined;
  readonly interfaces: readonly ProbedInterface[];
}

function kv(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) map.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return map;
}

const orUndefined = (s: string | undefined): string | undefined =>
  s === undefined || s === "" ? undefined : s;

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  dynamic?: boolean;
  valid_life_time?: number;
}

// iproute2 prints this for "forever" (INFINITY_LIFE_TIME in the kernel's if_addr.h)
const INFINITY_LIFE_TIME = 4294967295;

function parseAddresses(json: string | undefined): ProbedAddress[] {
  if (!json) return [];
  let links: { addr_info?: IpAddrInfo[] }[];
  try {
    links = JSON.parse(json) as { addr_info?: IpAddrInfo[] }[];
  } catch {
    return [];
  }
  return links.flatMap((link) =>
    (link.addr_info ?? [])
      .filter((a) => a.family === "inet" && a.local !== undefined)
      .map((a) => ({
        cidr: `${a.local}/${a.prefixlen ?? 32}`,
        validLft:
          a.valid_life_time === undefined || a.valid_life_time === INFINITY_LIFE_TIME
            ? ("forever" as const)
            : a.valid_life_time,
        dynamic: a.dynamic === true,
      })),
  );
}

function parseStatus(json: string | undefined): AgentStatusSummary | undefined {
  if (!json) return undefined;
  try {
    const doc = JSON.parse(json) as {
      agent?: { running?: boolean; version?: string };
      attachments?: { interface: string; state: string; cidr: string | null }[];
    };
    return {
      running: doc.agent?.running === true,
      version: doc.agent?.version,
      attachments: (doc.attachments ?? []).map((a) => ({
        interface: a.interface,
        state: a.state,
        cidr: a.cidr,
      })),
    };
  } catch {
    return undefined;
  }
}

/**
 * The agent's status file as the probe read it itself (no Node.js start): validated as
 * `holdfast status` validates it; whether the agent runs was decided on the node (pid alive,
 * heartbeat fresh), for the pid the file names.
 */
function parseStatusFile(map: Map<string, string>): AgentStatusSummary | undefined {
  const text = orUndefined(map.get("status_file"));
  if (text === undefined) return undefined;
  let doc;
  try {
    doc = parseStatusDocument(text);
  } catch {
    return undefined; // as `holdfast status` failing: no status
  }
  return {
    running: map.get("status_running") === "yes" && map.get("status_pid") === String(doc.agent.pid),
    version: doc.agent.version,
    attachments: doc.attachments.map((a) => ({ interface: a.interface, state: a.state, cidr: a.cidr })),
  };
}

/** "312:dhclient-pn0.service 400: " → [{ pid: 312, unit: "dhclient-pn0.service" }, { pid: 400 }] */
function parseClients(text: string | undefined): { pid: number; unit: string | undefined }[] {
  return (text ?? "")
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => {
      const [pid = "", unit = ""] = word.split(":");
      return { pid: Number(pid), unit: orUndefined(unit) };
    });
}

function describeClient(kind: string, clients: { pid: number; unit: string | undefined }[]): string {
  return clients.map((c) => `${kind} pid ${c.pid}${c.unit ? ` (${c.unit})` : ""}`).join(", ");
}

const MANAGED = /^(configur|connect|degraded|routable)/;

function interfaceOf(
  name: string,
  map: Map<string, string>,
  status: AgentStatusSummary | undefined,
): ProbedInterface {
  const key = (k: string) => map.get(`if.${name}.${k}`);
  if (key("exists") !== "yes")
    return { name, holder: "absent", detail: "no such interface", addresses: [], clientUnit: undefined };
  const addresses = parseAddresses(key("addr"));
  const ifupdownFiles = (key("ifupdown") ?? "").split(/\s+/).filter(Boolean);
  const base = { name, addresses, ...(ifupdownFiles.length > 0 ? { ifupdownFiles } : {}) };
  const shown = addresses.map((a) => a.cidr).join(", ");
  const dhclient = parseClients(key("dhclient"));
  if (dhclient.length > 0)
    return {
      ...base,
      holder: "dhclient",
      detail: describeClient("dhclient", dhclient),
      clientUnit: dhclient[0]?.unit,
    };
  const dhcpcd = parseClients(key("dhcpcd"));
  if (dhcpcd.length > 0)
    return {
      ...base,
      holder: "dhcpcd",
      detail: describeClient("dhcpcd", dhcpcd),
      clientUnit: dhcpcd[0]?.unit,
    };
  // one dhcpcd serving every interface (no interface argument): it keeps the others
  const manager = parseClients(key("dhcpcd_manager"))[0];
  if (manager !== undefined)
    return {
      ...base,
      holder: "dhcpcd",
      detail: `dhcpcd manager pid ${manager.pid}${manager.unit ? ` (${manager.unit})` : ""}, serving every interface`,
      clientUnit: undefined,
      dhcpcdManager: manager,
    };
  // after the clients: a DHCP client still running beside the agent must be retired
  const held = status?.running ? status.attachments.find((a) => a.interface === name) : undefined;
  if (held?.state === "held")
    return {
      ...base,
      holder: "holdfast",
      detail: `holdfast holds ${held.cidr ?? shown}`,
      clientUnit: undefined,
    };
  const networkd = key("networkd");
  if (networkd !== undefined && MANAGED.test(networkd))
    return { ...base, holder: "networkd", detail: `systemd-networkd (${networkd})`, clientUnit: undefined };
  const nm = key("networkmanager");
  if (nm !== undefined && MANAGED.test(nm))
    return { ...base, holder: "networkmanager", detail: `NetworkManager (${nm})`, clientUnit: undefined };
  if (addresses.length === 0)
    return { ...base, holder: "nothing", detail: "no address", clientUnit: undefined };
  if (addresses.some((a) => a.validLft !== "forever"))
    return {
      ...base,
      holder: "orphan-lease",
      detail: "an expiring lease, no client renews it",
      clientUnit: undefined,
    };
  return { ...base, holder: "static", detail: "static, no client", clientUnit: undefined };
}

/** Turns the probe snippet's output into a Probe; throws when the output is cut short. */
export function parseProbe(stdout: string, interfaces: readonly string[]): Probe {
  const map = kv(stdout);
  if (map.get("end") !== "yes") throw new Error("probe output is incomplete");
  const root = map.get("root");
  const status = map.has("status_file") ? parseStatusFile(map) : parseStatus(orUndefined(map.get("status")));
  return {
    root: root === "yes" || root === "sudo" ? root : "no",
    os: map.get("os") ?? "unknown",
    osName: map.get("os_name") ?? "",
    systemd: map.get("systemd") === "yes",
    node: map.get("node") || "none",
    installed: {
      bundleSha256: orUndefined(map.get("bundle_sha256")),
      launcherSha256: orUndefined(map.get("launcher_sha256")),
      configSha256: orUndefined(map.get("config_sha256")),
      unitSha256: orUndefined(map.get("unit_sha256")),
      version: orUndefined(map.get("version")) ?? status?.version,
    },
    service: {
      active: map.get("service_active") || "unknown",
      enabled: map.get("service_enabled") || "unknown",
    },
    status,
    interfaces: interfaces.map((name) => interfaceOf(name, map, status)),
  };
}

/** Probes one host over ssh. Read-only. Throws with ssh's own reason when it cannot. */
export async function probeHost(
  target: SshTarget,
  interfaces: readonly string[],
  options: SshOptions & { readonly timeoutMs: number },
  agent?: ProbedAgent,
): Promise<Probe> {
  const result = await runRemoteScript(target, probeScript(interfaces, agent), options);
  if (result.code !== 0) {
    throw new HoldfastError(
      `${result.sshFailed ? "unreachable" : "probe failed"}: ${lastErrorLine(result)}`,
      {
        code: "failure",
        cause: new RemoteCommandError(result),
      },
    );
  }
  return parseProbe(result.stdout, interfaces);
}
