import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { agentUnit } from "../../src/render/agent-unit.js";
import { renderCloudInitFromSpec } from "../../src/render/cloud-init.js";
import { renderScriptFromSpec } from "../../src/render/fragment.js";
import { embeddedOrNot, parseOrReject, specDocuments } from "./spec-arbitraries.js";
import { bashSyntax } from "./tools.js";

// The executing half (rendered fragments run in a sandbox) is properties.ns.test.ts.
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
});
