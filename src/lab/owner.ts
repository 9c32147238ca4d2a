import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listNamespaces, Netns } from "./netns.js";

/** One file per running lab: its namespace prefix → its pid, so `--clean` spares live runs. */
const OWNER_DIR = "/run/holdfast-lab";

/** Records that this process owns every namespace starting with runPrefix; returns the undo. */
export function registerRun(runPrefix: string): () => void {
  mkdirSync(OWNER_DIR, { recursive: true });
  const file = join(OWNER_DIR, runPrefix);
  writeFileSync(file, `${process.pid}\n`);
  return () => rmSync(file, { force: true });
}

function isLabProcess(pid: number): boolean {
  try {
    // a recycled pid belongs to some other program: only a running lab counts
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("lab");
  } catch {
    return false;
  }
}

/** Run prefixes whose lab process is still alive; files of dead runs are removed. */
function liveRuns(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(OWNER_DIR);
  } catch {
    return [];
  }
  return names.filter((name) => {
    const pid = Number(readFileSync(join(OWNER_DIR, name), "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && isLabProcess(pid)) return true;
    rmSync(join(OWNER_DIR, name), { force: true });
    return false;
  });
}

/**
 * `holdfast lab --clean`: removes namespaces (and their processes) with the lab's prefix
 * whose run is gone, e.g. after the lab was SIGKILLed; a lab still running keeps its own.
 */
export async function cleanLeftovers(labPrefix: string): Promise<{ removed: string[]; spared: string[] }> {
  const live = liveRuns();
  // resolv.conf directories count too: their namespace may have vanished with a reboot
  const orphans = readdirSafe("/etc/netns");
  const ours = [...new Set([...(await listNamespaces()), ...orphans])].filter((name) =>
    name.startsWith(labPrefix),
  );
  const spared = ours.filter((name) => live.some((run) => name.startsWith(run)));
  const removed = ours.filter((name) => !spared.includes(name));
  // Netns.destroy ends every process in the namespace, deletes it and its /etc/netns dir
  for (const name of removed) await Netns.adopt(name).destroy();
  return { removed, spared };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
