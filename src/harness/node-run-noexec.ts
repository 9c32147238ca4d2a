import { symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { mkdirUpper } from "./node-identity.js";

/**
 * A booted node's /run as a real Debian or Ubuntu server has it: their initramfs mounts it
 * `noexec`, nspawn's own /run allows exec (and `--tmpfs=/run` collides with nspawn's
 * /run/host). A DHCP hook written to /run worked on every node here and on no real server;
 * `holdfast prove` found it on a VM. So every node remounts /run early in its boot.
 */
const UNIT = `[Unit]
Description=holdfast lab: /run noexec, as Debian's and Ubuntu's initramfs mount it
DefaultDependencies=no
Before=sysinit.target
ConditionPathIsMountPoint=/run

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/mount -o remount,nosuid,nodev,noexec /run

[Install]
WantedBy=sysinit.target
`;

const NAME = "holdfast-lab-run-noexec.service";

/** Writes the unit and its sysinit.target.wants link into the node's overlay upper layer. */
export async function installRunNoexec(upper: string): Promise<void> {
  await mkdirUpper(upper, "etc/systemd/system/sysinit.target.wants");
  await writeFile(join(upper, "etc/systemd/system", NAME), UNIT, { mode: 0o644 });
  const link = join(upper, "etc/systemd/system/sysinit.target.wants", NAME);
  if (!existsSync(link)) await symlink(`../${NAME}`, link);
}
