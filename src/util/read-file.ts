import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/**
 * Why a file was not read. `kind` lets each caller decide: input files exit 2, the cache
 * and status.json are set aside or reported.
 */
export class ReadFileError extends Error {
  constructor(
    readonly kind: "missing" | "not-regular" | "too-large" | "unreadable",
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ReadFileError";
  }
}

export interface ReadLimits {
  /** larger files are refused without reading them */
  readonly maxBytes: number;
  /** refuse a symlink (the cache and status.json: files the agent wrote itself) */
  readonly noFollow?: boolean;
  /** refuse a file owned by anyone but root or this process's user */
  readonly ownedByUs?: boolean;
}

function describeType(mode: number): string {
  const type = mode & constants.S_IFMT;
  if (type === constants.S_IFIFO) return "a FIFO";
  if (type === constants.S_IFCHR) return "a character device";
  if (type === constants.S_IFBLK) return "a block device";
  if (type === constants.S_IFSOCK) return "a socket";
  if (type === constants.S_IFDIR) return "a directory";
  return "not a regular file";
}

/**
 * Reads a regular file of at most `maxBytes`, and only that: a FIFO, a device (a symlink to
 * /dev/zero), a directory or a huge file is refused at once, before a byte is read, so no
 * input can hang a command or fill its memory. O_NONBLOCK keeps even the open of a FIFO
 * from waiting for a writer.
 */
export function readRegularFile(path: string, limits: ReadLimits): string {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_RDONLY | constants.O_NONBLOCK | (limits.noFollow ? constants.O_NOFOLLOW : 0),
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    if (code === "ENOENT") throw new ReadFileError("missing", "no such file");
    if (code === "ELOOP") throw new ReadFileError("not-regular", "a symlink (refused here)");
    if (code === "EACCES") throw new ReadFileError("unreadable", "permission denied");
    throw new ReadFileError("unreadable", code);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new ReadFileError("not-regular", `${describeType(stat.mode)}, not a regular file`);
    const uid = process.getuid?.() ?? 0;
    if (limits.ownedByUs && stat.uid !== 0 && stat.uid !== uid)
      throw new ReadFileError("not-regular", `owned by uid ${stat.uid}, not by root or this user`);
    if (stat.size > limits.maxBytes)
      throw new ReadFileError("too-large", `${stat.size} bytes, more than the ${limits.maxBytes} allowed`);
    // read one byte more than allowed: a file that grows while we read is refused too
    const buffer = Buffer.alloc(limits.maxBytes + 1);
    let length = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (error) {
        throw new ReadFileError("unreadable", (error as NodeJS.ErrnoException).code ?? "error");
      }
      if (n === 0) break;
      length += n;
      if (length > limits.maxBytes)
        throw new ReadFileError("too-large", `more than the ${limits.maxBytes} bytes allowed`);
    }
    return buffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}
