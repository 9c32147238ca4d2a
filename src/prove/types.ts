import type { Timeline } from "../lab/timeline.js";
import type { Accel } from "./vm.js";

export const STEP_NAMES = ["first-boot", "silent-server", "reboot-silent", "dependents", "pre-fix"] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** One step's outcome (design §6, `--json`). */
export interface StepResult {
  readonly name: StepName;
  readonly pass: boolean;
  /** what the step measures; see each step's detail for which interval */
  readonly ms: number;
  readonly detail: string;
}

/** The figures bench/prove.ts takes the median of. */
export interface ProveFigures {
  /** cloud-init-local.service start → address held, first boot */
  readonly cloudInitToHeldMs: number | null;
  /** kernel start → address held, after the reboot */
  readonly kernelToHeldMs: number | null;
}

export interface ProveReport {
  readonly spec: string;
  readonly kernel: string;
  readonly accel: Accel;
  readonly accelWhy: string;
  readonly interface: string;
  readonly vlanId: number;
  readonly steps: readonly StepResult[];
  readonly figures: ProveFigures;
  /** how long each phase took (boot → guest agent, cloud-init, Kea), in the order they ended */
  readonly phases: readonly { readonly name: string; readonly ms: number }[];
  readonly durationMs: number;
  readonly timelines: readonly { readonly title: string; readonly timeline: Timeline }[];
}
