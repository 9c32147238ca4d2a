/** Spec documents where any field may be hostile, for the render property tests. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { expect } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import { parseSpec, type Spec } from "../../src/render/spec.js";
import { fakeBundle } from "./helpers.js";

// If any of these ever runs as code, this file appears.
export const CANARY = join(tmpdir(), `hf-pwned-${process.pid}`);
const PAYLOADS = [
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `'; touch ${CANARY}; '`,
  `"; touch ${CANARY}; "`,
  `\ntouch ${CANARY}\n`,
  `\nHOLDFAST_EOF\ntouch ${CANARY}\nHOLDFAST_EOF\n`,
  `$'\\n'touch ${CANARY}`,
  "${IFS}",
  "%n%s",
  "\\",
  "-rf",
  "--now",
  "*",
  "",
];

const hostile = fc.oneof(
  fc.constantFrom(...PAYLOADS),
  fc.string(),
  fc
    .tuple(fc.string({ maxLength: 5 }), fc.constantFrom(...PAYLOADS), fc.string({ maxLength: 5 }))
    .map((p) => p.join("")),
);

// Mostly valid, sometimes hostile: with every field hostile at once nothing would pass
// validation, and the point is also to render (and run) what does pass.
const field = <T, U>(valid: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: bad, weight: 1 });

/** A spec document where any field may be hostile. */
export const specDocuments = fc
  .record({
    name: field(fc.constantFrom("kura-cache-7", "a", "x-1.example"), hostile),
    user: field(fc.constantFrom("root", "ubuntu", "_svc-1"), hostile),
    install: field(fc.constantFrom("embedded", "npm"), hostile),
    iface: field(fc.constantFrom("pn0", "-n", "a.b-c_d", "..x", "$x"), hostile),
    parent: field(fc.constantFrom("auto", "eno1", "-e"), hostile),
    vlanId: field(fc.integer({ min: 1, max: 4094 }), fc.anything()),
    stateDir: field(
      fc.constantFrom("/var/lib/holdfast", "/srv/hf/state", "/var/lib/-x"),
      hostile.map((s) => `/srv/${s}`),
    ),
    // accepted with almost any host part by the config schema: the value that most often reaches the script
    listen: fc.oneof(
      fc.constant("127.0.0.1:9464"),
      hostile.map((s) => `${s}:9464`),
    ),
    textfile: field(
      fc.constant(undefined),
      hostile.map((s) => `/var/lib/${s}/holdfast.prom`),
    ),
  })
  .map((f) => ({
    version: 1,
    node: { name: f.name, bootstrapUser: f.user },
    agent: {
      install: f.install,
      config: {
        version: 1,
        stateDir: f.stateDir,
        metrics: { listen: f.listen, ...(f.textfile === undefined ? {} : { textfile: f.textfile }) },
        attachments: [
          {
            interface: f.iface,
            link: { kind: "vlan", parent: f.parent, vlanId: f.vlanId },
            address: { source: "dhcp" },
          },
        ],
      },
    },
  }));

/** Either a valid spec, or an invalid-input error (exit 2); never anything else. */
export function parseOrReject(document: unknown): Spec | undefined {
  try {
    return parseSpec(document, "property.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).code).toBe("invalid-input");
    expect((error as HoldfastError).exitCode).toBe(2);
    return undefined;
  }
}

export const bundle = fakeBundle();
export const embeddedOrNot = (spec: Spec) => (spec.agent.install === "embedded" ? bundle : undefined);
