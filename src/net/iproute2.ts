import { run as defaultRun, runChecked, type Runner } from "../util/exec.js";
import { IpBatch } from "./batch.js";
import type { AddressInfo, InterfaceState, LinkInfo, NetBackend, RouteSpec } from "./backend.js";
import { fromKernelRoute, type KernelRoute } from "./route.js";

// The kernel reports an infinite lifetime as INFINITY_LIFE_TIME (0xFFFFFFFF), include/net/addrconf.h.
const INFINITY_LIFE_TIME = 0xffffffff;

interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  address?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
  addr_info?: {
    family: string;
    local: string;
    prefixlen: number;
    valid_life_time?: number;
    preferred_life_time?: number;
  }[];
}

interface IpRoute extends KernelRoute {
  dev?: string;
}

const lifetime = (value: number | undefined): number | "forever" =>
  value === undefined || value >= INFINITY_LIFE_TIME ? "forever" : value;

function toLink(raw: IpLink): LinkInfo {
  return {
    name: raw.ifname,
    index: raw.ifindex,
    up: raw.flags?.includes("UP") ?? false,
    mac: raw.address ?? "",
    kind: raw.linkinfo?.info_kind,
    vlanId: raw.linkinfo?.info_kind === "vlan" ? raw.linkinfo.info_data?.id : undefined,
    parent: raw.link,
  };
}

function toAddresses(raw: IpLink): AddressInfo[] {
  return (raw.addr_info ?? [])
    .filter((a) => a.family === "inet")
    .map((a) => ({
      cidr: `${a.local}/${a.prefixlen}`,
      validLft: lifetime(a.valid_life_time),
      preferredLft: lifetime(a.preferred_life_time),
    }));
}

function parseJson<T>(text: string): T[] {
  const trimmed = text.trim();
  return trimmed === "" ? [] : (JSON.parse(trimmed) as T[]);
}

/** The hold itself: no expiry, so no lease timer in the kernel can ever drop the address. */
const holdArgs = (name: string, cidr: string): string[] => [
  "addr",
  "replace",
  cidr,
  "dev",
  name,
  "valid_lft",
  "forever",
  "preferred_lft",
  "forever",
];

const routeArgs = (route: RouteSpec): string[] => [
  route.dst,
  ...(route.via ? ["via", route.via] : []),
  ...(route.metric !== undefined ? ["metric", String(route.metric)] : []),
];

/** The real backend: iproute2's JSON output, one `ip` process per call. */
export class Iproute2Backend implements NetBackend {
  private readonly batch: IpBatch;

  constructor(
    private readonly runner: Runner = defaultRun,
    private readonly ip = "ip",
  ) {
    this.batch = new IpBatch(ip);
  }

  replaceAddressSoon(name: string, cidr: string): boolean {
    return this.batch.write(holdArgs(name, cidr));
  }

  /** Starts the batch process now rather than on the first restore. */
  warm(): void {
    this.batch.warm();
  }

  close(): void {
    this.batch.close();
  }

  private async ip$(args: readonly string[]): Promise<string> {
    return runChecked(this.runner, this.ip, args, { timeoutMs: 10_000 });
  }

  async readInterface(name: string): Promise<InterfaceState | undefined> {
    const result = await this.runner(this.ip, ["-j", "-d", "addr", "show", "dev", name], {
      timeoutMs: 10_000,
    });
    if (result.code !== 0) {
      if (/does not exist|Cannot find device/i.test(result.stderr)) return undefined;
      throw new Error(`${result.command}: ${result.stderr.trim() || `exit ${result.code}`}`);
    }
    const raw = parseJson<IpLink>(result.stdout)[0];
    return raw ? { link: toLink(raw), addresses: toAddresses(raw) } : undefined;
  }

  async listLinks(): Promise<readonly LinkInfo[]> {
    return parseJson<IpLink>(await this.ip$(["-j", "-d", "link", "show"])).map(toLink);
  }

  async defaultRouteInterface(): Promise<string | undefined> {
    const routes = parseJson<IpRoute>(await this.ip$(["-j", "-4", "route", "show", "default"]));
    return routes.find((r) => r.dev !== undefined)?.dev;
  }

  async addVlan(name: string, parent: string, vlanId: number): Promise<void> {
    await this.ip$(["link", "add", "link", parent, "name", name, "type", "vlan", "id", String(vlanId)]);
  }

  async setUp(name: string): Promise<void> {
    await this.ip$(["link", "set", "dev", name, "up"]);
  }

  async replaceAddress(name: string, cidr: string): Promise<void> {
    await this.ip$(holdArgs(name, cidr));
  }

  async removeAddress(name: string, cidr: string): Promise<void> {
    // no read first: one call, and no window between a read and the delete
    const result = await this.runner(this.ip, ["addr", "del", cidr, "dev", name], { timeoutMs: 10_000 });
    if (result.code === 0) return;
    // EADDRNOTAVAIL: somebody (the kernel with its link) removed it first; no device: nor is its link there
    if (
      !result.timedOut &&
      /Cannot assign requested address|does not exist|Cannot find device/i.test(result.stderr)
    )
      return;
    const why = result.timedOut
      ? "timed out"
      : result.stderr.trim() || `exit ${result.code ?? result.signal}`;
    throw new Error(`${result.command}: ${why}`);
  }

  async listRoutes(name: string): Promise<readonly RouteSpec[]> {
    const routes = parseJson<IpRoute>(await this.ip$(["-j", "-4", "route", "show", "dev", name]));
    return routes.map(fromKernelRoute).filter((r): r is RouteSpec => r !== undefined);
  }

  async replaceRoute(name: string, route: RouteSpec): Promise<void> {
    await this.ip$(["route", "replace", ...routeArgs(route), "dev", name]);
  }
}
