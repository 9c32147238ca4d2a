import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../errors.js";
import type { ProbeSample } from "../harness/probe.js";
import { dependentInstall, dependentUnit, NodeProbe, preFixInstall, vlanOf, type UnitState } from "./node.js";
import type { ProveOptions, ProveVms, Recorded } from "./run.js";
import { NODE_IP, PREFIX_IP, PROVE_LEASE_SECONDS } from "./run.js";
import type { ProveFigures, StepName, StepResult } from "./types.js";
import type { Vm } from "./vm.js";
import { clockOffset, readAddressWatch, startAddressWatch } from "./watch.js";

// TCG on a shared 2-CPU machine: with ~25 runnable tasks each VM gets ~10% of a CPU and
// the guest agent of a plain boot took 7 min to answer (measured 2026-12-01). Generous, so
// a slow machine gives a slow pass, not a failure; a broken VM still fails in bounded time.
const BOOT_TIMEOUT_MS = 1_200_000;
const CLOUD_INIT_TIMEOUT_MS = 1_500_000;
const HELD_TIMEOUT_MS = 300_000;
const SILENT_LEASES = 3;

type Step = Omit<StepResult, "name">;

async function step(
  name: StepName,
  log: (l: string) => void,
  body: () => Promise<Step>,
): Promise<StepResult> {
  let result: Step;
  try {
    result = await body();
  } catch (error) {
    result = { pass: false, ms: 0, detail: `error: ${errorMessage(error).split("\n")[0]}` };
  }
  log(`${name}: ${result.pass ? "pass" : "FAIL"} (${result.ms} ms) ${result.detail}`);
  return { name, ...result };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(500);
  }
}

/** What a boot of the holdfast node showed: the hold, the VLAN and the timings (guest monotonic ms). */
interface BootFacts {
  readonly cidr: string | null;
  readonly origin: string | null;
  readonly vlan: string | undefined;
  readonly heldMonoMs: number;
  readonly cloudInitMonoMs: number;
  readonly dependent: UnitState;
  readonly offset: number;
}

async function heldFacts(node: NodeProbe, ifname: string): Promise<Omit<BootFacts, "dependent" | "offset">> {
  const attachment = await until(`${ifname} held`, HELD_TIMEOUT_MS, async () => {
    const a = (await node.holdfastStatus())?.attachments.find((x) => x.interface === ifname);
    return a?.state === "held" && a.heldSince ? a : undefined;
  }).catch(async (error: unknown) => {
    // what the node said: the agent's last lines and the install's output
    const said = await node.agent
      .sh(
        "journalctl -b --no-pager -o cat -n 8 -u holdfast.service; tail -n 8 /var/log/cloud-init-output.log",
      )
      .then((r) => r.stdout.trim().split("\n").join(" | "))
      .catch(() => "");
    throw new Error(`${errorMessage(error)}${said ? `; the node said: ${said}` : ""}`);
  });
  const bootEpoch = await node.bootEpochMs();
  const cloudInit = await node.unit("cloud-init-local.service");
  return {
    cidr: attachment.cidr,
    origin: attachment.origin,
    vlan: vlanOf(await node.ipDetails(ifname)),
    heldMonoMs: Math.round(Date.parse(attachment.heldSince!) - bootEpoch),
    cloudInitMonoMs: Math.round(cloudInit.startedMonoUs / 1000),
  };
}

function inWindow(probes: readonly ProbeSample[], from: number, to: number): ProbeSample[] {
  return probes.filter((p) => p.t >= from && p.t <= to);
}

/** One measured phase of the run (boot → guest agent, cloud-init, a step), printed as it ends. */
export interface Phase {
  readonly name: string;
  readonly ms: number;
}

