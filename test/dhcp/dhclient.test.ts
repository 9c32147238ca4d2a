import { createDhclientAdapter } from "../../src/dhcp/dhclient.js";
import { describeAdapter } from "./adapter-suite.js";

describeAdapter("c", createDhclientAdapter);
