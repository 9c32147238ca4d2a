import {
  addressLostMs,
  failedProbes,
  lastFaultLoss,
  markTime,
  probesIn,
  timeToRestore,
  type Timeline,
} from "./timeline.js";
import type { Measured } from "./scenarios/types.js";

/**
 * The numbers of design §5 for one run, over [fault, end]. Time to restore runs from the
 * scenario's reference (`loss`: the fault's last deletion, so that a command deleting in
 * rounds (`ip addr flush`) is one fault, see lastFaultLoss; otherwise a mark such as `boot`)
 * to the address's return. Address lost still sums every absence in [fault, end].
 */
export function measure(timeline: Timeline, restoreFrom: string): Measured {
  const fault = markTime(timeline, "fault");
  const end = markTime(timeline, "end");
  if (fault === undefined || end === undefined) {
    return { addressLostMs: 0, probeFailures: 0, probeTotal: 0, timeToRestoreMs: null, restoredAt: null };
  }
  const reference =
    restoreFrom === "loss"
      ? lastFaultLoss(timeline.address, fault, markTime(timeline, "fault-end"), end)
      : markTime(timeline, restoreFrom);
  const ttr = reference === undefined ? 0 : timeToRestore(timeline.address, reference, end);
  return {
    addressLostMs: Math.round(addressLostMs(timeline.address, fault, end)),
    probeFailures: failedProbes(timeline.probes, fault, end),
    probeTotal: probesIn(timeline.probes, fault, end).length,
    timeToRestoreMs: ttr === null ? null : Math.round(ttr),
    restoredAt: ttr === null ? null : (reference ?? fault) + ttr,
  };
}