export async function runSteps(
  vms: ProveVms,
  options: ProveOptions,
): Promise<{ steps: StepResult[]; figures: ProveFigures; recorded: Recorded; phases: Phase[] }> {
  const { log } = options;
  const ifname = options.target.interface;
  const vlanId = options.target.vlanId;
  const wantVlan = `vlan protocol 802.1Q id ${vlanId}`;
  const dependent = dependentUnit(ifname);
  const recorded: Recorded = {
    marks: [],
    nodeAddress: [],
    prefixAddress: [],
    nodeProbes: [],
    prefixProbes: [],
  };
  const mark = (label: string) => recorded.marks.push({ t: Date.now(), label });
  const phases: Phase[] = [];
  const timed = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const from = Date.now();
    const value = await body();
    phases.push({ name, ms: Date.now() - from });
    log(`phase ${name}: ${((Date.now() - from) / 1000).toFixed(1)} s`);
    return value;
  };
  const booted = async (vm: Vm, name: string, since: number) => {
    const ms = await vm.agent.waitReady(BOOT_TIMEOUT_MS, since);
    phases.push({ name, ms });
    log(`phase ${name}: ${(ms / 1000).toFixed(1)} s`);
  };
  const node = new NodeProbe(vms.node.agent);
  const steps: StepResult[] = [];
  const figures: { cloudInitToHeldMs: number | null; kernelToHeldMs: number | null } = {
    cloudInitToHeldMs: null,
    kernelToHeldMs: null,
  };
  mark("start");

  // The fabric and the node boot together; Kea must serve before the node's install asks.
  let fabricOffset = 0;
  const fabricUp = (async () => {
    await booted(vms.fabricVm, "fabric: qemu start → guest agent", vms.fabricVm.launchedAt);
    await timed("fabric: Kea serving", () => vms.fabric.setUp());
    await vms.fabric.startRunner([NODE_IP, PREFIX_IP]);
    fabricOffset = await clockOffset(vms.fabricVm.agent);
    log(
      `fabric: Kea on VLAN ${vlanId} at 169.254.169.254, lease ${PROVE_LEASE_SECONDS} s; runner probing :8080/up every 100 ms`,
    );
  })();
  fabricUp.catch(() => undefined);

  let first: BootFacts | undefined;
  steps.push(
    await step("first-boot", log, async () => {
      await booted(vms.node, "node: qemu start → guest agent", vms.node.launchedAt);
      const offset = await clockOffset(vms.node.agent);
      await startAddressWatch(vms.node.agent, ifname);
      await fabricUp;
      const ci = await timed("node: guest agent → cloud-init done", () =>
        node.cloudInitDone(CLOUD_INIT_TIMEOUT_MS),
      );
      // a cloud-init error fails the step, but the hold is still looked at: the later steps need it
      const ciError = ci.ok ? "" : `cloud-init did not finish cleanly: ${ci.text.replace(/\n/g, "; ")}; `;
      const facts = await heldFacts(node, ifname);
      // after the user's steps, the service that binds the PN address (as a kubelet would be)
      await vms.node.agent.run(dependentInstall(ifname));
      first = { ...facts, dependent: await node.unit(dependent), offset };
      const modules = await node.modules();
      figures.cloudInitToHeldMs = facts.heldMonoMs - facts.cloudInitMonoMs;
      const pass =
        ci.ok && facts.vlan === wantVlan && facts.origin === "dhcp" && facts.cidr === `${NODE_IP}/22`;
      return {
        pass,
        ms: figures.cloudInitToHeldMs,
        detail:
          `${ciError || "cloud-init ran the user-data; "}${ifname}: ${facts.vlan ?? "no VLAN"} (8021q ${modules ? "loaded" : "not loaded"}); ` +
          `held ${facts.cidr ?? "nothing"} from ${facts.origin ?? "?"} (Kea on VLAN ${vlanId}); ` +
          `cloud-init start → held ${figures.cloudInitToHeldMs} ms, kernel start → held ${facts.heldMonoMs} ms`,
      };
    }),
  );
  mark("held");
  await fabricUp;

  steps.push(
    await step("silent-server", log, async () => {
      mark("silence");
      const silenceFrom = Date.now();
      await vms.fabric.silence();
      await sleep(SILENT_LEASES * PROVE_LEASE_SECONDS * 1000);
      const silenceTo = Date.now();
      mark(`+${SILENT_LEASES} leases`);
      const [addresses, probes] = await Promise.all([node.ipv4(ifname), vms.fabric.probes(NODE_IP)]);
      const window = inWindow(
        probes.map((p) => ({ ...p, t: p.t - fabricOffset })),
        silenceFrom,
        silenceTo,
      );
      const failed = window.filter((p) => !p.ok).length;
      const held = addresses.includes(`${NODE_IP}/22`);
      return {
        pass: held && failed === 0 && window.length > 0,
        ms: silenceTo - silenceFrom,
        detail: `Kea silent ${SILENT_LEASES} leases (${SILENT_LEASES * PROVE_LEASE_SECONDS} s): ${failed} of ${window.length} probes failed; ${ifname} ${held ? `still holds ${NODE_IP}/22` : `has ${addresses.join(", ") || "no address"}`}`,
      };
    }),
  );

  let after: BootFacts | undefined;
  steps.push(
    await step("reboot-silent", log, async () => {
      if (first) recorded.nodeAddress.push(...(await readAddressWatch(vms.node.agent, first.offset)));
      const oldBoot = await node.bootId();
      mark("reboot");
      const rebootAt = Date.now();
      await vms.node.agent.reboot();
      await timed("node: reboot → guest agent", async () => {
        // short pings while the guest is down: a request sent into a rebooting guest may be
        // lost, and waiting the full answer deadline for it cost minutes
        for (;;) {
          await vms.node.agent.waitReady(BOOT_TIMEOUT_MS, rebootAt);
          if ((await node.bootId().catch(() => oldBoot)) !== oldBoot) return;
          await sleep(1000);
        }
      });
      const offset = await clockOffset(vms.node.agent);
      await startAddressWatch(vms.node.agent, ifname);
      const facts = await heldFacts(node, ifname);
      mark("held again");
      // what the hold waited for on this boot, in the run's log (systemd-analyze refuses
      // while the boot is still going, so the units' own timestamps)
      log(
        `node after reboot, ms after kernel start: ${await node.bootMilestones()}; held ${facts.heldMonoMs}`,
      );
      figures.kernelToHeldMs = facts.heldMonoMs;
      const keaStopped = (
        await vms.fabricVm.agent.sh("ps -o stat= -p $(systemctl show -p MainPID --value prove-kea.service)")
      ).stdout
        .trim()
        .startsWith("T");
      // the dependent comes up after the hold: give it the time a Node start takes under TCG
      const dep = await until(
        `${dependent} after reboot`,
        Math.max(60_000, Date.now() - rebootAt),
        async () => {
          const u = await node.unit(dependent);
          return u.active === "active" || u.active === "failed" ? u : undefined;
        },
      );
      after = { ...facts, dependent: dep, offset };
      // test/net/vlan.ns.test.ts's last check, which this host's kernel cannot run: the VLAN
      // deleted under the agent comes back with its address
      const deleted = Date.now();
      await vms.node.agent.run(`ip link del dev ${ifname}`);
      const back = await until(`${ifname} re-created`, HELD_TIMEOUT_MS, async () =>
        (await node.ipv4(ifname)).includes(`${NODE_IP}/22`) ? Date.now() - deleted : undefined,
      );
      mark(`${ifname} deleted`);
      const pass =
        facts.vlan === wantVlan && facts.origin === "cache" && facts.cidr === `${NODE_IP}/22` && keaStopped;
      return {
        pass,
        ms: facts.heldMonoMs,
        detail: `kernel restarted; ${ifname}: ${facts.vlan ?? "no VLAN"} re-created; held ${facts.cidr ?? "nothing"} from ${facts.origin ?? "?"} ${facts.heldMonoMs} ms after kernel start; Kea ${keaStopped ? "still silent" : "NOT silent"}; ${ifname} deleted by hand, back with its address within ${back} ms (guest-agent polling)`,
      };
    }),
  );
  const waitOnline = await node.unit("holdfast-wait-online.service").catch(() => undefined);
  if (after)
    recorded.nodeAddress.push(...(await readAddressWatch(vms.node.agent, after.offset).catch(() => [])));
  recorded.nodeProbes = (await vms.fabric.probes(NODE_IP)).map((p) => ({ ...p, t: p.t - fabricOffset }));

  // The pre-fix node: booted once the holdfast node is stopped (two VMs at most), with Kea
  // answering again; then the same silence.
  const prefixRun = await (async () => {
    mark("pre-fix boot");
    await vms.fabric.resume();
    const prefixVm = await vms.swapToPrefix();
    const prefix = new NodeProbe(prefixVm.agent);
    await booted(prefixVm, "pre-fix: qemu start → guest agent", prefixVm.launchedAt);
    const offset = await clockOffset(prefixVm.agent);
    await startAddressWatch(prefixVm.agent, ifname);
    await timed("pre-fix: the seed's units enabled", () => prefixVm.agent.run(preFixInstall(ifname, vlanId)));
    const atBoot = await prefix.unit(dependent);
    // the stand-in's own words ("pn0: no IPv4 address at start"), else systemd's last line
    const journal = (await prefix.journal(dependent, 6)).split("\n");
    const said =
      journal.find((l) => l.startsWith(`${ifname}: `) || l.startsWith("httpd: ")) ?? journal.pop() ?? "";
    await until(`pre-fix ${ifname} address`, HELD_TIMEOUT_MS, async () =>
      (await prefix.ipv4(ifname)).length > 0 ? true : undefined,
    );
    // The stand-in must serve for the pre-fix timeline to show the loss: started by hand now.
    if (atBoot.active !== "active") await prefixVm.agent.sh(`systemctl restart ${dependent}`);
    return { prefixVm, prefix, offset, atBoot, said };
  })().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));

  steps.push(
    await step("dependents", log, async () => {
      if (!first || !after) return { pass: false, ms: 0, detail: "needs first-boot and reboot-silent" };
      const startedMs = Math.round(after.dependent.startedMonoUs / 1000);
      const afterHold = startedMs >= after.heldMonoMs;
      const pass = first.dependent.active === "active" && after.dependent.active === "active" && afterHold;
      const seed =
        prefixRun instanceof Error
          ? `pre-fix node: ${prefixRun.message}`
          : `pre-fix node: ${dependent} ${prefixRun.atBoot.active === "active" ? "active" : `${prefixRun.atBoot.result}: ${prefixRun.said}`} on its first boot`;
      return {
        pass,
        ms: startedMs,
        detail:
          `node: ${dependent} ${first.dependent.active} on first boot, ${after.dependent.active} after reboot, started ${startedMs - after.heldMonoMs} ms after the hold ` +
          `(holdfast-wait-online ${waitOnline?.result ?? "?"}); ${seed}`,
      };
    }),
  );

  steps.push(
    await step("pre-fix", log, async () => {
      if (prefixRun instanceof Error) throw prefixRun;
      const { prefixVm, prefix } = prefixRun;
      mark("pre-fix silence");
      const silenceFrom = Date.now();
      await vms.fabric.silence();
      await sleep(SILENT_LEASES * PROVE_LEASE_SECONDS * 1000);
      const silenceTo = Date.now();
      mark(`pre-fix +${SILENT_LEASES} leases`);
      const afterSilence = await prefix.ipv4(ifname);
      recorded.prefixAddress = await readAddressWatch(prefixVm.agent, prefixRun.offset);
      const probes = (await vms.fabric.probes(PREFIX_IP)).map((p) => ({ ...p, t: p.t - fabricOffset }));
      recorded.prefixProbes = probes;
      const window = inWindow(probes, silenceFrom, silenceTo);
      const lostAt = recorded.prefixAddress.find((s) => !s.present && s.t >= silenceFrom)?.t;
      // `systemctl show` prints properties in its own order, not the order asked for
      const unit = await prefixVm.agent.sh("systemctl show -p ActiveState -p NRestarts pn-dhclient.service");
      const property = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(unit.stdout)?.[1] ?? "?";
      const [active, restarts] = [property("ActiveState"), property("NRestarts")];
      const lost = !afterSilence.some((c) => c.startsWith(`${PREFIX_IP}/`));
      return {
        pass: lost,
        ms: lostAt === undefined ? 0 : Math.round(lostAt - silenceFrom),
        detail: lost
          ? `the seed's dhclient -d ${ifname} (Restart=always; ${active}, ${restarts} restarts) lost ${PREFIX_IP} ${lostAt === undefined ? "" : `${Math.round((lostAt - silenceFrom) / 1000)} s `}into the silence; ${window.filter((p) => !p.ok).length} of ${window.length} probes failed`
          : `the seed's dhclient kept ${afterSilence.join(", ")}: the incident did not reproduce`,
      };
    }),
  );
  mark("end");
  return { steps, figures, recorded, phases };
}
