import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { bundleFor, renderCloudInitFromSpec } from "../render/index.js";
import type { Spec } from "../render/spec.js";
import type { Mark } from "../lab/timeline.js";
import type { AddressSample } from "../harness/address-watch.js";
import type { ProbeSample } from "../harness/probe.js";
import { chooseAccel } from "./accel.js";
import { Fabric } from "./fabric.js";
import { ensureImage, type VmImage } from "./image.js";
import { writeSeed } from "./seed.js";
import { runSteps } from "./steps.js";
import type { ProveTarget } from "./target.js";
import type { ProveReport } from "./types.js";
import { launchVm, stopVm, type Accel, type LinkEnd, type Vm } from "./vm.js";

export const PROVE_RUN_ROOT = "/run/holdfast-prove";

/** The lab's lease (design §5): short, so three lease times of silence take 30 s. */
export const PROVE_LEASE_SECONDS = 10;

/** MACs and reserved addresses (198.18.0.0/22, the lab's range). */
export const NODE_MAC = "52:54:00:4e:00:01";
export const PREFIX_MAC = "52:54:00:4e:00:02";
export const NODE_IP = "198.18.0.10";
export const PREFIX_IP = "198.18.0.11";

export interface ProveOptions {
  readonly spec: Spec;
  readonly specPath: string;
  readonly target: ProveTarget;
  readonly log: (line: string) => void;
  /** the user's --keep: VMs stay up after the run */
  readonly keep?: boolean;
}

/** Everything one run made, so a failure or Ctrl-C removes exactly that (VMs by pid). */
export class ProveResources {
  readonly id = `${process.pid}-${randomBytes(3).toString("hex")}`;
  readonly dir = join(PROVE_RUN_ROOT, this.id);
  readonly vms: Vm[] = [];
  private cleaned = false;

  /** Stops one VM of the run (by its pid) before the run ends. */
  async stop(vm: Vm): Promise<void> {
    await stopVm(vm.pid);
    this.vms.splice(this.vms.indexOf(vm), 1);
  }

  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await Promise.all(this.vms.map((vm) => stopVm(vm.pid)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The VMs of a run and what talks to them. At most two run at once (fabric + one node): on
 * this 2-CPU machine three TCG guests starved each other past every deadline. The pre-fix
 * node boots after the holdfast node is stopped, on the same fabric.
 */
export interface ProveVms {
  readonly node: Vm;
  readonly fabric: Fabric;
  readonly fabricVm: Vm;
  /** stops the holdfast node (by pid) and boots the pre-fix node */
  readonly swapToPrefix: () => Promise<Vm>;
}

export interface Recorded {
  readonly marks: Mark[];
  nodeAddress: AddressSample[];
  prefixAddress: AddressSample[];
  nodeProbes: ProbeSample[];
  prefixProbes: ProbeSample[];
}

function link(dir: string, name: string, mac: string): { vm: LinkEnd; fabric: LinkEnd } {
  const vmSock = join(dir, `${name}.eth`);
  const fabricSock = join(dir, `fabric-${name}.eth`);
  return {
    vm: { mac, local: vmSock, remote: fabricSock },
    // the fabric's NIC MAC: the node's with the last octet flipped
    fabric: { mac: `${mac.slice(0, 15)}f${mac.slice(16)}`, local: fabricSock, remote: vmSock },
  };
}

async function launch(
  image: VmImage,
  accel: Accel,
  resources: ProveResources,
  options: ProveOptions,
): Promise<ProveVms> {
  const { dir } = resources;
  const { target } = options;
  const nodeLink = link(dir, "node", NODE_MAC);
  const prefixLink = link(dir, "prefix", PREFIX_MAC);
  // the user's user-data alone, exactly as a new server gets it; prove enables its dependent
  // through the guest agent once cloud-init is done
  const nodeSeed = await writeSeed(
    dir,
    "node",
    renderCloudInitFromSpec(options.spec, bundleFor(options.spec, {})),
    options.spec.node.name,
  );
  const common = { image, accel, dir };
  const start = async (vm: Parameters<typeof launchVm>[0]) => {
    const launched = await launchVm(vm);
    resources.vms.push(launched);
    options.log(`${vm.name}: qemu pid ${launched.pid} (${accel})`);
    return launched;
  };
  // The fabric has a NIC for each node from the start; the pre-fix node's stays unplugged
  // (its socket has no peer, datagrams to it are dropped) until that node boots.
  const fabricVm = await start({
    ...common,
    name: "fabric",
    memoryMb: 384,
    links: [nodeLink.fabric, prefixLink.fabric],
  });
  const node = await start({ ...common, name: "node", memoryMb: 768, links: [nodeLink.vm], seed: nodeSeed });
  const fabric = new Fabric(fabricVm.agent, {
    vlanId: target.vlanId,
    nics: ["eth0", "eth1"],
    leaseSeconds: PROVE_LEASE_SECONDS,
    reservations: [
      { mac: NODE_MAC, ip: NODE_IP },
      { mac: PREFIX_MAC, ip: PREFIX_IP },
    ],
  });
  const swapToPrefix = async () => {
    await resources.stop(node);
    // no seed: cloud-init stays off; prove installs the seed's units through the guest agent
    return start({ ...common, name: "prefix", memoryMb: 512, links: [prefixLink.vm] });
  };
  return { node, fabric, fabricVm, swapToPrefix };
}

/**
 * `holdfast prove`: builds (or reuses) the image, boots the fabric, the node (the user's
 * spec through cloud-init) and the pre-fix node (the seed's units, through the guest agent),
 * runs the five steps.
 * The caller owns `resources` and cleans up (also on Ctrl-C) unless --keep.
 */
export async function runProve(options: ProveOptions, resources: ProveResources): Promise<ProveReport> {
  const started = Date.now();
  const image = await ensureImage(options.log);
  const { accel, why } = await chooseAccel(image);
  options.log(`kernel ${image.kernelVersion}, ${accel} (${why})`);
  mkdirSync(resources.dir, { recursive: true, mode: 0o700 });
  const vms = await launch(image, accel, resources, options);
  const { steps, figures, recorded, phases } = await runSteps(vms, options);
  const timelines = [
    {
      title: `node (holdfast, ${options.target.interface} VLAN ${options.target.vlanId})`,
      timeline: { address: recorded.nodeAddress, probes: recorded.nodeProbes, marks: recorded.marks },
    },
    {
      title: `pre-fix node (the seed's dhclient -d ${options.target.interface})`,
      timeline: { address: recorded.prefixAddress, probes: recorded.prefixProbes, marks: recorded.marks },
    },
  ];
  return {
    spec: options.specPath,
    kernel: image.kernelVersion,
    accel,
    accelWhy: why,
    interface: options.target.interface,
    vlanId: options.target.vlanId,
    steps,
    figures,
    phases,
    durationMs: Date.now() - started,
    timelines,
  };
}
