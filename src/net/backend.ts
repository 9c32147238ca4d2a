/**
 * All kernel network access goes through this one small interface (dhcpcd's `if.c` vs
 * `if-linux.c`): the agent and the lab use the iproute2 implementation, unit tests a fake.
 */

export interface LinkInfo {
  readonly name: string;
  readonly index: number;
  /** administratively up (IFF_UP) */
  readonly up: boolean;
  readonly mac: string;
  /** rtnetlink kind from `ip -d`: "vlan", "veth", "bridge", … ; undefined for physical NICs */
  readonly kind: string | undefined;
  /** VLAN id when kind is "vlan" */
  readonly vlanId: number | undefined;
  /** ifname of the lower device (VLAN parent, veth peer's netns aside) */
  readonly parent: string | undefined;
}

export interface AddressInfo {
  readonly cidr: string;
  /** seconds, or "forever" */
  readonly validLft: number | "forever";
  readonly preferredLft: number | "forever";
}

export interface RouteSpec {
  /** "default" or an IPv4 CIDR */
  readonly dst: string;
  readonly via?: string;
  readonly metric?: number;
}

/** A link and its IPv4 addresses, read in one go. */
export interface InterfaceState {
  readonly link: LinkInfo;
  readonly addresses: readonly AddressInfo[];
}

export interface NetBackend {
  /** undefined when no such interface exists */
  readInterface(name: string): Promise<InterfaceState | undefined>;
  listLinks(): Promise<readonly LinkInfo[]>;
  /** ifname of the IPv4 default route, if any */
  defaultRouteInterface(): Promise<string | undefined>;
  addVlan(name: string, parent: string, vlanId: number): Promise<void>;
  setUp(name: string): Promise<void>;
  /** `ip addr replace <cidr> dev <name> valid_lft forever preferred_lft forever` */
  replaceAddress(name: string, cidr: string): Promise<void>;
  /**
   * The same, queued to the kernel without waiting (no process spawned); false when that is
   * not possible and the caller should use replaceAddress. Only an optimisation: callers
   * confirm by reading the state.
   */
  replaceAddressSoon?(name: string, cidr: string): boolean;
  /**
   * `ip addr del <cidr> dev <name>`; an address (or link) already gone is not an error. Only
   * ever for an address the agent held and moved away from (make-before-break) or gave up to
   * another host (onConflict yield), never on stop.
   */
  removeAddress(name: string, cidr: string): Promise<void>;
  /** releases long-lived helpers (the batch process) */
  close?(): void;
  listRoutes(name: string): Promise<readonly RouteSpec[]>;
  replaceRoute(name: string, route: RouteSpec): Promise<void>;
}

export type NetEventKind = "address" | "link" | "route";

export interface NetEvent {
  readonly kind: NetEventKind;
  /** interface the event is about, when the line names one */
  readonly interface: string | undefined;
  /** Deleted / removed (the line started with "Deleted") */
  readonly deleted: boolean;
  /** for IPv4 address events: the CIDR */
  readonly address?: string;
  /** for IPv4 address events: valid and preferred lifetimes are both forever */
  readonly permanent?: boolean;
  /** epoch ms (with µs) when the line carried an `ip -ts` stamp */
  readonly at?: number;
  readonly raw: string;
}
