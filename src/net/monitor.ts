import { spawn, type ChildProcess } from "node:child_process";
import type { NetEvent, NetEventKind } from "./backend.js";
import { onLines } from "../util/lines.js";

// `ip -o monitor` prints "[Deleted ]<ifindex>: <ifname>[@peer]: …" for links and addresses,
// and "… dev <ifname> …" for routes. With `-ts` each line starts with "[<local time>.<µs>]";
// run it with TZ=UTC so that time reads as UTC.
const STAMP = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\]\s*/;
const INDEXED = /^(Deleted )?\d+: ([^\s:@]+)/;
const ROUTE_DEV = / dev ([^\s]+)/;

/** One line of `ip -o [-ts] monitor`; undefined for a blank line. */
export function parseMonitorLine(line: string): NetEvent | undefined {
  let text = line.trimEnd();
  const stamp = STAMP.exec(text);
  // epoch ms with the µs the stamp carries, so sub-millisecond restores are not rounded away
  const at = stamp ? Date.parse(`${stamp[1]}Z`) + Number(`0.${stamp[2] ?? "0"}`) * 1000 : undefined;
  if (stamp) text = text.slice(stamp[0].length);
  if (text === "") return undefined;
  const timed = at === undefined ? {} : { at };
  const indexed = INDEXED.exec(text);
  if (indexed) {
    const kind: NetEventKind = / inet6? /.test(text) ? "address" : "link";
    const address = / inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(text)?.[1];
    return {
      kind,
      interface: indexed[2],
      deleted: indexed[1] !== undefined,
      ...(address ? { address, permanent: /valid_lft forever preferred_lft forever/.test(text) } : {}),
      ...timed,
      raw: text,
    };
  }
  const dev = ROUTE_DEV.exec(text);
  return { kind: "route", interface: dev?.[1], deleted: text.startsWith("Deleted "), ...timed, raw: text };
}

export interface MonitorHandle {
  stop(): void;
}

/**
 * Streams rtnetlink changes from `ip -o monitor address link route`. The stream is a hint
 * only (it can drop or coalesce under load); consumers reconcile from the real state.
 */
export function startMonitor(
  onEvent: (event: NetEvent) => void,
  onExit: (reason: string) => void,
  ip = "ip",
): MonitorHandle {
  let stopped = false;
  const child: ChildProcess = spawn(ip, ["-o", "monitor", "address", "link", "route"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  onLines(child.stdout!, (line) => {
    if (stopped) return;
    const event = parseMonitorLine(line);
    if (event) onEvent(event);
  });
  child.on("error", (error) => {
    if (!stopped) onExit(error.message);
  });
  child.on("exit", (code, signal) => {
    if (!stopped) onExit(stderr.trim() || `ip monitor exited (${code ?? signal})`);
  });
  return {
    stop() {
      stopped = true;
      child.kill("SIGTERM");
    },
  };
}
