import { stringify } from "yaml";
import { VERSION } from "../version.js";
import type { AgentBundle } from "./bundle.js";
import { renderLauncher } from "./launcher.js";
import { NODE_PATHS, generatedMarker } from "./paths.js";
import { parseSpec, type Spec, type SpecInput } from "./spec.js";

/**
 * `holdfast render --format ansible`: a standard Ansible role, `roles/holdfast/`, plus an
 * example playbook, inventory and ansible.cfg. The role writes nothing of its own on the
 * node's holdfast files: it stages this holdfast's bundle (sha256-checked) and the host's
 * render spec, has that bundle render the install script (`holdfast render --format
 * script`), runs it (adoption, retiring old clients, waiting until held: the same script
 * converge delivers) and verifies with `holdfast status --json`. One source of truth.
 */

/** A file of the rendered role tree, relative to `--out`. */
export interface AnsibleFile {
  readonly path: string;
  readonly content: string | Buffer;
  readonly mode: number;
}

export interface AnsibleRoleOptions {
  /** the render spec as written: its agent config becomes the default as written (durations stay "30s") */
  readonly spec: SpecInput;
  /** where the spec came from, for errors @default "<spec>" */
  readonly file?: string;
  /** the agent bundle the role carries (and the node stages) */
  readonly bundle: AgentBundle;
  /** @default VERSION of this holdfast */
  readonly version?: string;
}

/** The ansible-core range the role is tested with: Debian 12's 2.14 up to the 2.17 series. */
export const ANSIBLE_MIN_VERSION = "2.14";

/** Where the role stages its bundle, launcher, spec and rendered script on a node. */
export const ANSIBLE_STAGE_DIR = "/var/cache/holdfast-ansible";

const ROLE = "roles/holdfast";

function yamlFile(version: string, what: string, body: string): string {
  return `---\n# ${generatedMarker(what, version)}\n${body}`;
}

