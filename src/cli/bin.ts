// first: the agent's early SIGTERM handling must be in place before anything else loads
import "./early-signals.js";
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2));
