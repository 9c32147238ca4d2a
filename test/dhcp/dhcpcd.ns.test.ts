import { createDhcpcdAdapter } from "../../src/dhcp/dhcpcd.js";
import { describeAdapter } from "./adapter-suite.js";

describeAdapter(import.meta.url, "d", createDhcpcdAdapter);