function dump(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/**
 * Role variables named after the spec's fields (design §4.6), snake_case under `holdfast_`:
 * node.name → holdfast_node_name, node.bootstrapUser → holdfast_node_bootstrap_user,
 * agent.install → holdfast_agent_install, agent.config → holdfast_agent_config.
 */
function defaults(spec: Spec, written: SpecInput): string {
  return dump({
    // like converge, the host's own name replaces node.name
    holdfast_node_name: "{{ inventory_hostname }}",
    holdfast_node_bootstrap_user: spec.node.bootstrapUser,
    holdfast_agent_install: spec.agent.install,
    holdfast_agent_config: written.agent.config,
    // how long the install script waits until every attachment is held
    holdfast_wait_seconds: 120,
  });
}

function vars(bundle: AgentBundle, version: string): string {
  return dump({
    holdfast_version: version,
    holdfast_bundle_sha256: bundle.sha256,
    // fixed: the staged launcher (files/holdfast-stage) runs the bundle from here
    holdfast_stage_dir: ANSIBLE_STAGE_DIR,
  });
}

function meta(version: string): string {
  return dump({
    galaxy_info: {
      role_name: "holdfast",
      namespace: "holdfast",
      author: "holdfast",
      description: `Installs the holdfast agent ${version}: holds a node's private-network IPv4 address`,
      license: "Apache-2.0",
      min_ansible_version: ANSIBLE_MIN_VERSION,
      platforms: [{ name: "Debian", versions: ["bookworm", "bullseye"] }],
      galaxy_tags: ["networking", "dhcp", "baremetal"],
    },
    dependencies: [],
  });
}

// The spec the staged bundle renders from, built from the role variables. Keys in the
// spec's own spelling; to_nice_yaml sorts them, which parseSpec does not mind.
const SPEC_TEMPLATE = `{{ {'version': 1,
    'node': {'name': holdfast_node_name, 'bootstrapUser': holdfast_node_bootstrap_user},
    'agent': {'install': holdfast_agent_install, 'config': holdfast_agent_config}}
  | to_nice_yaml(indent=2) }}`;

const stage = (file: string): string => `{{ holdfast_stage_dir }}/${file}`;

// copy and template do not create a missing parent directory (only a dest ending in "/")
const TASKS = `- name: Create the staging directory
  ansible.builtin.file:
    path: "{{ holdfast_stage_dir }}"
    state: directory
    owner: root
    group: root
    mode: "0700"
  tags: [install, config]

- name: Stage the holdfast bundle
  ansible.builtin.copy:
    src: holdfast.mjs
    dest: "${stage("holdfast.mjs")}"
    owner: root
    group: root
    mode: "0644"
  tags: [install]

- name: Stage the launcher for the staged bundle
  ansible.builtin.copy:
    src: holdfast-stage
    dest: "${stage("holdfast")}"
    owner: root
    group: root
    mode: "0755"
  tags: [install]

- name: Stage the render spec from the role variables
  ansible.builtin.template:
    src: spec.yaml.j2
    dest: "${stage("spec.yaml")}"
    owner: root
    group: root
    mode: "0600"
  tags: [config]

- name: Apply and verify (skipped in check mode; the staging diff is the plan)
  when: not ansible_check_mode
  tags: [install, config, adopt]
  block:
    - name: Read the staged bundle's sha256
      ansible.builtin.stat:
        path: "${stage("holdfast.mjs")}"
        checksum_algorithm: sha256
      register: holdfast_staged_bundle

    - name: Refuse a staged bundle that is not the rendered one
      ansible.builtin.assert:
        that:
          - holdfast_staged_bundle.stat.exists
          - holdfast_staged_bundle.stat.checksum == holdfast_bundle_sha256
        fail_msg: >-
          ${stage("holdfast.mjs")}: sha256 is
          {{ holdfast_staged_bundle.stat.checksum | default('missing') }}, not {{ holdfast_bundle_sha256 }}
        quiet: true

    - name: Find Node.js >= 18
      ansible.builtin.command:
        argv: ["${stage("holdfast")}", --version]
      register: holdfast_node_check
      changed_when: false
      failed_when: holdfast_node_check.rc not in [0, 127]

    - name: Install the distribution's Node.js
      ansible.builtin.package:
        name: nodejs
        state: present
      when: holdfast_node_check.rc == 127

    - name: Render the install script (the one converge delivers) from the staged spec
      ansible.builtin.command:
        argv:
          - "${stage("holdfast")}"
          - render
          - --format
          - script
          - --spec
          - "${stage("spec.yaml")}"
          - --out
          - "${stage("install.sh")}"
      # writes only into the staging directory; the script run below reports the node's changes
      changed_when: false

    - name: Run the install script (adopt, retire old clients, start, wait until held)
      ansible.builtin.command:
        argv: [bash, "${stage("install.sh")}"]
      environment:
        HOLDFAST_WAIT_SECONDS: "{{ holdfast_wait_seconds }}"
      register: holdfast_apply
      changed_when: "'no changes)' not in holdfast_apply.stdout"
      notify: Check holdfast

    - name: Read holdfast status
      ansible.builtin.command:
        argv: [${NODE_PATHS.launcher}, status, --json]
      register: holdfast_status_json
      changed_when: false

    - name: Record holdfast status
      ansible.builtin.set_fact:
        holdfast_status: "{{ holdfast_status_json.stdout | from_json }}"

    - name: Verify every attachment is held
      ansible.builtin.assert:
        that:
          - holdfast_status.agent.running
          - holdfast_status.attachments | length > 0
          - holdfast_status.attachments | rejectattr('state', 'equalto', 'held') | list | length == 0
        success_msg: >-
          held {{ holdfast_status.attachments | map(attribute='interface') | zip(holdfast_status.attachments | map(attribute='cidr'))
          | map('join', ' ') | join(', ') }}
        fail_msg: "not held: {{ holdfast_status.attachments | to_json }}"
`;

const HANDLERS = `- name: Check holdfast
  ansible.builtin.command:
    argv: [${NODE_PATHS.launcher}, check]
  changed_when: false
`;

function site(): string {
  return `- name: Hold private-network addresses with holdfast
  hosts: holdfast
  become: true
  # the role reads no facts: skipping them saves a round trip per host
  gather_facts: false
  roles:
    - role: holdfast
`;
}

function inventory(version: string): string {
  return yamlFile(
    version,
    "example inventory for the holdfast role",
    dump({
      holdfast: {
        hosts: {
          "cache-a": { ansible_host: "203.0.113.10" },
          "cache-b": {
            ansible_host: "203.0.113.11",
            // a host's variables override the role's defaults
            holdfast_wait_seconds: 300,
          },
        },
        vars: { ansible_user: "ubuntu" },
      },
    }),
  );
}

function ansibleCfg(version: string): string {
  return `# ${generatedMarker("example ansible.cfg for the holdfast role", version)}
[defaults]
inventory = inventory.yml
roles_path = roles
forks = 10

[ssh_connection]
# one ssh round trip per task instead of three (needs no "requiretty" in sudoers)
pipelining = True
`;
}

/** Every file of the role and its examples, in a stable order. */
export function renderAnsibleRole(options: AnsibleRoleOptions): AnsibleFile[] {
  const version = options.version ?? VERSION;
  const { bundle } = options;
  // validated here, so a role never carries a spec the bundle would reject on the node
  const spec = parseSpec(options.spec, options.file);
  const y = (path: string, what: string, body: string): AnsibleFile => ({
    path,
    content: yamlFile(version, what, body),
    mode: 0o644,
  });
  return [
    y(
      `${ROLE}/defaults/main.yml`,
      "the holdfast role's variables, named after the render spec",
      defaults(spec, options.spec),
    ),
    y(`${ROLE}/vars/main.yml`, "the bundle this role carries", vars(bundle, version)),
    y(`${ROLE}/meta/main.yml`, "the holdfast role's metadata", meta(version)),
    y(`${ROLE}/tasks/main.yml`, "stage, render, apply and verify holdfast", TASKS),
    y(`${ROLE}/handlers/main.yml`, "the holdfast role's handlers", HANDLERS),
    {
      path: `${ROLE}/templates/spec.yaml.j2`,
      content: `# ${generatedMarker("the host's render spec, from the holdfast role's variables", version)}\n${SPEC_TEMPLATE}\n`,
      mode: 0o644,
    },
    { path: `${ROLE}/files/holdfast.mjs`, content: bundle.content, mode: 0o644 },
    {
      path: `${ROLE}/files/holdfast-stage`,
      content: renderLauncher({ bundlePath: `${ANSIBLE_STAGE_DIR}/holdfast.mjs` }),
      mode: 0o755,
    },
    y("site.yml", "example playbook for the holdfast role", site()),
    { path: "inventory.yml", content: inventory(version), mode: 0o644 },
    { path: "ansible.cfg", content: ansibleCfg(version), mode: 0o644 },
  ];
}
