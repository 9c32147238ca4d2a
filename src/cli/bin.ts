import { installEarlyExit } from "./early-signals.js";
import { main } from "./main.js";

installEarlyExit();
process.exitCode = await main(process.argv.slice(2));
