import { stringify } from "yaml";
import { VERSION } from "../version.js";

/** One Prometheus alerting rule, keys in the order Prometheus documents them. */
interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string };
}

// Longer than twice the default 30 s reconcile interval plus a scrape or two, so a
// healthy agent never trips it; reconcile intervals above 2 m need a longer value.
const STALE_SECONDS = 300;
// DiscoveryFailing's sibling: held, yet no ACK for this many confirm intervals while
// exchanges went unanswered (the confirm period itself is a metric, so any lease works).
const UNCONFIRMED_INTERVALS = 3;
// "while we expected answers": confirm exchanges failed within this window
const CONFIRM_WINDOW = "15m";
// How far back a vanished agent is still remembered by HoldfastAgentAbsent.
const REMEMBER = "1h";

const RULES: readonly AlertRule[] = [
  {
    alert: "HoldfastAddressNotHeld",
    expr: "holdfast_address_held == 0",
    for: "1m",
    labels: { severity: "critical" },
    annotations: {
      summary: "{{ $labels.instance }}: private-network address on {{ $labels.interface }} is not held",
      description:
        "The node does not hold its private-network address on {{ $labels.interface }}, so peers on that " +
        "network cannot reach it while the node may still look Ready. Run `holdfast status` on the node.",
    },
  },
  {
    alert: "HoldfastDiscoveryFailing",
    expr:
      'sum without (result) (increase(holdfast_discovery_attempts_total{result!="ok"}[10m])) > 0\n' +
      'unless sum without (result) (increase(holdfast_discovery_attempts_total{result="ok"}[10m])) > 0',
    for: "5m",
    labels: { severity: "warning" },
    annotations: {
      summary: "{{ $labels.instance }}: address discovery on {{ $labels.interface }} keeps failing",
      description:
        "Every DHCP discovery attempt on {{ $labels.interface }} in the last 10 minutes timed out or failed " +
        "(IPAM lag, a silent DHCP server or a broken VLAN). The node has no cached address to fall back on.",
    },
  },
  {
    alert: "HoldfastHeldUnconfirmed",
    expr:
      "holdfast_address_held == 1\n" +
      "and on (job, instance, interface) holdfast_confirm_interval_seconds > 0\n" +
      "and on (job, instance, interface)\n" +
      `  time() - holdfast_last_confirmed_timestamp_seconds > ${UNCONFIRMED_INTERVALS} * holdfast_confirm_interval_seconds\n` +
      "and on (job, instance, interface)\n" +
      `  sum without (result) (increase(holdfast_confirm_attempts_total{result!="ack"}[${CONFIRM_WINDOW}])) > 0`,
    for: "5m",
    labels: { severity: "warning" },
    annotations: {
      summary:
        "{{ $labels.instance }}: the DHCP server has not confirmed the address on {{ $labels.interface }}",
      description:
        "holdfast still holds the address on {{ $labels.interface }}, but for more than 3 confirm intervals no " +
        "DHCP server has ACKed it while confirm exchanges kept going out (silence, NAKs or errors). The hold " +
        "is safe, but the server's lease may lapse and the pool may hand the address to another node. " +
        "Check the PN's DHCP server; `holdfast status` shows the last confirmation.",
    },
  },
  {
    alert: "HoldfastAddressConflict",
    expr: "holdfast_address_conflict == 1",
    // one probe interval (30 s) and a scrape: a conflict that the next probe no longer sees
    // is a blip (a neighbour's own probe), one that lasts is two hosts on one address
    for: "1m",
    labels: { severity: "critical" },
    annotations: {
      summary:
        "{{ $labels.instance }}: another host answers for the private-network address on {{ $labels.interface }}",
      description:
        "ARP probes (RFC 5227) for the address held on {{ $labels.interface }} get replies from another MAC, so " +
        "peers' traffic splits between two hosts by ARP-cache luck. `holdfast status` names the MAC; find the " +
        "host that took the address (a reassignment, a hand-configured neighbour, a node restored from an old cache).",
    },
  },
  {
    alert: "HoldfastAgentAbsent",
    expr:
      "absent(holdfast_info)\n" +
      `or (max without (version) (max_over_time(holdfast_info[${REMEMBER}])) unless max without (version) (holdfast_info))`,
    for: "5m",
    labels: { severity: "warning" },
    annotations: {
      summary: "holdfast agent is not reporting{{ with $labels.instance }} on {{ . }}{{ end }}",
      description:
        "No holdfast_info series (or one that existed in the last hour is gone): the agent is stopped, " +
        "crashed or not scraped, so nothing is re-asserting the private-network address.",
    },
  },
  {
    alert: "HoldfastAgentStale",
    expr: `time() - holdfast_last_reconcile_timestamp_seconds > ${STALE_SECONDS}`,
    for: "1m",
    labels: { severity: "warning" },
    annotations: {
      summary: "{{ $labels.instance }}: holdfast has not reconciled {{ $labels.interface }} for 5 minutes",
      description:
        "The last reconcile pass is older than 5 minutes: the agent is stuck or stopped (a node_exporter " +
        "textfile keeps its last values after the agent dies).",
    },
  },
];

/** Prometheus alerting rules for holdfast (`holdfast render --format alerts`). */
export function renderAlerts(): string {
  const document = { groups: [{ name: "holdfast", rules: RULES }] };
  const body = stringify(document, { lineWidth: 0, blockQuote: "literal" });
  return `# Generated by holdfast ${VERSION}: Prometheus alerting rules. Regenerate, do not edit.\n${body}`;
}
