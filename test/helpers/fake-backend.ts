import type { AddressInfo, InterfaceState, LinkInfo, NetBackend, RouteSpec } from "../../src/net/backend.js";

/** An in-memory kernel for unit tests of one module; records every change it is asked for. */
export class FakeBackend implements NetBackend {
  readonly ops: string[] = [];
  links = new Map<string, LinkInfo>();
  addresses = new Map<string, AddressInfo[]>();
  routes = new Map<string, RouteSpec[]>();
  defaultRoute: string | undefined;
  failNext: string | undefined;
  /** readInterface calls so far */
  reads = 0;
  private nextIndex = 10;

  addLink(name: string, mac: string, extra: Partial<LinkInfo> = {}): LinkInfo {
    const link: LinkInfo = {
      name,
      index: this.nextIndex++,
      up: true,
      mac,
      kind: undefined,
      vlanId: undefined,
      parent: undefined,
      ...extra,
    };
    this.links.set(name, link);
    return link;
  }

  deleteLink(name: string): void {
    this.links.delete(name);
    this.addresses.delete(name);
    this.routes.delete(name);
  }

  async readInterface(name: string): Promise<InterfaceState | undefined> {
    this.reads++;
    const link = this.links.get(name);
    return link ? { link, addresses: [...(this.addresses.get(name) ?? [])] } : undefined;
  }

  async listLinks(): Promise<readonly LinkInfo[]> {
    return [...this.links.values()];
  }

  async defaultRouteInterface(): Promise<string | undefined> {
    return this.defaultRoute;
  }

  private fail(op: string): void {
    this.ops.push(op);
    if (this.failNext && op.startsWith(this.failNext)) {
      this.failNext = undefined;
      throw new Error(`RTNETLINK answers: Operation not permitted (${op})`);
    }
  }

  async addVlan(name: string, parent: string, vlanId: number): Promise<void> {
    this.fail(`link add link ${parent} name ${name} type vlan id ${vlanId}`);
    const lower = this.links.get(parent);
    if (!lower) throw new Error(`Cannot find device "${parent}"`);
    this.addLink(name, lower.mac, { kind: "vlan", vlanId, parent, up: false });
  }

  async setUp(name: string): Promise<void> {
    this.fail(`link set dev ${name} up`);
    const link = this.links.get(name);
    if (link) this.links.set(name, { ...link, up: true });
  }

  async replaceAddress(name: string, cidr: string): Promise<void> {
    this.fail(`addr replace ${cidr} dev ${name} valid_lft forever preferred_lft forever`);
    const others = (this.addresses.get(name) ?? []).filter((a) => a.cidr !== cidr);
    this.addresses.set(name, [...others, { cidr, validLft: "forever", preferredLft: "forever" }]);
  }

  /** like the real backend's batch process: applied without an awaited call */
  replaceAddressSoon(name: string, cidr: string): boolean {
    if (!this.links.has(name)) return true; // queued; the kernel would refuse it
    this.ops.push(`batch addr replace ${cidr} dev ${name} valid_lft forever preferred_lft forever`);
    const others = (this.addresses.get(name) ?? []).filter((a) => a.cidr !== cidr);
    this.addresses.set(name, [...others, { cidr, validLft: "forever", preferredLft: "forever" }]);
    return true;
  }

  async removeAddress(name: string, cidr: string): Promise<void> {
    this.fail(`addr del ${cidr} dev ${name}`);
    this.addresses.set(
      name,
      (this.addresses.get(name) ?? []).filter((a) => a.cidr !== cidr),
    );
  }

  async listRoutes(name: string): Promise<readonly RouteSpec[]> {
    return [...(this.routes.get(name) ?? [])];
  }

  async replaceRoute(name: string, route: RouteSpec): Promise<void> {
    this.fail(`route replace ${route.dst}${route.via ? ` via ${route.via}` : ""} dev ${name}`);
    this.routes.set(name, [...(this.routes.get(name) ?? []), route]);
  }
}
