import { join } from "node:path";
import { run, runChecked } from "../util/exec.js";
import { startKea, type KeaOptionData, type KeaServer } from "./kea.js";
import { DHCP_POOL, DHCP_SERVER_IP, LAB_SUBNET, METADATA_IP, type Topology } from "./topology.js";

/**
 * RFC 3442 classless static route 169.254.169.254/32 via 198.18.0.1, as hex: width 32, the
 * four destination octets, the router. Without it a client's unicast renewal to the server
 * identifier (169.254.169.254, as on Scaleway) has no route, the renewal fails with ENETUNREACH
 * and even a healthy server looks silent: the baseline would already be the incident.
 */
export function metadataRouteOption(): KeaOptionData {
  const octets = [32, ...METADATA_IP.split(".").map(Number), ...DHCP_SERVER_IP.split(".").map(Number)];
  return {
    code: 121,
    "csv-format": false,
    data: octets.map((o) => o.toString(16).padStart(2, "0")).join(""),
  };
}

/** The interface of the dhcp namespace that carries the server address (the topology's dh0). */
async function serverInterface(topo: Topology): Promise<string> {
  const out = await runChecked(run, "ip", ["-n", topo.dhcp.name, "-j", "-4", "addr", "show"], {
    timeoutMs: 10_000,
  });
  const links = JSON.parse(out) as { ifname: string; addr_info?: { local: string }[] }[];
  const link = links.find((l) => (l.addr_info ?? []).some((a) => a.local === DHCP_SERVER_IP));
  if (!link) throw new Error(`no interface with ${DHCP_SERVER_IP} in ${topo.dhcp.name}`);
  return link.ifname;
}

/**
 * Starts the lab's DHCP server: the topology's Kea with the metadata route added. The
 * topology is built with startKea: false and the server recorded on it, so its teardown,
 * silence() and resume() work as for a server the topology started itself.
 */
export async function startLabServer(topo: Topology, leaseSeconds: number): Promise<KeaServer> {
  if (topo.kea !== undefined) throw new Error(`DHCP server already running in ${topo.dhcp.name}`);
  const kea = await startKea(topo.dhcp, {
    interface: await serverInterface(topo),
    leaseSeconds,
    subnet: LAB_SUBNET,
    pool: DHCP_POOL,
    reservations: topo.nodes.map((node) => ({ mac: node.mac, ip: node.ip })),
    workDir: join(topo.workDir, "kea"),
    optionData: [metadataRouteOption()],
  });
  topo.kea = kea;
  await kea.waitReady();
  return kea;
}
