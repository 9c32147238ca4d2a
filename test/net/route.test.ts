import { describe, expect, it } from "vitest";
import { ensureRoutes } from "../../src/net/route.js";
import { FakeBackend } from "../helpers/fake-backend.js";

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
