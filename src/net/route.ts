import type { NetBackend, RouteSpec } from "./backend.js";

/** One IPv4 route as `ip -j route show dev <if>` prints it. */
export interface KernelRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly metric?: number;
  readonly protocol?: string;
  readonly scope?: string;
  readonly type?: string;
}

/**
 * A route destination in the one spelling the cache, adopt and the agent share:
 * `ip` prints a host route without its "/32" and the default route as "default"
 * (a lease may spell it "0.0.0.0/0").
 */
export function normalizeDst(dst: string): string {
  if (dst === "default" || dst === "0.0.0.0/0") return "default";
  return dst.includes("/") ? dst : `${dst}/32`;
}

/**
 * The route to keep from what the kernel reports, or undefined for one that is not the
 * lease's to keep: the prefix route the kernel adds with every address (`proto kernel`)
 * and anything that is not plain unicast.
 */
export function fromKernelRoute(route: KernelRoute): RouteSpec | undefined {
  if (route.protocol === "kernel") return undefined;
  if (route.type !== undefined && route.type !== "unicast") return undefined;
  return {
    dst: normalizeDst(route.dst),
    ...(route.gateway !== undefined ? { via: route.gateway } : {}),
    ...(route.metric !== undefined ? { metric: route.metric } : {}),
  };
}

export const routeKey = (r: RouteSpec): string => `${normalizeDst(r.dst)} ${r.via ?? ""} ${r.metric ?? ""}`;

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
