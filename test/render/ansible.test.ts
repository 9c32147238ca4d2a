import { createHash } from "node:crypto";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANSIBLE_MIN_VERSION, renderAnsibleRole, type AnsibleFile } from "../../src/render/ansible.js";
import { HoldfastError } from "../../src/errors.js";
import { MARKER_PREFIX } from "../../src/render/paths.js";
import type { SpecInput } from "../../src/render/spec.js";
import { writeFileAtomic } from "../../src/util/atomic-write.js";
import { run } from "../../src/util/exec.js";
import { skipWhen } from "../helpers/skip.js";
import { expectGolden, fakeBundle, specDocument } from "./helpers.js";

const lintMissing =
  (await run("sh", ["-c", "command -v ansible-lint"], { timeoutMs: 5000 })).code === 0
    ? undefined
    : "ansible-lint is not installed (see scripts/install-deps.sh)";
const lintSkipped = skipWhen(import.meta.url, lintMissing);

describe("render --format ansible", () => {
  // GIVEN the incident's spec (a VLAN on pn0, DHCP) and the tiny stand-in bundle
  const bundle = fakeBundle();
  const spec = specDocument({ bootstrapUser: "ubuntu" }) as SpecInput;
  const files = renderAnsibleRole({ spec, bundle });
  const byPath = new Map<string, AnsibleFile>(files.map((f) => [f.path, f]));
  const text = (path: string): string => String(byPath.get(path)?.content ?? "");

  it("writes a role (tasks, handlers, defaults, vars, meta, templates, files), site.yml and an inventory", () => {
    expect(files.map((f) => f.path)).toEqual([
      "roles/holdfast/defaults/main.yml",
      "roles/holdfast/vars/main.yml",
      "roles/holdfast/meta/main.yml",
      "roles/holdfast/tasks/main.yml",
      "roles/holdfast/handlers/main.yml",
      "roles/holdfast/templates/spec.yaml.j2",
      "roles/holdfast/files/holdfast.mjs",
      "roles/holdfast/files/holdfast-stage",
      "site.yml",
      "inventory.yml",
      "ansible.cfg",
    ]);
  });

  for (const file of files.filter((f) => typeof f.content === "string")) {
    const name = `ansible.${file.path.replaceAll("/", ".")}`;
    it(`${file.path} matches its golden file and starts with the generated-by marker`, () => {
      expectGolden(name, String(file.content));
      const firstComment = String(file.content)
        .split("\n")
        .find((line) => line.startsWith("# "));
      expect(firstComment?.startsWith(`# ${MARKER_PREFIX}`), file.path).toBe(true);
    });
  }

  it("defaults name the spec's fields, with the agent config as written", () => {
    const defaults = parse(text("roles/holdfast/defaults/main.yml")) as Record<string, unknown>;
    expect(defaults).toMatchObject({
      holdfast_node_name: "{{ inventory_hostname }}",
      holdfast_node_bootstrap_user: "ubuntu",
      holdfast_agent_install: "embedded",
      holdfast_agent_config: (spec.agent as { config: unknown }).config,
    });
  });

  it("carries the bundle byte for byte, and vars pin its sha256 for the check on the node", () => {
    const carried = byPath.get("roles/holdfast/files/holdfast.mjs")!.content as Buffer;
    expect(Buffer.compare(carried, bundle.content)).toBe(0);
    const vars = parse(text("roles/holdfast/vars/main.yml")) as Record<string, unknown>;
    expect(vars.holdfast_bundle_sha256).toBe(createHash("sha256").update(carried).digest("hex"));
    expect(text("roles/holdfast/files/holdfast-stage")).toContain(
      "bundle='/var/cache/holdfast-ansible/holdfast.mjs'",
    );
  });

  it(`declares the ansible-core it is tested with (>= ${ANSIBLE_MIN_VERSION})`, () => {
    const meta = parse(text("roles/holdfast/meta/main.yml")) as {
      galaxy_info: { min_ansible_version: string };
    };
    expect(meta.galaxy_info.min_ansible_version).toBe("2.14");
  });

  it("rejects a bad spec, naming the field path, before writing anything", () => {
    const bad = specDocument({ name: "Not_A_Name" }) as SpecInput;
    let error: unknown;
    try {
      renderAnsibleRole({ spec: bad, bundle, file: "s.yaml" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).message).toBe("invalid render spec: s.yaml");
    expect((error as HoldfastError).details.join("\n")).toMatch(/node\.name: expected an RFC 1123 host name/);
  });

  describe.skipIf(lintSkipped)("ansible-lint", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "hf-ansible-lint-"));
      for (const file of files) writeFileAtomic(join(dir, file.path), file.content, file.mode);
      await mkdir(join(dir, ".home", "tmp"), { recursive: true });
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("passes with the production profile", async () => {
      const r = await run("ansible-lint", ["--profile", "production", "--offline", "--nocolor"], {
        cwd: dir,
        // per run: root's ~/.ansible is never shared between tests
        env: {
          ...process.env,
          ANSIBLE_HOME: join(dir, ".home"),
          ANSIBLE_LOCAL_TEMP: join(dir, ".home", "tmp"),
        },
        timeoutMs: 240_000,
      });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(
        /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/,
      );
    }, 300_000);
  });
});
