import { join } from "node:path";
import type { Attachment } from "../config/schema.js";
import type { Lease } from "../dhcp/lease.js";
import { getAdapter } from "../dhcp/select.js";

/**
 * One DHCP exchange for an attachment with the configured client (`auto`: the first one
 * installed). Lease and pid files live in `<runDir>/dhcp/<interface>`, never the system's.
 */
export function discoverWith(runDir: string) {
  return async (attachment: Attachment): Promise<Lease & { client: string }> => {
    if (attachment.address.source !== "dhcp") throw new Error("static attachments are not discovered");
    const adapter = await getAdapter(attachment.address.dhcpClient);
    const lease = await adapter.discover(attachment.interface, {
      timeoutMs: attachment.discovery.attemptTimeout,
      workDir: join(runDir, "dhcp", attachment.interface),
    });
    return { ...lease, client: adapter.name };
  };
}
