/**
 * The agent's kept config (src/config/snapshot.ts): used only for the exact text, path and build
 * that validated it; anything else is a full validation, and bad input fails as before.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { loadAgentConfig, SNAPSHOT_FILE, snapshotPath } from "../../src/config/snapshot.js";
import { HoldfastError } from "../../src/errors.js";
import { notRoot } from "../helpers/root.js";
import { scratchDir } from "../helpers/scratch.js";
import { skipWhen } from "../helpers/skip.js";

const CONFIG = `version: 1
attachments:
  - interface: pn0
    link: { kind: vlan, vlanId: 3250 }
    address: { source: dhcp, dhcpClient: udhcpc, confirmInterval: 10m }
    conflict: { interval: 1m }
  - interface: pn1
    address: { source: static, cidr: 198.18.4.2/22 }
metrics: { listen: "127.0.0.1:9464" }
`;

const skipOwner = skipWhen(import.meta.url, notRoot("to make a file another user owns"));

function setUp(text = CONFIG) {
  const dir = scratchDir("hf-snapshot-");
  const file = join(dir, "holdfast.yaml");
  writeFileSync(file, text);
  const state = join(dir, "state");
  return { dir, file, state, env: { STATE_DIRECTORY: state }, kept: join(state, SNAPSHOT_FILE) };
}

async function keep(file: string, env: NodeJS.ProcessEnv): Promise<void> {
  const first = await loadAgentConfig(file, env);
  expect(first.from).toBe("validated");
  first.remember();
}

describe("the agent's kept config", () => {
  it("is where systemd's STATE_DIRECTORY says (the first of several), and nowhere without it", () => {
    expect(snapshotPath({ STATE_DIRECTORY: "/var/lib/holdfast" })).toBe(`/var/lib/holdfast/${SNAPSHOT_FILE}`);
    expect(snapshotPath({ STATE_DIRECTORY: "/var/lib/a:/var/lib/b" })).toBe(`/var/lib/a/${SNAPSHOT_FILE}`);
    expect(snapshotPath({})).toBeUndefined();
    expect(snapshotPath({ STATE_DIRECTORY: "relative/dir" })).toBeUndefined();
  });

  it("is the validated config the next start gets, without validating again; the file is the owner's alone", async () => {
    const { file, env, kept, state } = setUp();
    // made like StateDirectory= makes it
    mkdirSync(state, { mode: 0o700 });
    await keep(file, env);
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    const second = await loadAgentConfig(file, env);
    expect(second.from).toBe("snapshot");
    expect(second.config).toEqual(loadConfig(file));
  });

  it("is never written or read without STATE_DIRECTORY", async () => {
    const { file, kept } = setUp();
    const loaded = await loadAgentConfig(file, {});
    loaded.remember();
    expect(existsSync(kept)).toBe(false);
    expect((await loadAgentConfig(file, {})).from).toBe("validated");
  });

  it("is not used once the text changes, even by a byte of whitespace", async () => {
    const { file, env } = setUp();
    await keep(file, env);
    writeFileSync(file, CONFIG.replace("198.18.4.2/22", "198.18.4.3/22"));
    const changed = await loadAgentConfig(file, env);
    expect(changed.from).toBe("validated");
    expect(changed.config.attachments[1]!.address).toMatchObject({ cidr: "198.18.4.3/22" });
    writeFileSync(file, `${CONFIG}\n`);
    expect((await loadAgentConfig(file, env)).from).toBe("validated");
  });

  it("never lets a config that became invalid through: exit 2, naming the file and the field", async () => {
    const { file, env } = setUp();
    await keep(file, env);
    writeFileSync(file, CONFIG.replace("vlanId: 3250", "vlanId: 5000"));
    const error = await loadAgentConfig(file, env).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).exitCode).toBe(2);
    expect((error as HoldfastError).message).toMatch(/invalid config/);
    expect(JSON.stringify((error as HoldfastError).details)).toMatch(/attachments\[0\]\.link\.vlanId/);
  });

  it("is not used for another config path, another build, or a damaged, foreign or linked file", async () => {
    const { dir, file, env, kept } = setUp();
    await keep(file, env);
    const good = readFileSync(kept, "utf8");
    const snapshot = JSON.parse(good) as Record<string, unknown>;

    const other = join(dir, "other.yaml");
    writeFileSync(other, CONFIG);
    expect((await loadAgentConfig(other, env)).from).toBe("validated");

    const cases: Array<[string, string]> = [
      ["another build", JSON.stringify({ ...snapshot, build: "0123456789abcdef" })],
      ["no config", JSON.stringify({ ...snapshot, config: undefined })],
      ["a config without attachments", JSON.stringify({ ...snapshot, config: { version: 1 } })],
      ["not JSON", "{"],
      ["JSON null", "null"],
      ["a list", "[]"],
      ["cut short", good.slice(0, good.length / 2)],
    ];
    for (const [what, content] of cases) {
      writeFileSync(kept, content);
      expect((await loadAgentConfig(file, env)).from, what).toBe("validated");
    }

    writeFileSync(kept, good);
    expect((await loadAgentConfig(file, env)).from).toBe("snapshot");
    // a snapshot planted through a link is not ours to trust
    const elsewhere = join(dir, "elsewhere.json");
    writeFileSync(elsewhere, good);
    rmSync(kept);
    symlinkSync(elsewhere, kept);
    expect((await loadAgentConfig(file, env)).from).toBe("validated");
  });

  it.skipIf(skipOwner)("is not used when another user wrote it (needs root to make one)", async () => {
    const { file, env, kept } = setUp();
    await keep(file, env);
    expect((await loadAgentConfig(file, env)).from).toBe("snapshot");
    chmodSync(kept, 0o600);
    chownSync(kept, 4242, 4242);
    expect((await loadAgentConfig(file, env)).from).toBe("validated");
  });

  it("keeps what the schema made, exactly: defaults, durations in ms, every attachment", async () => {
    const { file, env } = setUp();
    await keep(file, env);
    const kept = await loadAgentConfig(file, env);
    expect(kept.from).toBe("snapshot");
    expect(kept.config).toEqual(loadConfig(file));
    expect(kept.config.attachments[0]).toMatchObject({
      link: { kind: "vlan", vlanId: 3250, parent: "auto" },
      address: { confirmInterval: 600_000, onReassign: "follow" },
      conflict: { interval: 60_000, detect: true },
      reconcileInterval: 30_000,
    });
  });
});
