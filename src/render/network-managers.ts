import { generatedMarker } from "./paths.js";
import { SystemdUnit } from "./systemd-unit.js";

/** systemd-networkd: a `.network` file matching the interfaces first, saying hands off. */
export function networkdDropIn(interfaces: readonly string[]): SystemdUnit {
  return new SystemdUnit({
    header: [generatedMarker("systemd-networkd leaves holdfast's interfaces alone")],
    sections: [
      { name: "Match", entries: [["Name", interfaces]] },
      { name: "Link", entries: [["Unmanaged", true]] },
    ],
  });
}

/**
 * NetworkManager: `+=` appends to unmanaged-devices set by other conf.d files instead of
 * replacing their list (NetworkManager.conf(5)).
 */
export function networkManagerDropIn(interfaces: readonly string[]): SystemdUnit {
  return new SystemdUnit({
    header: [generatedMarker("NetworkManager leaves holdfast's interfaces alone")],
    sections: [
      {
        name: "keyfile",
        entries: [["unmanaged-devices+", interfaces.map((i) => `interface-name:${i}`).join(";")]],
      },
    ],
  });
}

/**
 * Runtime drop-in for a renew-forever dhclient unit being retired: it must not restart
 * after the SIGKILL, and no ExecStop= may run (a stop hook could release the lease).
 */
export function retireDropIn(): SystemdUnit {
  return new SystemdUnit({
    header: [generatedMarker("retires a renew-forever DHCP client unit without releasing its lease")],
    sections: [
      {
        name: "Service",
        entries: [
          ["Restart", "no"],
          ["ExecStop", ""],
          ["ExecStopPost", ""],
        ],
      },
    ],
  });
}
