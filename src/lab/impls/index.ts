import { invalidInput } from "../../errors.js";
import { dhclient } from "./dhclient.js";
import { dhcpcd } from "./dhcpcd.js";
import { holdfast } from "./holdfast.js";
import { networkd } from "./networkd.js";
import { seedLoop } from "./seed-loop.js";
import { IMPL_NAMES, type Impl, type ImplName } from "./types.js";

const IMPLS: Record<ImplName, Impl> = {
  dhclient,
  "seed-loop": seedLoop,
  dhcpcd,
  networkd,
  holdfast,
};

export function getImpl(name: ImplName): Impl {
  return IMPLS[name];
}

export function parseImplNames(names: readonly string[]): ImplName[] {
  const unknown = names.filter((n) => !(IMPL_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw invalidInput(
      `unknown implementation ${unknown.map((n) => JSON.stringify(n)).join(", ")}`,
      "--impl",
      [`valid implementations: ${IMPL_NAMES.join(", ")}`],
    );
  }
  return [...new Set(names)] as ImplName[];
}
