import { createDhclientAdapter } from "../../src/dhcp/dhclient.js";
import { describeAdapter } from "./adapter-suite.js";

describeAdapter(import.meta.url, "c", createDhclientAdapter);
