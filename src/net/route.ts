import type { NetBackend, RouteSpec } from "./backend.js";

// `ip -j route` prints a host route without its /32; a lease spells it out.
const routeKey = (r: RouteSpec): string => `${r.dst.replace(/\/32$/, "")} ${r.via ?? ""} ${r.metric ?? ""}`;

/** Adds the lease's routes that are missing on the interface; routes are left alone otherwise. */
export async function ensureRoutes(
  backend: NetBackend,
  name: string,
  routes: readonly RouteSpec[],
): Promise<void> {
  if (routes.length === 0) return;
  const existing = new Set((await backend.listRoutes(name)).map(routeKey));
  for (const route of routes) {
    if (!existing.has(routeKey(route))) await backend.replaceRoute(name, route);
  }
}
