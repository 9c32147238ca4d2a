/**
 * Typed systemd-style INI files (units, networkd .network files, NetworkManager conf.d
 * drop-ins) rendered with a stable order: sections and keys come out exactly in the
 * order they were given, so the same input always renders the same bytes.
 */

export type IniValue = string | number | boolean | readonly string[];

/** One `Key=value` line; a key may repeat (systemd merges repeated list settings). */
export type IniEntry = readonly [key: string, value: IniValue];

export interface IniSection {
  readonly name: string;
  readonly entries: readonly IniEntry[];
  /** comment lines written above the section header */
  readonly comment?: readonly string[];
}

export interface SystemdUnitOptions {
  /** comment lines at the top of the file (without the leading "# ") */
  readonly header: readonly string[];
  readonly sections: readonly IniSection[];
}

const KEY = /^[A-Za-z][A-Za-z0-9_+-]*$/;

// Values are written literally. systemd expands "%" specifiers and C escapes in many
// settings, and a newline would start a new setting, so such characters are refused
// here rather than escaped: every value holdfast writes is validated to avoid them.
function renderValue(key: string, value: IniValue): string {
  const text =
    typeof value === "boolean"
      ? value
        ? "yes"
        : "no"
      : Array.isArray(value)
        ? value.join(" ")
        : String(value);
  if (/[\n\r%\\]/.test(text)) {
    throw new Error(
      `internal: unit value for ${key} contains a newline, "%" or "\\": ${JSON.stringify(text)}`,
    );
  }
  return text;
}

function comments(lines: readonly string[]): string[] {
  return lines.map((line) => (line === "" ? "#" : `# ${line}`));
}

export class SystemdUnit {
  constructor(readonly options: SystemdUnitOptions) {}

  /** The entries of one section, in order (for tests and callers that inspect a unit). */
  get(section: string, key: string): IniValue[] {
    const found = this.options.sections.find((s) => s.name === section);
    return (found?.entries ?? []).filter(([k]) => k === key).map(([, v]) => v);
  }

  render(): string {
    const out = comments(this.options.header);
    for (const section of this.options.sections) {
      out.push("");
      out.push(...comments(section.comment ?? []));
      out.push(`[${section.name}]`);
      for (const [key, value] of section.entries) {
        if (!KEY.test(key)) throw new Error(`internal: bad unit key ${JSON.stringify(key)}`);
        out.push(`${key}=${renderValue(key, value)}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}
