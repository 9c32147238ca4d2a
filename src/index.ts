// The library: everything the CLI does, for TypeScript controllers.
export { HoldfastError, EXIT } from "./errors.js";
export { parseConfig, loadConfig } from "./config/load.js";
export { configSchema, type Config, type Attachment } from "./config/schema.js";
export type { AttachmentStatus, AttachmentState } from "./agent/events.js";
export { VERSION } from "./version.js";
export {
  renderBootstrap,
  renderScript,
  renderCloudInit,
  renderFragment,
  renderUnits,
  parseSpec,
  specSchema,
  type Bootstrap,
  type RenderedFile,
  type RenderOptions,
  type Spec,
  type SpecInput,
} from "./render/index.js";
export { readStatus, type StatusReading } from "./observe/status-read.js";
export { evaluateCheck, type CheckResult } from "./observe/check.js";
export { renderAlerts } from "./observe/alerts.js";
export { renderNpdConfig } from "./observe/npd.js";
export { startAgent, type AgentOptions, type RunningAgent } from "./agent/agent.js";
export { converge, type ConvergeOptions } from "./converge/run.js";
export { parseInventory } from "./converge/inventory.js";
