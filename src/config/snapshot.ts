/**
 * The agent's config, validated once per text: after zod has accepted a config, the agent
 * keeps the result in `$STATE_DIRECTORY/config.validated.json` (systemd sets STATE_DIRECTORY
 * for the unit's StateDirectory=), with the text it came from and the build of holdfast that
 * checked it. A later start whose config file has exactly that text, under that build,
 * holds from the kept result without loading the YAML parser or building the config's schema:
 * that was about a third of the CPU before the first hold (bench/agent-startup.ts --cpu-prof).
 * Any difference (an edit, another file, an upgrade, a damaged or foreign file) is a full
 * validation, exactly as without the snapshot.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { readRegularFile } from "../util/read-file.js";
import { BUILD } from "../version.js";
import { readInputText, MAX_INPUT_BYTES } from "./input.js";
import type { Config } from "./schema.js";

export const SNAPSHOT_FILE = "config.validated.json";

interface Snapshot {
  /** the build that validated it (src/version.ts BUILD) */
  readonly build: string;
  /** the --config path, as given */
  readonly path: string;
  readonly text: string;
  readonly config: Config;
}

/** Where the snapshot lives: the first of systemd's STATE_DIRECTORY paths; none without it. */
export function snapshotPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.STATE_DIRECTORY?.split(":")[0];
  return dir !== undefined && dir.startsWith("/") ? join(dir, SNAPSHOT_FILE) : undefined;
}

/** The kept config for exactly this path, text and build; undefined on any doubt. */
export function readSnapshot(file: string, path: string, text: string): Config | undefined {
  let snapshot: Partial<Snapshot> | null;
  try {
    // ours alone (root's or this user's, no symlink), and never larger than a config could make it
    const raw = readRegularFile(file, { maxBytes: 4 * MAX_INPUT_BYTES, noFollow: true, ownedByUs: true });
    snapshot = JSON.parse(raw) as Partial<Snapshot> | null;
  } catch {
    return undefined;
  }
  if (snapshot === null || typeof snapshot !== "object") return undefined;
  if (snapshot.build !== BUILD || snapshot.path !== path || snapshot.text !== text) return undefined;
  const config = snapshot.config;
  return config !== null && typeof config === "object" && Array.isArray(config.attachments)
    ? config
    : undefined;
}

export function writeSnapshot(file: string, path: string, text: string, config: Config): void {
  const snapshot: Snapshot = { build: BUILD, path, text, config };
  writeFileAtomic(file, `${JSON.stringify(snapshot)}\n`, 0o600);
}

export interface AgentConfig {
  readonly config: Config;
  /** "snapshot": held from the kept result; "validated": checked now by the config's schema */
  readonly from: "snapshot" | "validated";
  /**
   * Keeps a newly validated config for the next start; a no-op for one read from the snapshot or
   * without a STATE_DIRECTORY. Called after the first hold: the hold never waits on the disk.
   */
  remember(): void;
}

/**
 * The agent's config from `file`: the snapshot when it matches, else the full load (YAML and
 * the schema, loaded only then). Bad input fails as loadConfig does: the same message, exit 2.
 */
export async function loadAgentConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentConfig> {
  const text = readInputText(file);
  const kept = snapshotPath(env);
  const snapshot = kept === undefined ? undefined : readSnapshot(kept, file, text);
  if (snapshot !== undefined) return { config: snapshot, from: "snapshot", remember: () => undefined };
  const { configFromText } = await import("./load.js");
  const config = configFromText(text, file);
  return {
    config,
    from: "validated",
    remember: () => {
      if (kept !== undefined) writeSnapshot(kept, file, text, config);
    },
  };
}
