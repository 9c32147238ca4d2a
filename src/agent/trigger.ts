/**
 * What starts a reconcile pass, and which events need none. Events, timers and startup only
 * schedule a pass; the pass (reconcile.ts) alone reads the kernel and changes it.
 */

/** Why a reconcile runs. */
export type Trigger = "startup" | "event" | "periodic" | "discovered" | "retry" | "reassigned";

/** What the event that triggered a reconcile said; only a hint, the kernel's state decides. */
export interface Hint {
  /** monotonicMs() when the event arrived, for the re-assert latency */
  readonly eventAt?: number;
  /** an address the event reported deleted */
  readonly deletedCidr?: string;
  /** an address the event reported present with infinite lifetimes (our own hold, echoed) */
  readonly permanentCidr?: string;
}

export interface PendingPass {
  readonly trigger: Trigger;
  readonly hint: Hint;
}

/**
 * Echo skip: every `ip addr replace` the agent sends comes back from the kernel as an event
 * showing the address with infinite lifetimes. While that address is held, the echo says
 * nothing is left to fix, so it starts no pass: skipping it halves the `ip` calls of a
 * deletion storm (each restore would otherwise cost a read of the interface). Every other
 * event reconciles.
 */
export function isEchoOfHold(hint: Hint, heldCidr: string | undefined, holding: boolean): boolean {
  return holding && hint.permanentCidr !== undefined && hint.permanentCidr === heldCidr;
}

/**
 * Triggers that arrive while a pass runs become one more pass. It counts as an event pass if
 * any of them was an event, and keeps the first event's time and deleted address, so the
 * re-assert latency is measured from the first event and the fast path still fires.
 */
export function coalesce(pending: PendingPass | undefined, trigger: Trigger, hint: Hint): PendingPass {
  const before = pending?.hint ?? {};
  return {
    trigger: pending?.trigger === "event" || trigger === "event" ? "event" : trigger,
    hint: {
      eventAt: before.eventAt ?? hint.eventAt,
      deletedCidr: before.deletedCidr ?? hint.deletedCidr,
    },
  };
}
