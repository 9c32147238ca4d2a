import { existsSync } from "node:fs";
import type { LinkSpec } from "../config/schema.js";
import type { InterfaceState, LinkInfo, NetBackend } from "./backend.js";

export type LinkOutcome =
  | {
      readonly kind: "ready";
      readonly state: InterfaceState;
      readonly created: boolean;
      readonly parent: LinkInfo | undefined;
    }
  | { readonly kind: "waiting"; readonly why: string };

export interface LinkContext {
  readonly backend: NetBackend;
  /** every attachment's interface: a PN is never chosen as another PN's parent */
  readonly pnInterfaces: readonly string[];
  /** is this a physical NIC? (it has a device behind it in sysfs) */
  readonly isPhysical?: (name: string) => boolean;
}

const sysfsPhysical = (name: string): boolean => existsSync(`/sys/class/net/${name}/device`);

/** `parent: auto`: the default-route interface, else the first physical NIC that is not a PN. */
export async function resolveParent(
  spec: Extract<LinkSpec, { kind: "vlan" }>,
  ctx: LinkContext,
): Promise<LinkInfo | undefined> {
  const links = await ctx.backend.listLinks();
  const byName = (name: string | undefined) => links.find((l) => l.name === name);
  if (spec.parent !== "auto") return byName(spec.parent);
  const viaDefault = byName(await ctx.backend.defaultRouteInterface());
  if (viaDefault && !ctx.pnInterfaces.includes(viaDefault.name)) return viaDefault;
  const isPhysical = ctx.isPhysical ?? sysfsPhysical;
  return links.find((l) => l.name !== "lo" && !ctx.pnInterfaces.includes(l.name) && isPhysical(l.name));
}

/** The link a VLAN sits on, as the kernel reports it (undefined when not a VLAN or not here). */
export async function lowerLink(backend: NetBackend, link: LinkInfo): Promise<LinkInfo | undefined> {
  const lower = link.parent;
  return lower === undefined ? undefined : (await backend.listLinks()).find((l) => l.name === lower);
}

/**
 * Makes the attachment's link exist and be up. `vlan`: create it on its parent when missing
 * (at every boot, and after anything deletes it). `existing`: wait for it to appear.
 */
export async function ensureLink(name: string, spec: LinkSpec, ctx: LinkContext): Promise<LinkOutcome> {
  let state = await ctx.backend.readInterface(name);
  let created = false;
  let parent: LinkInfo | undefined;
  if (spec.kind === "vlan") {
    if (state) {
      // A VLAN that exists is judged by its real parent, never by what `auto` would pick now:
      // a default route moving between NICs must not change the attachment's identity.
      parent = await lowerLink(ctx.backend, state.link);
    } else {
      parent = await resolveParent(spec, ctx);
      if (!parent) {
        const which =
          spec.parent === "auto" ? "no default-route or physical interface" : `parent ${spec.parent} missing`;
        return { kind: "waiting", why: which };
      }
      await ctx.backend.addVlan(name, parent.name, spec.vlanId);
      created = true;
      state = await ctx.backend.readInterface(name);
    }
  }
  if (!state) return { kind: "waiting", why: "interface does not exist" };
  if (!state.link.up) {
    await ctx.backend.setUp(name);
    state = { ...state, link: { ...state.link, up: true } };
  }
  return { kind: "ready", state, created, parent };
}
