/**
 * What one run (one scenario on one implementation) recorded, and the numbers derived
 * from it. Pure: the recorders (address watch, probe) fill it, the report reads it.
 */

import type { AddressSample } from "../harness/address-watch.js";
import type { ProbeSample } from "../harness/probe.js";

export type { AddressSample, ProbeSample };

/**
 * A named moment the scenario marks: `start`, `fault`, `fault-end`, `server-start`, `end`…
 * `fault` is taken just before the fault command runs and `fault-end` just after it returned.
 */
export interface Mark {
  readonly t: number;
  readonly label: string;
}

export interface Timeline {
  readonly address: readonly AddressSample[];
  readonly probes: readonly ProbeSample[];
  readonly marks: readonly Mark[];
}

export function markTime(timeline: Timeline, label: string): number | undefined {
  return timeline.marks.find((m) => m.label === label)?.t;
}

/** Whether the address was present at time t (the last sample at or before t decides). */
export function presentAt(address: readonly AddressSample[], t: number): boolean {
  let present = false;
  for (const sample of address) {
    if (sample.t > t) break;
    present = sample.present;
  }
  return present;
}

/** The intervals in [from, to] during which the address was absent. */
export function absentIntervals(
  address: readonly AddressSample[],
  from: number,
  to: number,
): [number, number][] {
  const out: [number, number][] = [];
  let present = presentAt(address, from);
  let since = from;
  for (const sample of address) {
    if (sample.t <= from) continue;
    if (sample.t > to) break;
    if (sample.present === present) continue;
    if (!sample.present) since = sample.t;
    else out.push([since, sample.t]);
    present = sample.present;
  }
  if (!present) out.push([since, to]);
  return out;
}

export function addressLostMs(address: readonly AddressSample[], from: number, to: number): number {
  return absentIntervals(address, from, to).reduce((sum, [a, b]) => sum + (b - a), 0);
}

/**
 * Time from `reference` to the moment the address came back for good-or-until-the-end
 * (the first presence at or after the first absence that follows `reference`).
 * 0 when the address was never absent after `reference`; null when it never came back.
 */
export function timeToRestore(
  address: readonly AddressSample[],
  reference: number,
  to: number,
): number | null {
  const gaps = absentIntervals(address, reference, to);
  const first = gaps[0];
  if (!first) return 0;
  if (first[1] >= to && !presentAt(address, to)) return null;
  return first[1] - reference;
}

/**
 * When the fault took the address for the last time: the start of the last absence that
 * began while the fault command ran, [fault, faultEnd]. `ip addr flush` deletes in rounds
 * until a dump finds nothing, so an agent that restores within a millisecond sees its
 * restore deleted again by the same command: those deletions are one fault, and a restore
 * is measured from the last of them. An absence that begins after the command returned is
 * not the fault (it counts against the implementation). Without `faultEnd`, or with no
 * absence inside the command, this is the first absence after `fault`.
 */
export function lastFaultLoss(
  address: readonly AddressSample[],
  fault: number,
  faultEnd: number | undefined,
  to: number,
): number | undefined {
  const gaps = absentIntervals(address, fault, to);
  const during = faultEnd === undefined ? [] : gaps.filter(([start]) => start <= faultEnd);
  return (during.at(-1) ?? gaps[0])?.[0];
}

export function probesIn(probes: readonly ProbeSample[], from: number, to: number): ProbeSample[] {
  return probes.filter((p) => p.t >= from && p.t <= to);
}

export function failedProbes(probes: readonly ProbeSample[], from: number, to: number): number {
  return probesIn(probes, from, to).filter((p) => !p.ok).length;
}
