import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { NetEvent, NetEventKind } from "./backend.js";

// `ip -o monitor` prints "[Deleted ]<ifindex>: <ifname>[@peer]: …" for links and addresses,
// and "… dev <ifname> …" for routes.
const INDEXED = /^(Deleted )?\d+: ([^\s:@]+)/;
const ROUTE_DEV = / dev ([^\s]+)/;

export function parseMonitorLine(line: string): NetEvent | undefined {
  const text = line.trimEnd();
  if (text === "") return undefined;
  const indexed = INDEXED.exec(text);
  if (indexed) {
    const kind: NetEventKind = / inet6? /.test(text) ? "address" : "link";
    const address = / inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(text)?.[1];
    return {
      kind,
      interface: indexed[2],
      deleted: indexed[1] !== undefined,
      ...(address ? { address, permanent: /valid_lft forever preferred_lft forever/.test(text) } : {}),
      raw: text,
    };
  }
  const dev = ROUTE_DEV.exec(text);
  return { kind: "route", interface: dev?.[1], deleted: text.startsWith("Deleted "), raw: text };
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
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => {
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
