import type { Command } from "commander";
import { readDocument } from "../../config/load.js";
import { HoldfastError, invalidInput } from "../../errors.js";
import { parseSpec } from "../../render/spec.js";
import { renderProveHtml, renderProveJson, renderProveTable } from "../../prove/report.js";
import { ProveResources, runProve } from "../../prove/run.js";
import { proveTarget } from "../../prove/target.js";
import { writeFileAtomic } from "../../util/atomic-write.js";

interface ProveFlags {
  readonly spec?: string;
  readonly json?: string;
  readonly html?: string;
  readonly keep?: boolean;
}

function keepText(resources: ProveResources): string {
  const lines = resources.vms.map(
    (vm) =>
      `  ${vm.name}: qemu pid ${vm.pid}; console ${vm.console}; guest agent ${vm.agent.socketPath}; monitor ${vm.monitor}`,
  );
  return [
    "prove: --keep: the VMs are still running",
    ...lines,
    `  run a command: echo '{"execute":"guest-exec","arguments":{"path":"/bin/ip","arg":["-d","link"],"capture-output":true}}' | socat - UNIX-CONNECT:<guest agent>`,
    `  stop them: kill ${resources.vms.map((vm) => vm.pid).join(" ")}; rm -rf ${resources.dir}`,
    "",
  ].join("\n");
}

async function proveAction(flags: ProveFlags): Promise<void> {
  if (flags.spec === undefined) {
    throw invalidInput("missing --spec <path>", "holdfast prove", [
      "the render spec to provision the node with (design §4.6)",
    ]);
  }
  const spec = parseSpec(readDocument(flags.spec), flags.spec);
  const target = proveTarget(spec, flags.spec);
  if (process.getuid?.() !== 0) {
    throw invalidInput("prove needs root (it builds the image with debootstrap)", "holdfast prove", [
      "run it as root, e.g. `sudo holdfast prove --spec …`",
    ]);
  }
  const resources = new ProveResources();
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`prove: ${signal}, stopping the VMs…\n`);
    void resources.cleanup().finally(() => process.exit(130));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  // --keep also after a failure: that is when the VMs are most worth a look
  const keep = flags.keep === true;
  try {
    const report = await runProve(
      { spec, specPath: flags.spec, target, log: (line) => process.stderr.write(`prove: ${line}\n`) },
      resources,
    );
    process.stdout.write(renderProveTable(report));
    if (flags.json) writeFileAtomic(flags.json, renderProveJson(report));
    if (flags.html) writeFileAtomic(flags.html, renderProveHtml(report));
    if (report.steps.some((s) => !s.pass)) process.exitCode = 1;
  } catch (error) {
    if (error instanceof HoldfastError) throw error;
    throw new HoldfastError("prove failed", {
      code: "failure",
      details: [String((error as Error).message)],
      cause: error,
    });
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    if (keep) process.stderr.write(keepText(resources));
    else await resources.cleanup();
  }
}

export function registerProve(program: Command): void {
  program
    .command("prove")
    .description(
      "boot fresh VMs (own kernel), provision the node from the spec's cloud-init, prove first-boot / silent-server / reboot-silent / dependents / pre-fix (root)",
    )
    .option("--spec <path>", "render spec of the node (design §4.6)")
    .option("--json <path>", "write { spec, kernel, accel, steps } as JSON")
    .option("--html <path>", "write a report with the timelines")
    .option("--keep", "leave the VMs running and print how to reach them")
    .action(proveAction);
}
