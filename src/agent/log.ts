/**
 * The agent's log: one JSON line per state change, interface first, on stdout, which
 * journald stores as is. Nothing is logged per tick.
 */
export interface LogFields {
  readonly [key: string]: string | number | boolean | null | undefined;
}

export type Logger = (subject: string, message: string, fields?: LogFields) => void;

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  return (subject, message, fields = {}) => {
    const entry = {
      interface: subject,
      msg: `${subject}: ${message}`,
      ...fields,
      ts: new Date().toISOString(),
    };
    write(`${JSON.stringify(entry)}\n`);
  };
}
