import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import { agentUnit } from "../../src/render/agent-unit.js";
import { renderCloudInitFromSpec } from "../../src/render/cloud-init.js";
import { renderFragmentFromSpec, renderScriptFromSpec } from "../../src/render/fragment.js";
import { parseSpec, specSchema, type Spec } from "../../src/render/spec.js";
import { isRoot, warnSkipped } from "../helpers/root.js";
import { fakeBundle, specDocument } from "./helpers.js";

const specDocumentFor = (name: string) => specDocument({ name });
import { Sandbox } from "./sandbox.js";
import { bashSyntax } from "./tools.js";

// If any of these ever runs as code, this file appears.
const CANARY = join(tmpdir(), `hf-pwned-${process.pid}`);
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
const specDocuments = fc
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
function parseOrReject(document: unknown): Spec | undefined {
  try {
    return parseSpec(document, "property.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).code).toBe("invalid-input");
    expect((error as HoldfastError).exitCode).toBe(2);
    return undefined;
  }
}

const bundle = fakeBundle();
const embeddedOrNot = (spec: Spec) => (spec.agent.install === "embedded" ? bundle : undefined);

afterAll(() => rmSync(CANARY, { force: true }));

describe("any value in any spec field is rejected with exit 2 or rendered inert", () => {
  it("rejects or renders every format; scripts stay valid bash", () => {
    let accepted = 0;
    fc.assert(
      fc.property(specDocuments, (document) => {
        const spec = parseOrReject(document);
        if (!spec) return;
        accepted += 1;
        const script = renderScriptFromSpec(spec, embeddedOrNot(spec));
        expect(bashSyntax(script).stderr).toBe("");
        renderCloudInitFromSpec(spec, embeddedOrNot(spec));
        agentUnit(spec.agent.config).render();
      }),
      { numRuns: 300 },
    );
    console.log(`spec properties: ${accepted} of 300 generated specs were accepted and rendered`);
    expect(accepted).toBeGreaterThan(0);
  });

  it.skipIf(!isRoot)(
    "an accepted hostile value never runs: the rendered fragment, executed, never touches the canary",
    () => {
      let executed = 0;
      fc.assert(
        // only specs that pass validation: those are the ones that could smuggle code
        fc.property(
          specDocuments.filter((d) => specSchema.safeParse(d).success),
          (document) => {
            const spec = parseOrReject(document);
            if (!spec) return;
            const sandbox = new Sandbox();
            try {
              sandbox.run(renderFragmentFromSpec(spec, embeddedOrNot(spec)));
              executed += 1;
            } finally {
              sandbox.dispose();
            }
            expect(existsSync(CANARY), `canary ran for ${JSON.stringify(document)}`).toBe(false);
          },
        ),
        { numRuns: 25 },
      );
      console.log(`spec properties: ${executed} accepted specs executed in the sandbox, canary untouched`);
    },
  );

  it.skipIf(!isRoot)("the canary check is not vacuous: an unquoted value in the fragment does run", () => {
    const spec = parseSpec(specDocumentFor("kura-cache-7"));
    const unsafe = renderFragmentFromSpec(spec, bundle).replace(
      "holdfast_node='kura-cache-7'",
      `holdfast_node="$(touch ${CANARY})"`,
    );
    const sandbox = new Sandbox();
    try {
      sandbox.run(unsafe);
    } finally {
      sandbox.dispose();
    }
    expect(existsSync(CANARY)).toBe(true);
    rmSync(CANARY);
  });
});

if (!isRoot) warnSkipped("the executing half of test/render/properties.test.ts");
