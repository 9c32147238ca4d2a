import { DHCPCD_CONF } from "../render/dhcpcd-manager.js";
import { NODE_PATHS } from "../render/paths.js";
import type { Desired } from "./desired.js";
import type { Probe, ProbedInterface } from "./probe.js";

/**
 * What converge will do on a host, and why: a pure function of what the probe saw and
 * what the render spec asks for, so it is the same in `--dry-run` and in a real run.
 */
export type PlanKind = "install" | "upgrade" | "reconfigure" | "unchanged";

/** An address a DHCP client (or nobody) keeps today that the agent takes over without a gap. */
export interface Adoption {
  readonly interface: string;
  readonly cidr: string;
  /** "dhclient pid 312 (dhclient-pn0.service)" */
  readonly from: string;
}

export interface Plan {
  readonly kind: PlanKind;
  /** one line each, for people: "config differs", "pn0: held by dhclient pid 312 (…)" */
  readonly reasons: readonly string[];
  readonly adopt: readonly Adoption[];
  /** why it cannot be applied at all (no root, no systemd); empty when it can */
  readonly blockers: readonly string[];
}

const CLIENTS: ReadonlySet<string> = new Set(["dhclient", "dhcpcd", "networkd", "networkmanager"]);

// oldest Node.js the bundle runs on (package.json engines)
const MIN_NODE_MAJOR = 18;

function nodeMajor(version: string): number | undefined {
  const m = /^v(\d+)\./.exec(version);
  return m ? Number(m[1]) : undefined;
}

function short(sha: string | undefined): string {
  return sha === undefined ? "none" : sha.slice(0, 12);
}

/** What the install script does to the old holder once the address is cached (src/render/install-activate.ts). */
function takeover(probed: ProbedInterface): string {
  const files = probed.ifupdownFiles ?? [];
  const stanza =
    files.length === 0
      ? ""
      : `, set "iface ${probed.name} inet dhcp" to manual in ${files.join(", ")} (backup beside it)`;
  // ifupdown's dhclient is its own daemon in a oneshot unit (networking.service, ifup@):
  // the script kills it, it never disables that unit
  const client =
    stanza !== "" && probed.holder === "dhclient"
      ? ", then kill its dhclient without a release"
      : clientTakeover(probed);
  return `${stanza}${client}`;
}

function clientTakeover(probed: ProbedInterface): string {
  const manager = probed.dhcpcdManager;
  if (manager !== undefined)
    return (
      `, add "denyinterfaces ${probed.name}" to ${DHCPCD_CONF} (backup beside it), ` +
      `then tell dhcpcd pid ${manager.pid} to let go of ${probed.name} without a release (-p -x ${probed.name}); ` +
      `${manager.unit ?? "it"} keeps serving the other interfaces`
    );
  switch (probed.holder) {
    case "dhclient":
    case "dhcpcd":
      return probed.clientUnit === undefined
        ? `, then kill ${probed.holder} without a release`
        : `, then disable ${probed.clientUnit} and kill its ${probed.holder} without a release`;
    case "networkd":
      return `, then write ${NODE_PATHS.networkd} (Unmanaged=yes; networkd lets go at its next start)`;
    case "networkmanager":
      return `, then write ${NODE_PATHS.networkManager} (unmanaged-devices) and restart NetworkManager (it lets go of ${probed.name} and leaves its address)`;
    default:
      return "";
  }
}

function interfaceReason(probed: ProbedInterface, desired: Desired): { reason?: string; adopt?: Adoption } {
  if (probed.holder === "holdfast") return {};
  const attachment = desired.spec.agent.config.attachments.find((a) => a.interface === probed.name);
  const dynamic = probed.addresses.find((a) => a.dynamic || a.validLft !== "forever") ?? probed.addresses[0];
  switch (probed.holder) {
    case "absent":
      return {
        reason: `${probed.name}: does not exist yet${attachment?.link.kind === "vlan" ? " (the agent creates the VLAN)" : ""}`,
      };
    case "nothing":
      return { reason: `${probed.name}: no address yet (the agent discovers it)` };
    default: {
      if (attachment?.address.source === "static" || dynamic === undefined)
        return { reason: `${probed.name}: held by ${probed.detail}; the agent takes over` };
      const how = CLIENTS.has(probed.holder) ? `held by ${probed.detail}` : `(${probed.detail})`;
      return {
        reason: `${probed.name}: ${dynamic.cidr} ${how}; adopt it${takeover(probed)}`,
        adopt: { interface: probed.name, cidr: dynamic.cidr, from: probed.detail },
      };
    }
  }
}

export function planHost(probe: Probe, desired: Desired): Plan {
  const blockers: string[] = [];
  if (probe.root === "no") blockers.push("needs root: ssh as root or as a user with passwordless sudo");
  if (!probe.systemd) blockers.push("needs a running systemd (no /run/systemd/system)");

  const reasons: string[] = [];
  const { installed } = probe;
  const nothingInstalled =
    installed.bundleSha256 === undefined &&
    installed.launcherSha256 === undefined &&
    installed.unitSha256 === undefined &&
    installed.configSha256 === undefined;

  let kind: PlanKind = "unchanged";
  if (nothingInstalled) {
    kind = "install";
    reasons.push(`holdfast not installed: install ${desired.version}`);
  } else {
    const bundleDiffers =
      desired.bundleSha256 !== undefined
        ? installed.bundleSha256 !== desired.bundleSha256
        : installed.version !== desired.version;
    if (bundleDiffers) {
      kind = "upgrade";
      const from = installed.version ?? "unknown version";
      reasons.push(
        from === desired.version
          ? `bundle ${short(installed.bundleSha256)} → ${short(desired.bundleSha256)} (same version ${from})`
          : `holdfast ${from} → ${desired.version}`,
      );
    }
    const differs: string[] = [];
    if (installed.configSha256 !== desired.configSha256) differs.push("config");
    if (installed.unitSha256 !== desired.unitSha256) differs.push("unit");
    if (installed.launcherSha256 !== desired.launcherSha256) differs.push("launcher");
    if (differs.length > 0) {
      if (kind === "unchanged") kind = "reconfigure";
      reasons.push(`${differs.join(", ")} differ${differs.length === 1 ? "s" : ""}`);
    }
    if (probe.service.active !== "active" || probe.service.enabled !== "enabled") {
      if (kind === "unchanged") kind = "reconfigure";
      reasons.push(`holdfast.service is ${probe.service.active}, ${probe.service.enabled}`);
    }
  }

  const major = nodeMajor(probe.node);
  if (major === undefined || major < MIN_NODE_MAJOR)
    reasons.push(
      `Node.js ${probe.node}: the script installs the distribution's nodejs (needs >= ${MIN_NODE_MAJOR})`,
    );

  const adopt: Adoption[] = [];
  for (const probed of probe.interfaces) {
    const { reason, adopt: adoption } = interfaceReason(probed, desired);
    if (reason === undefined) continue;
    if (kind === "unchanged") kind = "reconfigure";
    reasons.push(reason);
    if (adoption) adopt.push(adoption);
  }
  if (kind === "unchanged")
    reasons.push(`holdfast ${desired.version} holds ${probe.interfaces.map((i) => i.name).join(", ")}`);
  return { kind, reasons, adopt, blockers };
}
