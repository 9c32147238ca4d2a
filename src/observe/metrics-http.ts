import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HoldfastError } from "../errors.js";
import type { HoldfastMetrics } from "./metrics.js";

export interface MetricsServer {
  /** the bound address, e.g. `127.0.0.1:9464` (the real port when 0 was asked for) */
  readonly address: string;
  close(): Promise<void>;
}

/** `127.0.0.1:9464` → host and port; `[::1]:9464` too. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^\[?([^\]]*)\]?:(\d{1,5})$/.exec(listen);
  if (!match || match[1] === undefined || match[2] === undefined) {
    throw new HoldfastError("invalid metrics.listen", {
      code: "invalid-input",
      subject: listen,
      details: ['expected "host:port" like "127.0.0.1:9464"'],
    });
  }
  return { host: match[1], port: Number(match[2]) };
}

// A scraper needs one connection, a few at most; 3,200 idle or slowloris connections once
// stayed open. Past these bounds a connection is refused or ended, and the agent's memory
// and descriptors stay its own.
export const METRICS_MAX_CONNECTIONS = 16;
/** the request headers must arrive within this (slowloris) */
export const METRICS_HEADERS_TIMEOUT_MS = 5000;
/** the whole request, likewise */
export const METRICS_REQUEST_TIMEOUT_MS = 10_000;
/** an idle keep-alive connection is closed after this */
export const METRICS_KEEPALIVE_TIMEOUT_MS = 5000;

/** Serves GET /metrics and nothing else; binding failures (port taken) reject, loudly. */
export async function startMetricsServer(metrics: HoldfastMetrics, listen: string): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  // headersTimeout and requestTimeout are enforced on this period (Node's default is 30 s)
  const server: Server = createServer({ connectionsCheckingInterval: 1000 }, (request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response
        .writeHead(404, { "content-type": "text/plain; charset=utf-8" })
        .end("not found; try /metrics\n");
      return;
    }
    metrics.render().then(
      (body) => {
        response.writeHead(200, { "content-type": metrics.registry.contentType });
        response.end(request.method === "HEAD" ? undefined : body);
      },
      (error: unknown) => {
        response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`${String(error)}\n`);
      },
    );
  });
  server.maxConnections = METRICS_MAX_CONNECTIONS;
  server.headersTimeout = METRICS_HEADERS_TIMEOUT_MS;
  server.requestTimeout = METRICS_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = METRICS_KEEPALIVE_TIMEOUT_MS;
  // an open socket that never sends anything is not a request yet: end it too
  server.setTimeout(METRICS_REQUEST_TIMEOUT_MS, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new HoldfastError("cannot serve metrics", {
          code: "failure",
          subject: listen,
          details: [error.code === "EADDRINUSE" ? "address already in use" : error.message],
          cause: error,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const address =
    bound.family === "IPv6" ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
