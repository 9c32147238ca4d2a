import { describe, expect, it } from "vitest";
import { dhclientExchange } from "../../src/dhcp/dhclient.js";
import { dhcpcdExchange } from "../../src/dhcp/dhcpcd.js";
import { parseEnvFile } from "../../src/dhcp/parse.js";
import {
  parseClasslessBytes,
  parseClasslessPairs,
  prefixFromMask,
  toLease,
  type RawLease,
} from "../../src/dhcp/parse.js";
import { udhcpcExchange } from "../../src/dhcp/udhcpc.js";

const env = (text: string): Map<string, string> => parseEnvFile(text);

describe("lease parsing", () => {
  it("GIVEN masks THEN prefix lengths, and non-contiguous masks are refused", () => {
    expect(prefixFromMask("255.255.252.0")).toBe(22);
    expect(prefixFromMask("255.255.255.255")).toBe(32);
    expect(prefixFromMask("0.0.0.0")).toBe(0);
    expect(prefixFromMask("255.0.255.0")).toBeUndefined();
    expect(prefixFromMask("255.255.256.0")).toBeUndefined();
  });

  it("GIVEN option 121 in either shape THEN the same routes, default and on-link included", () => {
    const expected = [
      { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 },
      { dst: "default", via: "198.18.0.1", metric: 1024 },
      { dst: "198.18.4.0/24", metric: 1024 },
    ];
    expect(parseClasslessPairs("10.0.0.0/8 198.18.0.1 0.0.0.0/0 198.18.0.1 198.18.4.0/24 0.0.0.0")).toEqual(
      expected,
    );
    expect(parseClasslessBytes("8 10 198 18 0 1 0 198 18 0 1 24 198 18 4 0 0 0 0")).toEqual(expected);
    expect(parseClasslessBytes("8,10,198,18,0,1")).toEqual([expected[0]]);
  });

  it("GIVEN malformed option 121 THEN an error says what is wrong", () => {
    expect(() => parseClasslessPairs("10.0.0.0/8")).toThrow("odd number of words");
    expect(() => parseClasslessPairs("10.0.0.0/33 1.2.3.4")).toThrow('bad pair "10.0.0.0/33 1.2.3.4"');
    expect(() => parseClasslessBytes("24 10 0 0 198 18")).toThrow("truncated at byte 0");
    expect(() => parseClasslessBytes("8 300 1 1 1 1")).toThrow("bad byte");
  });

  it("GIVEN a lease without option 121 THEN the router becomes a metric-1024 default route", () => {
    const raw: RawLease = {
      ip: "198.18.0.10",
      prefix: "22",
      server: "169.254.169.254",
      leaseSeconds: "10",
      routers: "198.18.0.1 198.18.0.2",
      classless: undefined,
    };
    expect(toLease(raw, "x")).toEqual({
      cidr: "198.18.0.10/22",
      server: "169.254.169.254",
      leaseSeconds: 10,
      routes: [{ dst: "default", via: "198.18.0.1", metric: 1024 }],
    });
    expect(toLease({ ...raw, routers: undefined, leaseSeconds: undefined }, "x")).toEqual({
      cidr: "198.18.0.10/22",
      server: "169.254.169.254",
      leaseSeconds: undefined,
      routes: [],
    });
  });

  it("GIVEN a lease without address or netmask THEN the error names the client", () => {
    const raw: RawLease = {
      ip: "",
      prefix: "22",
      server: undefined,
      leaseSeconds: undefined,
      routers: undefined,
      classless: undefined,
    };
    expect(() => toLease(raw, "udhcpc")).toThrow('udhcpc reported no usable address: ""');
    expect(() => toLease({ ...raw, ip: "198.18.0.10", prefix: "255.0.255.0" }, "dhcpcd")).toThrow(
      'dhcpcd reported no usable netmask: "255.0.255.0"',
    );
  });

  // What each real client handed its hook against the lab's Kea (captured, trimmed to what we read).
  const LEASE = {
    cidr: "198.18.0.10/22",
    server: "169.254.169.254",
    leaseSeconds: 10,
    routes: [
      { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 },
      { dst: "192.168.0.0/16", via: "198.18.0.2", metric: 1024 },
    ],
  };

  it("GIVEN udhcpc's bound environment THEN the lease", () => {
    const values = env(
      "reason=bound\ninterface=pn0\nip=198.18.0.10\nmask=22\nsubnet=255.255.252.0\nserverid=169.254.169.254\n" +
        "lease=10\nrouter=198.18.0.1\nstaticroutes=10.0.0.0/8 198.18.0.1 192.168.0.0/16 198.18.0.2\n",
    );
    expect(udhcpcExchange.parse(values)).toEqual(LEASE);
  });

  it("GIVEN dhclient's BOUND environment THEN the lease", () => {
    const values = env(
      "reason=BOUND\ninterface=pn0\nnew_ip_address=198.18.0.10\nnew_subnet_mask=255.255.252.0\n" +
        "new_dhcp_server_identifier=169.254.169.254\nnew_dhcp_lease_time=10\nnew_routers=198.18.0.1\n" +
        "new_rfc3442_classless_static_routes=8 10 198 18 0 1 16 192 168 198 18 0 2\n",
    );
    expect(dhclientExchange.parse(values)).toEqual(LEASE);
  });

  it("GIVEN dhcpcd's TEST environment THEN the lease", () => {
    const values = env(
      "reason=TEST\ninterface=pn0\nnew_ip_address=198.18.0.10\nnew_subnet_cidr=22\nnew_subnet_mask=255.255.252.0\n" +
        "new_dhcp_server_identifier=169.254.169.254\nnew_dhcp_lease_time=10\nnew_routers=198.18.0.1\n" +
        "new_classless_static_routes=10.0.0.0/8 198.18.0.1 192.168.0.0/16 198.18.0.2\n",
    );
    expect(dhcpcdExchange.parse(values)).toEqual(LEASE);
  });

  it("GIVEN empty variables THEN they count as absent", () => {
    const values = env(
      "reason=bound\nip=198.18.0.10\nmask=\nsubnet=255.255.252.0\nrouter=\nstaticroutes=\nlease=\nserverid=\n",
    );
    expect(udhcpcExchange.parse(values)).toEqual({
      cidr: "198.18.0.10/22",
      server: undefined,
      leaseSeconds: undefined,
      routes: [],
    });
  });
});
