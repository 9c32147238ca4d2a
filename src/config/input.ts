import { HoldfastError } from "../errors.js";
import { ReadFileError, readRegularFile } from "../util/read-file.js";
import { showFile } from "./problems.js";

export const DEFAULT_CONFIG_PATH = "/etc/holdfast/holdfast.yaml";

/** Input files (config, spec, inventory) are small; a larger one is refused unread. */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** The text of an input file, or a HoldfastError naming the file and why it cannot be read. */
export function readInputText(file: string): string {
  try {
    // a FIFO, a device (a symlink to /dev/zero) or a huge file is refused before a byte is read
    return readRegularFile(file, { maxBytes: MAX_INPUT_BYTES });
  } catch (error) {
    const why = error instanceof ReadFileError ? error.detail : String(error);
    throw new HoldfastError("cannot read file", {
      code: "invalid-input",
      subject: showFile(file),
      details: [why],
      cause: error,
    });
  }
}
