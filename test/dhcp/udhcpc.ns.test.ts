import { createUdhcpcAdapter } from "../../src/dhcp/udhcpc.js";
import { describeAdapter } from "./adapter-suite.js";

describeAdapter(import.meta.url, "u", createUdhcpcAdapter);
