/**
 * What the agent tells the outside world. The agent core only emits these; the status
 * file, Prometheus metrics and logs are observers (src/observe/) that turn them into output.
 */

export type AttachmentState = "waiting-link" | "discovering" | "held" | "failed";

export type ReassertReason = "deleted" | "link-recreated" | "periodic" | "startup";

export type DiscoveryResult = "ok" | "timeout" | "error";

/** How one confirm exchange ended (design §4.5). */
export type ConfirmResult = "ack" | "reassigned" | "nak" | "timeout" | "error";

/** Where the held address came from. */
export type AddressOrigin = "cache" | "dhcp" | "static";

/** Another host answers ARP for the held address (RFC 5227 §2.4). */
export interface ConflictReport {
  /** the other host's MAC, lower case */
  readonly mac: string;
  /** ISO 8601: when the first foreign reply of this conflict was seen */
  readonly since: string;
}

/** One attachment's status, as in status.json (design §4.4). */
export interface AttachmentStatus {
  readonly interface: string;
  readonly state: AttachmentState;
  readonly cidr: string | null;
  readonly origin: AddressOrigin | null;
  /** ISO 8601 */
  readonly heldSince: string | null;
  readonly lastReconcileAt: string | null;
  readonly reasserts: number;
  readonly lastError: string | null;
  /** ISO 8601: the server last ACKed the held address */
  readonly lastConfirmedAt: string | null;
  /** the server (option 54) that did */
  readonly confirmedBy: string | null;
  /**
   * The server gives this identity another address and `onReassign: hold` keeps the old one:
   * the node holds an address against the server (check exits 1). null otherwise.
   */
  readonly reassignment: {
    readonly cidr: string;
    readonly server: string | null;
    readonly since: string;
  } | null;
  /** null while no other host answers for the held address */
  readonly conflict: ConflictReport | null;
}

export interface AgentObserver {
  /** state, address or error of an attachment changed */
  statusChanged?(status: AttachmentStatus, all: readonly AttachmentStatus[]): void;
  /** a reconcile pass finished (also when it changed nothing) */
  reconciled?(status: AttachmentStatus, all: readonly AttachmentStatus[]): void;
  /** the address had to be put back */
  reasserted?(iface: string, reason: ReassertReason, latencyMs: number): void;
  discoveryAttempt?(iface: string, result: DiscoveryResult): void;
  linkRecreated?(iface: string): void;
  /** one confirm exchange ended */
  confirmAttempt?(iface: string, result: ConfirmResult): void;
  /** the confirm period now in force, 0 when confirming is off */
  confirmInterval?(iface: string, seconds: number): void;
  /** the attachment followed the server to another address (make-before-break done) */
  reassigned?(iface: string, from: string, to: string): void;
  /** an RFC 5227 announcement (gratuitous ARP) for the held address went out */
  announced?(iface: string): void;
  /** the agent is stopping; flush what must be flushed */
  stopping?(): void | Promise<void>;
}
