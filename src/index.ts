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
