import { shellQuote } from "../render/shell.js";
import type { AddressSample } from "../harness/address-watch.js";
import type { GuestAgent } from "./qga.js";

/**
 * An address watcher inside a node VM, for the timelines: a small Node script that logs
 * `<epoch ms> <1|0>` whenever the interface gains or loses its IPv4 address (checked every
 * 50 ms; reading interfaces is one netlink dump). Started after each boot, once the guest
 * agent answers; its log lives in /run, so each boot starts a fresh one.
 */
const LOG = "/run/holdfast-prove-address.log";

const WATCHER = `import { networkInterfaces } from "node:os";
import { appendFileSync } from "node:fs";
const [ifname, log] = process.argv.slice(2);
let last;
setInterval(() => {
  const now = (networkInterfaces()[ifname] ?? []).some((a) => a.family === "IPv4") ? 1 : 0;
  if (now !== last) appendFileSync(log, Date.now() + " " + now + "\\n");
  last = now;
}, 50);
`;

export async function startAddressWatch(agent: GuestAgent, ifname: string): Promise<void> {
  await agent.run(
    [
      `printf '%s' ${shellQuote(WATCHER)} > /run/holdfast-prove-watch.mjs`,
      `systemd-run --quiet --unit=prove-address-watch node /run/holdfast-prove-watch.mjs ${shellQuote(ifname)} ${LOG}`,
    ].join("\n"),
  );
}

/** The samples so far, moved to the host's clock (guestMinusHostMs from the guest agent). */
export async function readAddressWatch(
  agent: GuestAgent,
  guestMinusHostMs: number,
): Promise<AddressSample[]> {
  const out = await agent.sh(`cat ${LOG} 2>/dev/null`);
  return out.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [t, present] = line.split(" ");
      return { t: Number(t) - guestMinusHostMs, present: present === "1" };
    });
}

/** guest clock minus host clock, ms (guests start from the host's RTC; this makes it exact enough). */
export async function clockOffset(agent: GuestAgent): Promise<number> {
  const before = Date.now();
  const out = await agent.run("date +%s%3N");
  const after = Date.now();
  return Number(out.trim()) - (before + after) / 2;
}
