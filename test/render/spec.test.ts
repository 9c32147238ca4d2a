import { describe, expect, it } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import { agentUnit, directoriesToCreate } from "../../src/render/agent-unit.js";
import { parseSpec } from "../../src/render/spec.js";
import { specDocument } from "./helpers.js";

const ATTACHMENTS = [{ interface: "pn0", link: { kind: "vlan", vlanId: 3250 }, address: { source: "dhcp" } }];

const withConfig = (fields: Record<string, unknown>) =>
  specDocument({ config: { version: 1, attachments: ATTACHMENTS, ...fields } });

function detailsOf(document: unknown): readonly string[] {
  try {
    parseSpec(document, "node.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).exitCode).toBe(2);
    return (error as HoldfastError).details;
  }
  throw new Error("expected the spec to be rejected");
}

describe("render spec: the directories the agent's unit writes to", () => {
  it.each([
    [
      { stateDir: "/run/holdfast" },
      'agent.config.stateDir: expected a path outside /run (emptied at every boot, and the cache must survive reboots), got "/run/holdfast"',
    ],
    [
      { stateDir: "/var/run/holdfast" },
      'agent.config.stateDir: expected a path outside /var/run (emptied at every boot, and the cache must survive reboots), got "/var/run/holdfast"',
    ],
    [
      { stateDir: "/dev/shm/holdfast" },
      'agent.config.stateDir: expected a path outside /dev/shm (emptied at every boot, and the cache must survive reboots), got "/dev/shm/holdfast"',
    ],
    [
      { stateDir: "/tmp/holdfast" },
      'agent.config.stateDir: expected a path outside /tmp (the agent\'s unit gets a private /tmp: PrivateTmp=true), got "/tmp/holdfast"',
    ],
    [
      { runDir: "/var/tmp/holdfast" },
      'agent.config.runDir: expected a path outside /var/tmp (the agent\'s unit gets a private /var/tmp: PrivateTmp=true), got "/var/tmp/holdfast"',
    ],
    [
      // /var/run is /run itself: it would open all of /run
      { runDir: "/var/run" },
      'agent.config.runDir: expected a directory at least two levels deep (the agent\'s unit may write to it), got "/var/run"',
    ],
    [
      // the unit would make all of /var writable, and the install script would "create" /var
      { metrics: { textfile: "/var/holdfast.prom" } },
      'agent.config.metrics.textfile: expected a file in a directory at least two levels deep (the agent\'s unit may write to that directory), got "/var/holdfast.prom"',
    ],
    [
      { metrics: { textfile: "/run/holdfast.prom" } },
      'agent.config.metrics.textfile: expected a file in a directory at least two levels deep (the agent\'s unit may write to that directory), got "/run/holdfast.prom"',
    ],
    [
      { metrics: { textfile: "/var/run/holdfast.prom" } },
      'agent.config.metrics.textfile: expected a file in a directory at least two levels deep (the agent\'s unit may write to that directory), got "/var/run/holdfast.prom"',
    ],
    [
      { metrics: { textfile: "/etc/holdfast/holdfast.prom" } },
      'agent.config.metrics.textfile: expected a path outside /etc (ProtectSystem=strict keeps it read-only), got "/etc/holdfast/holdfast.prom"',
    ],
    [
      { metrics: { textfile: "/tmp/metrics/holdfast.prom" } },
      'agent.config.metrics.textfile: expected a path outside /tmp (the agent\'s unit gets a private /tmp: PrivateTmp=true), got "/tmp/metrics/holdfast.prom"',
    ],
  ])("GIVEN %j THEN rejected naming the field and why", (fields, detail) => {
    expect(detailsOf(withConfig(fields))).toContain(detail);
  });

  it("makes a /var/run runDir a RuntimeDirectory=, like /run/holdfast", () => {
    // GIVEN the /var/run spelling of the default runDir
    const config = parseSpec(withConfig({ runDir: "/var/run/holdfast" })).agent.config;
    // WHEN the unit renders
    const unit = agentUnit(config).render();
    // THEN it is a runtime directory (recreated after a reboot), never a ReadWritePaths= that must exist
    expect(unit, "systemd makes it at every start").toContain("\nRuntimeDirectory=holdfast\n");
    expect(unit, "never a ReadWritePaths= that must exist").not.toContain("ReadWritePaths=/var/run");
    expect(directoriesToCreate(config)).toEqual([]);
  });

  it("GIVEN a persistent runDir and stateDir elsewhere THEN ReadWritePaths=, created by the install script", () => {
    const config = parseSpec(withConfig({ stateDir: "/srv/hf/state", runDir: "/srv/hf/run" })).agent.config;
    const unit = agentUnit(config).render();
    expect(unit).toContain("\nReadWritePaths=/srv/hf/state\n");
    expect(unit).toContain("\nReadWritePaths=/srv/hf/run\n");
    expect(unit).not.toContain("RuntimeDirectory=");
    expect(directoriesToCreate(config)).toEqual(["/srv/hf/state", "/srv/hf/run"]);
  });

  it("GIVEN a textfile in node-exporter's directory THEN only that directory is writable, and optional", () => {
    const textfile = "/var/lib/prometheus/node-exporter/holdfast.prom";
    const config = parseSpec(withConfig({ metrics: { textfile } })).agent.config;
    expect(agentUnit(config).render()).toContain("\nReadWritePaths=-/var/lib/prometheus/node-exporter\n");
    expect(directoriesToCreate(config)).toEqual(["/var/lib/prometheus/node-exporter"]);
  });

  it("gives dhcpcd a private /run and binds the agent's paths under /run back in", () => {
    const textfile = "/run/node-exporter/textfile/holdfast.prom";
    const config = parseSpec(withConfig({ runDir: "/var/run/holdfast", metrics: { textfile } })).agent.config;
    const unit = agentUnit(config).render();
    expect(unit, "dhcpcd may run (auto): /run is private to the unit").toContain(
      "\nTemporaryFileSystem=/run:mode=0755 /var/lib/dhcpcd:mode=0700\n",
    );
    // /var/run is /run: the status file and the textfile must reach the host's
    expect(unit, "the status file and the textfile are bound back in").toContain(
      "\nBindPaths=/run/holdfast -/run/node-exporter/textfile\n",
    );
  });

  it("GIVEN dhcpcd may not run (udhcpc) THEN /run is the host's and nothing is bound", () => {
    const config = parseSpec(
      specDocument({
        config: {
          version: 1,
          attachments: [{ interface: "pn0", address: { source: "dhcp", dhcpClient: "udhcpc" } }],
        },
      }),
    ).agent.config;
    const unit = agentUnit(config).render();
    expect(unit).not.toContain("TemporaryFileSystem=");
    expect(unit).not.toContain("BindPaths=");
  });
});
