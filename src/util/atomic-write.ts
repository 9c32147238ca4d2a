import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Why a file could not be written, said the same way every time: the target path and the
 * errno, never the temp file's name (which differs per attempt). A caller that logs each
 * distinct problem once (observe/error-gate.ts) then logs a full /run once, not per pass.
 */
export class WriteError extends Error {
  constructor(
    readonly path: string,
    readonly errno: string,
    cause?: unknown,
  ) {
    super(`cannot write ${path} (${errno})`, { cause });
    this.name = "WriteError";
  }
}

const errnoOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? "error";

/** write(2) may write less than asked (a nearly full tmpfs): loop, and call 0 bytes ENOSPC. */
function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) {
    const written = writeSync(fd, data, offset, data.length - offset, offset);
    if (written <= 0) throw Object.assign(new Error("short write"), { code: "ENOSPC" });
    offset += written;
  }
}

/**
 * Writes a file so that a reader only ever sees the old or the new content, also across
 * a power cut: temp file in the same directory, every byte written and fsynced, rename,
 * fsync of the directory. Anything short of that leaves the old file and throws WriteError;
 * a partial temp file is never renamed into place.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  const data = Buffer.from(content);
  let temp: string | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    const fd = openSync(temp, "wx", mode);
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    temp = undefined;
  } catch (error) {
    if (temp !== undefined) {
      try {
        unlinkSync(temp);
      } catch {
        // never made, or the directory went away
      }
    }
    throw new WriteError(path, errnoOf(error), error);
  }
  // The rename is done; a directory that cannot be synced (EINVAL on some filesystems) does
  // not undo it.
  try {
    const dirFd = openSync(dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // the new content is in place; only its durability across a power cut is weaker
  }
}
