/**
 * Issue 13, also seen: the metrics server had no connection cap; 3,200 idle or slowloris
 * connections stayed open. Now at most METRICS_MAX_CONNECTIONS are served and a request whose
 * headers never finish is ended.
 */
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  METRICS_MAX_CONNECTIONS,
  startMetricsServer,
  type MetricsServer,
} from "../../src/observe/metrics-http.js";
import { createMetrics } from "../../src/observe/metrics.js";

function open(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1", () =>
      resolve({ socket, closed: new Promise((r) => socket.once("close", () => r(Date.now() - started))) }),
    );
    socket.on("error", () => undefined);
    socket.once("error", reject);
  });
}

describe("metrics server limits", () => {
  let server: MetricsServer;
  let port: number;
  beforeAll(async () => {
    server = await startMetricsServer(
      createMetrics({ interfaces: ["pn0"], processMetrics: false }),
      "127.0.0.1:0",
    );
    port = Number(server.address.split(":").at(-1));
  });
  afterAll(async () => {
    await server.close();
  });

  it(`keeps at most ${METRICS_MAX_CONNECTIONS} connections open, and still answers once they go`, async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, () => open(port)));
    await sleep(500);
    const open_ = sockets.filter((s) => !s.socket.destroyed && s.socket.readyState === "open");
    const dropped = await Promise.all(
      sockets.map((s) => Promise.race([s.closed.then(() => true), sleep(1000).then(() => false)])),
    );
    expect(dropped.filter(Boolean).length, `open: ${open_.length}`).toBeGreaterThanOrEqual(
      200 - METRICS_MAX_CONNECTIONS,
    );
    for (const s of sockets) s.socket.destroy();
    await sleep(200);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
  });

  it("ends a slowloris connection whose headers never finish", async () => {
    const { socket, closed } = await open(port);
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    const keepTrickling = setInterval(() => socket.write("X-a: b\r\n"), 500);
    try {
      const ms = await Promise.race([closed, sleep(20_000).then(() => -1)]);
      expect(ms, "closed by the server").toBeGreaterThan(0);
      expect(ms).toBeLessThan(15_000);
    } finally {
      clearInterval(keepTrickling);
      socket.destroy();
    }
  }, 30_000);
});
