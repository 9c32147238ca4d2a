/**
 * Issue 13 row 2: a stale lock and 8 agents starting at once. Before, two agents ran on one
 * runDir in 2 of 25 trials; with the kernel lock exactly one wins, every time.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDir } from "../helpers/scratch.js";

const TRIALS = 50;
const STARTERS = 8;

/** A racer process and the lines it answers, in order. */
class Racer {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  constructor(readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.lines.push(line);
    });
  }
  ask(command: string): Promise<string> {
    this.child.stdin.write(`${command}\n`);
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

describe("agent lock race", () => {
  const racers: Racer[] = [];
  beforeAll(async () => {
    // the racer is bundled like the agent, and started once per starter
    const dir = scratchDir("hf-race-");
    const script = join(dir, "racer.mjs");
    await build({
      entryPoints: ["test/agent/lock-racer.ts"],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: script,
      logLevel: "warning",
    });
    for (let i = 0; i < STARTERS; i++)
      racers.push(new Racer(spawn(process.execPath, [script], { stdio: ["pipe", "pipe", "inherit"] })));
  });
  afterAll(() => {
    for (const r of racers) r.child.kill("SIGKILL");
  });

  it(`${TRIALS} trials of ${STARTERS} simultaneous starters on a stale lock: exactly one winner each time`, async () => {
    const winnersPerTrial: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const runDir = scratchDir("hf-race-run-");
      // a dead agent's lock: a pid above any pid_max, and a start time
      writeFileSync(join(runDir, "agent.lock"), "4194305 123\n");
      const startAt = Date.now() + 50;
      const said = await Promise.all(racers.map((r) => r.ask(`race ${runDir} ${startAt}`)));
      const winners = racers.filter((_, i) => said[i]?.startsWith("won"));
      const losers = said.filter((line) =>
        line.startsWith("locked another holdfast agent is already running"),
      );
      expect(winners.length + losers.length, `every starter decided: ${JSON.stringify(said)}`).toBe(STARTERS);
      winnersPerTrial.push(winners.length);
      await Promise.all(winners.map((w) => w.ask("release")));
    }
    expect(
      winnersPerTrial.filter((n) => n !== 1),
      `winners per trial: ${winnersPerTrial.join(" ")}`,
    ).toEqual([]);
  }, 180_000);
});
