/**
 * One starter of the lock race (lock-race.test.ts), kept alive across trials so a trial
 * costs no process start-up: for each `race <runDir> <startAt>` line on stdin it waits for
 * the common start time, takes the agent lock, and says "won" or "locked"; a winner keeps
 * the lock until the `release` line.
 */
import { createInterface } from "node:readline";
import { acquireLock, type AgentLock } from "../../src/agent/lock.js";

let held: AgentLock | undefined;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, runDir = "", startAt = "0"] = line.split(" ");
  if (command === "release") {
    held?.release();
    held = undefined;
    say("released");
    return;
  }
  // spin, not sleep: every racer leaves the line within the same millisecond
  while (Date.now() < Number(startAt)) {
    /* wait for the start */
  }
  try {
    held = acquireLock(runDir);
    say(held.problem === undefined ? "won" : `won-with-problem ${held.problem}`);
  } catch (error) {
    say(`locked ${(error as Error).message}`);
  }
});
