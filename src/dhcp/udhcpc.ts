import { run } from "../util/exec.js";
import type { DhcpAdapter } from "./lease.js";
import {
  confirmExchange,
  exchange,
  findExecutable,
  programPath,
  runnerOf,
  type AdapterOptions,
  type ExchangeSpec,
} from "./exchange.js";
import { parseClasslessPairs, toLease } from "./parse.js";

/**
 * busybox udhcpc: `-q` quits after the first lease and `-n` exits when none came, so one
 * run is exactly one exchange. It calls its script with the event as $1 ("deconfig" first,
 * then "bound"); ours ignores everything but the lease, so nothing gets configured.
 */
export const udhcpcExchange: ExchangeSpec = {
  client: "udhcpc",
  hook: {
    reason: "$1",
    leaseReasons: ["bound", "renew"],
    // mask is the prefix length (busybox >= 1.21), subnet the dotted fallback
    variables: ["interface", "ip", "mask", "subnet", "serverid", "lease", "router", "staticroutes"],
    endGroup: false,
  },
  programs: ["busybox"],
  command: ({ iface, hookPath, clientTimeoutS, programs, request }) =>
    Promise.resolve({
      file: programPath(programs, "busybox"),
      args: [
        "udhcpc",
        ...["-f"], // foreground: stays in the exchange's process group
        ...["-q", "-n"],
        ...["-t", String(clientTimeoutS), "-T", "1"], // discover attempts, one second apart
        ...["-i", iface],
        ...["-s", hookPath],
        ...["-O", "staticroutes"], // ask for option 121
        // confirm: DISCOVER with option 50 for the held address, then REQUEST what the
        // server offers; it ends with the server's ACK, so the server's lease is renewed
        ...(request === undefined ? [] : ["-r", request.ip]),
      ],
    }),
  noAnswer: /no lease, failing/,
  // busybox prints no server with it
  nak: /received DHCP NAK()/,
  parse: (v) =>
    toLease(
      {
        ip: v.get("ip"),
        prefix: v.get("mask") || v.get("subnet"),
        server: v.get("serverid"),
        leaseSeconds: v.get("lease"),
        routers: v.get("router"),
        classless: v.get("staticroutes") ? parseClasslessPairs(v.get("staticroutes") ?? "") : undefined,
      },
      "udhcpc",
    ),
};

export function createUdhcpcAdapter(options?: AdapterOptions): DhcpAdapter {
  const runner = runnerOf(options);
  return {
    name: "udhcpc",
    async available() {
      const busybox = await findExecutable("busybox");
      if (busybox === undefined) return false;
      // busybox builds without the applet exist (e.g. busybox-static variants)
      const list = await run(busybox, ["--list"], { timeoutMs: 5000 }).catch(() => undefined);
      return list?.code === 0 && list.stdout.split("\n").includes("udhcpc");
    },
    discover: (iface, discoverOptions) => exchange(runner, iface, discoverOptions, udhcpcExchange),
    confirm: (iface, confirmOptions) => confirmExchange(runner, iface, confirmOptions, udhcpcExchange),
  };
}
