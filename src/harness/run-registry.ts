import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanStaleNodes } from "./booted-node.js";
import { listNamespaces, Netns } from "./netns.js";
import { processStartTime } from "../util/process.js";

// the agent lock needs it too, and the agent must not import the harness
export { processStartTime };

/** One file per running lab: its namespace prefix → `<pid> <start time>`, so `--clean` spares live runs. */
export const OWNER_DIR = "/run/holdfast-lab";

/** Records that this process owns every namespace starting with runPrefix; returns the undo. */
export function registerRun(runPrefix: string, ownerDir = OWNER_DIR): () => void {
  mkdirSync(ownerDir, { recursive: true });
  const file = join(ownerDir, runPrefix);
  writeFileSync(file, `${process.pid} ${processStartTime(process.pid) ?? ""}\n`);
  return () => rmSync(file, { force: true });
}

function isLive(owner: string): boolean {
  const [pid = "", started = ""] = owner.trim().split(/\s+/);
  if (!/^\d+$/.test(pid) || !/^\d+$/.test(started)) return false;
  return processStartTime(Number(pid)) === started;
}

/** Run prefixes whose lab process is still alive; files of dead runs are removed. */
export function liveRuns(ownerDir = OWNER_DIR): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(ownerDir);
  } catch {
    return [];
  }
  return names.filter((name) => {
    const file = join(ownerDir, name);
    let owner = "";
    try {
      owner = readFileSync(file, "utf8");
    } catch {
      return false; // its run ended while we looked
    }
    if (isLive(owner)) return true;
    rmSync(file, { force: true });
    return false;
  });
}

export interface Leftovers {
  /** namespaces removed (with their processes and /etc/netns dirs) */
  readonly removed: string[];
  /** namespaces of runs still going */
  readonly spared: string[];
  /** booted nodes (machine names) ended and their cgroups removed */
  readonly nodes: string[];
}

/**
 * `holdfast lab --clean`: removes booted nodes and namespaces (with their processes) with
 * the lab's prefix whose run is gone, e.g. after the lab was SIGKILLed; a lab still running
 * keeps its own.
 */
export async function cleanLeftovers(labPrefix: string, ownerDir = OWNER_DIR): Promise<Leftovers> {
  if (labPrefix === "") throw new Error("cleanLeftovers: refusing an empty prefix");
  const live = liveRuns(ownerDir);
  const ownedByLiveRun = (name: string): boolean => live.some((run) => name.startsWith(run));
  // nodes first: a container is a process tree in its namespace plus cgroups outside it
  const nodes = await cleanStaleNodes(labPrefix, ownedByLiveRun);
  // resolv.conf directories count too: their namespace may have vanished with a reboot
  const orphans = readdirSafe("/etc/netns");
  const ours = [...new Set([...(await listNamespaces()), ...orphans])].filter((name) =>
    name.startsWith(labPrefix),
  );
  const spared = ours.filter(ownedByLiveRun);
  const removed = ours.filter((name) => !spared.includes(name));
  // Netns.destroy ends every process in the namespace, deletes it and its /etc/netns dir
  for (const name of removed) await Netns.adopt(name).destroy();
  return { removed, spared, nodes };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
