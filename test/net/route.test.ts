import { rmSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { cacheEntrySchema, loadCache, writeCache, type Identity } from "../../src/agent/cache.js";
import type { RouteSpec } from "../../src/net/backend.js";
import {
  ensureRoutes,
  fromKernelRoute,
  normalizeDst,
  routeKey,
  type KernelRoute,
} from "../../src/net/route.js";
import { FakeBackend } from "../helpers/fake-backend.js";
import { scratchDir } from "../helpers/scratch.js";

/** `ip -j -4 route show dev d0` on this kernel (iproute2 6.1), with a lease's three route shapes. */
const IP_J_ROUTE: KernelRoute[] = JSON.parse(
  '[{"dst":"default","gateway":"198.18.0.1","protocol":"dhcp","metric":1024,"flags":[]},' +
    '{"dst":"169.254.169.254","gateway":"198.18.0.1","protocol":"dhcp","metric":1024,"flags":[]},' +
    '{"dst":"198.18.0.0/22","protocol":"kernel","scope":"link","prefsrc":"198.18.0.10","flags":[]},' +
    '{"dst":"198.19.0.0/16","protocol":"static","scope":"link","flags":[]}]',
) as KernelRoute[];

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ensureRoutes", () => {
  it("adds only the missing routes", async () => {
    const backend = new FakeBackend();
    backend.routes.set("pn0", [{ dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 }]);
    await ensureRoutes(backend, "pn0", [
      { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 },
      { dst: "default", via: "198.18.0.1", metric: 1024 },
    ]);
    expect(backend.ops).toEqual(["route replace default via 198.18.0.1 dev pn0"]);
  });

  it("knows a host route that iproute2 prints without its /32", async () => {
    const backend = new FakeBackend();
    backend.routes.set("pn0", [{ dst: "169.254.169.254", via: "198.18.0.1", metric: 1024 }]);
    await ensureRoutes(backend, "pn0", [{ dst: "169.254.169.254/32", via: "198.18.0.1", metric: 1024 }]);
    expect(backend.ops).toEqual([]);
  });

  it("GIVEN no lease routes THEN the kernel's routes are not even read", async () => {
    const backend = new FakeBackend();
    let reads = 0;
    backend.listRoutes = async () => {
      reads++;
      return [];
    };
    await ensureRoutes(backend, "pn0", []);
    expect(reads).toBe(0);
    expect(backend.ops).toEqual([]);
  });

  it("GIVEN a route to the same destination with another gateway or metric THEN the lease's is added", async () => {
    const backend = new FakeBackend();
    backend.routes.set("pn0", [
      { dst: "10.0.0.0/8", via: "198.18.0.2", metric: 1024 },
      { dst: "172.16.0.0/12", via: "198.18.0.1", metric: 100 },
    ]);
    await ensureRoutes(backend, "pn0", [
      { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 },
      { dst: "172.16.0.0/12", via: "198.18.0.1", metric: 1024 },
    ]);
    expect(backend.ops).toEqual([
      "route replace 10.0.0.0/8 via 198.18.0.1 dev pn0",
      "route replace 172.16.0.0/12 via 198.18.0.1 dev pn0",
    ]);
  });

  it("GIVEN a route without gateway or metric THEN it matches only the same bare route", async () => {
    const backend = new FakeBackend();
    backend.routes.set("pn0", [{ dst: "198.18.4.0/22" }]);
    await ensureRoutes(backend, "pn0", [{ dst: "198.18.4.0/22" }, { dst: "198.18.8.0/22" }]);
    expect(backend.ops).toEqual(["route replace 198.18.8.0/22 dev pn0"]);
  });
});

describe("routes as the kernel reports them", () => {
  it("reads host, default and link-scope routes, not the kernel's prefix route", () => {
    // strict: a route without gateway or metric has no such key at all (not one set to undefined)
    expect(IP_J_ROUTE.map(fromKernelRoute)).toStrictEqual([
      { dst: "default", via: "198.18.0.1", metric: 1024 },
      { dst: "169.254.169.254/32", via: "198.18.0.1", metric: 1024 },
      undefined,
      { dst: "198.19.0.0/16" },
    ]);
  });

  it("keeps them through a cache write and read", () => {
    dir = scratchDir("hf-route-");
    const identity: Identity = { kind: "existing", mac: "02:00:00:00:00:01" };
    const routes = IP_J_ROUTE.map(fromKernelRoute).filter((r): r is RouteSpec => r !== undefined);
    writeCache(dir, {
      version: 1,
      interface: "pn0",
      identity,
      cidr: "198.18.0.10/22",
      routes,
      source: "dhcp",
      server: null,
      leaseSeconds: null,
      discoveredAt: "2026-12-01T10:00:00.000Z",
    });
    const loaded = loadCache(dir, "pn0", identity);
    expect(loaded.kind, JSON.stringify(loaded)).toBe("hit");
    expect(loaded.kind === "hit" && loaded.entry.routes).toEqual(routes);
  });

  it("reads a cache that spells a host route as ip prints it", () => {
    const entry = cacheEntrySchema.parse({
      version: 1,
      interface: "pn0",
      identity: { kind: "existing", mac: "02:00:00:00:00:01" },
      cidr: "198.18.0.10/22",
      routes: [
        { dst: "169.254.169.254", via: "198.18.0.1" },
        { dst: "0.0.0.0/0", via: "198.18.0.1" },
      ],
      source: "dhcp",
      server: null,
      leaseSeconds: null,
      discoveredAt: "2026-12-01T10:00:00.000Z",
    });
    expect(entry.routes.map((r) => r.dst)).toEqual(["169.254.169.254/32", "default"]);
  });

  it("normalises every route shape ip can print into one the cache accepts", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));
    const dst = fc.oneof(
      fc.constant("default"),
      ip,
      fc.tuple(ip, fc.integer({ min: 0, max: 32 })).map(([a, len]) => `${a}/${len}`),
    );
    const route = fc.record(
      {
        dst,
        gateway: ip,
        metric: fc.nat({ max: 2 ** 32 - 1 }),
        protocol: fc.constantFrom("kernel", "boot", "static", "dhcp", "ra", "redirect"),
        scope: fc.constantFrom("link", "global", "host"),
        type: fc.constantFrom("unicast", "unreachable", "blackhole", "prohibit"),
      },
      { requiredKeys: ["dst"] },
    );
    fc.assert(
      fc.property(route, (raw) => {
        const spec = fromKernelRoute(raw);
        const kept = raw.protocol !== "kernel" && (raw.type === undefined || raw.type === "unicast");
        expect(spec !== undefined).toBe(kept);
        if (spec === undefined) return;
        expect(normalizeDst(spec.dst)).toBe(spec.dst);
        expect(routeKey(spec)).toBe(routeKey({ ...spec, dst: raw.dst }));
        const cached = cacheEntrySchema.shape.routes.safeParse([spec]);
        expect(cached.success, `${JSON.stringify(raw)} -> ${JSON.stringify(spec)}`).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
