/** IFNAMSIZ (include/uapi/linux/if.h): 16 bytes including the trailing NUL. */
export const IFNAMSIZ = 16;

// The characters every place we write a name into takes as they are: a systemd unit value
// (no "%" or "\"), a shell word, a DHCP client's argv. A subset of what the kernel allows.
const SAFE = /^[A-Za-z0-9_.-]+$/;

/**
 * The one interface-name rule, used by config, spec and the DHCP adapters. It is the
 * kernel's `dev_valid_name()` (net/core/dev.c): 1-15 bytes, not "." or "..", no "/", ":"
 * or whitespace; narrowed to SAFE's characters and never starting with "-" (DHCP clients
 * take the name as an argv word, where "-k" would be an option) or "." (hidden paths).
 */
export function isValidIfname(name: string): boolean {
  return name.length >= 1 && name.length < IFNAMSIZ && SAFE.test(name) && !/^[-.]/.test(name);
}

/** What isValidIfname accepts, said for error messages. */
export const IFNAME_RULE = `1-${IFNAMSIZ - 1} characters from [A-Za-z0-9_.-], not starting with "-" or "."`;
