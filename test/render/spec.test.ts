import { describe, expect, it } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import { agentUnit, directoriesToCreate } from "../../src/render/agent-unit.js";
import { parseSpec, unitPathProblem } from "../../src/render/spec.js";
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

/** How an error message echoes a long value: JSON, cut at 80 characters (src/util/got.ts). */
const cut = (value: string) => `${JSON.stringify(value).slice(0, 80)}… (${value.length + 2} characters)`;

describe("render spec bounds: node.name (RFC 1123, as Kubernetes node names)", () => {
  const NAME_RULE = "expected an RFC 1123 host name (lower-case labels of [a-z0-9-], at most 253 characters)";
  const label = (c: string, n: number) => c.repeat(n);
  const name253 = [label("a", 63), label("b", 63), label("c", 63), label("d", 61)].join(".");

  it.each(["a", "7", "kura-cache-7", "a.b", label("a", 63), name253])("GIVEN %j THEN accepted", (name) => {
    expect(parseSpec(specDocument({ name })).node.name).toBe(name);
  });

  it.each(["Kura", "-a", "a-", "a..b", ".a", "a.", "a_b", "", "a b"])("GIVEN %j THEN refused", (name) => {
    expect(detailsOf(specDocument({ name }))).toEqual([
      `node.name: ${NAME_RULE}, got ${JSON.stringify(name)}`,
    ]);
  });

  it("GIVEN a 64-character label THEN refused; GIVEN 254 characters in all THEN refused", () => {
    expect(detailsOf(specDocument({ name: label("a", 64) }))).toEqual([
      `node.name: ${NAME_RULE}, got ${JSON.stringify(label("a", 64))}`,
    ]);
    const name254 = `${name253}d`;
    expect(name254.split(".").every((l) => l.length <= 63)).toBe(true);
    expect(detailsOf(specDocument({ name: name254 }))).toEqual([
      `node.name: ${NAME_RULE}, got ${cut(name254)}`,
    ]);
  });
});

describe("render spec bounds: node.bootstrapUser (adduser's NAME_REGEX, utmp's 32 characters)", () => {
  const USER_RULE =
    'expected a Linux user name (1-32 characters from [a-z0-9_-], not starting with a digit or "-")';

  it.each(["root", "ubuntu", "_svc", "a", "u".repeat(32), "deploy-bot_2"])(
    "GIVEN %j THEN accepted",
    (user) => {
      expect(parseSpec(specDocument({ bootstrapUser: user })).node.bootstrapUser).toBe(user);
    },
  );

  it.each(["u".repeat(33), "1ubuntu", "-ubuntu", "Ubuntu", "", "ubuntu$", "ub untu"])(
    "GIVEN %j THEN refused",
    (user) => {
      expect(detailsOf(specDocument({ bootstrapUser: user }))).toEqual([
        `node.bootstrapUser: ${USER_RULE}, got ${JSON.stringify(user)}`,
      ]);
    },
  );

  it("GIVEN no bootstrapUser THEN root; GIVEN no install THEN embedded", () => {
    const spec = parseSpec({
      version: 1,
      node: { name: "a" },
      agent: { config: { version: 1, attachments: ATTACHMENTS } },
    });
    expect([spec.node.bootstrapUser, spec.agent.install]).toEqual(["root", "embedded"]);
  });

  it("GIVEN install apt THEN refused naming the two modes", () => {
    expect(
      detailsOf({
        ...specDocument({}),
        agent: { install: "apt", config: { version: 1, attachments: ATTACHMENTS } },
      }),
    ).toEqual(['agent.install: expected one of embedded, npm, got "apt"']);
  });

  it("GIVEN version 2 THEN refused", () => {
    expect(detailsOf({ ...specDocument({}), version: 2 })).toEqual(["version: expected 1, got 2"]);
  });

  it("GIVEN an invalid agent config inside THEN its bounds apply under agent.config", () => {
    expect(
      detailsOf(withConfig({ attachments: [{ interface: "pn0", link: { kind: "vlan", vlanId: 4095 } }] })),
    ).toEqual(["agent.config.attachments[0].link.vlanId: expected an integer 1-4094, got 4095"]);
  });
});

describe("render spec bounds: unitPathProblem", () => {
  const CHARS =
    'expected an absolute path from [A-Za-z0-9._/-] without "." or ".." segments (it is written into the unit)';

  it.each([
    ["/srv/hf", "stateDir"],
    ["/var/lib/holdfast", "stateDir"],
    ["/usrlocal/holdfast", "stateDir"], // a tree's name as a prefix is not the tree
    ["/run/holdfast", "runDir"],
    ["/var/run/holdfast", "runDir"],
    ["/srv/metrics/holdfast.prom", "textfile"],
    ["/run/node-exporter/holdfast.prom", "textfile"],
    ["/srv/a.b/c_d-e", "stateDir"],
  ] as const)("GIVEN %s as %s THEN no problem", (path, role) => {
    expect(unitPathProblem(path, role)).toBeUndefined();
  });

  it.each([
    ["/srv/./hf", `${CHARS}, got "/srv/./hf"`],
    ["/srv/../etc", `${CHARS}, got "/srv/../etc"`],
    ["/srv/h f", `${CHARS}, got "/srv/h f"`],
    ["/srv/%h", `${CHARS}, got "/srv/%h"`],
    ["/srv/hf/", `${CHARS}, got "/srv/hf/"`],
    ["srv/hf", `${CHARS}, got "srv/hf"`],
    ["/srv/.hf", `${CHARS}, got "/srv/.hf"`],
    ["/srv", 'expected a directory at least two levels deep (the agent\'s unit may write to it), got "/srv"'],
    [
      "/usr/holdfast",
      'expected a path outside /usr (ProtectSystem=strict keeps it read-only), got "/usr/holdfast"',
    ],
    [
      "/lib64/holdfast",
      'expected a path outside /lib64 (ProtectSystem=strict keeps it read-only), got "/lib64/holdfast"',
    ],
    [
      "/boot/holdfast",
      'expected a path outside /boot (ProtectSystem=strict keeps it read-only), got "/boot/holdfast"',
    ],
  ])("GIVEN stateDir %s THEN refused", (path, problem) => {
    expect(unitPathProblem(path, "stateDir")).toBe(problem);
  });

  it("GIVEN a runDir under /run THEN fine, a stateDir there THEN refused (emptied at boot)", () => {
    expect(unitPathProblem("/run/holdfast", "runDir")).toBeUndefined();
    expect(unitPathProblem("/run/holdfast", "stateDir")).toBe(
      'expected a path outside /run (emptied at every boot, and the cache must survive reboots), got "/run/holdfast"',
    );
  });
});
