// status and check tests run the whole CLI in-process; main() loads only the invoked command.
export { runCli } from "../../helpers/cli.js";
