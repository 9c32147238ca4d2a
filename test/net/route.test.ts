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
});
