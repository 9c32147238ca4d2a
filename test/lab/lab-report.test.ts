import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../src/lab/report/html.js";
import { renderJson } from "../../src/lab/report/json.js";
import { renderTimelineSvg } from "../../src/lab/report/svg.js";
import { renderTable } from "../../src/lab/report/table.js";
import type { LabReport, LabRun } from "../../src/lab/run.js";
import type { Timeline } from "../../src/lab/timeline.js";
import { skipWhen } from "../helpers/skip.js";
import { decodePng } from "./lab-png.js";
import { scratchDir } from "../helpers/scratch.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");

function timeline(lostFrom: number | null): Timeline {
  const probes = Array.from({ length: 200 }, (_, i) => {
    const t = T0 + i * 100;
    return { t, ok: lostFrom === null || t < T0 + lostFrom, ms: 2 };
  });
  return {
    address:
      lostFrom === null
        ? [{ t: T0, present: true }]
        : [
            { t: T0, present: true },
            { t: T0 + lostFrom, present: false },
          ],
    probes,
    marks: [
      { t: T0, label: "start" },
      { t: T0 + 5000, label: "fault" },
      { t: T0 + 20_000, label: "end" },
    ],
  };
}

const runs: LabRun[] = [
  {
    result: {
      scenario: "silent-server",
      impl: "dhclient",
      pass: false,
      addressLostMs: 9000,
      probeFailures: 90,
      probeTotal: 150,
      timeToRestoreMs: null,
      notes: ["address absent for 9.0 s"],
    },
    timeline: timeline(11_000),
  },
  {
    result: {
      scenario: "silent-server",
      impl: "holdfast",
      pass: true,
      addressLostMs: 0,
      probeFailures: 0,
      probeTotal: 150,
      timeToRestoreMs: 0,
      notes: [],
    },
    timeline: timeline(null),
  },
];
const report: LabReport = {
  results: runs.map((r) => r.result),
  runs,
  environment: {
    holdfast: "0.1.0",
    node: "v20",
    kernel: "6.1",
    cpus: 2,
    leaseSeconds: 4,
    startedAt: new Date(T0).toISOString(),
    durationMs: 20_000,
    versions: {},
  },
};

describe("lab reports", () => {
  it("GIVEN results WHEN rendered as a table THEN one row per run with the verdict and the notes below", () => {
    expect(renderTable(report.results)).toBe(
      [
        "scenario       impl      pass  address lost  failed probes  time to restore",
        "-------------  --------  ----  ------------  -------------  ---------------",
        "silent-server  dhclient  FAIL  9.0 s         90/150         not restored",
        "silent-server  holdfast  pass  0 ms          0/150          never lost",
        "",
        "notes:",
        "  silent-server × dhclient: address absent for 9.0 s",
        "",
      ].join("\n"),
    );
  });

  it("GIVEN results WHEN rendered as JSON THEN it has design §5's shape and no timelines", () => {
    const json = JSON.parse(renderJson(report)) as {
      results: unknown[];
      environment: unknown;
      runs?: unknown;
    };
    expect(json.results[0]).toEqual({
      scenario: "silent-server",
      impl: "dhclient",
      pass: false,
      addressLostMs: 9000,
      probeFailures: 90,
      probeTotal: 150,
      timeToRestoreMs: null,
      notes: ["address absent for 9.0 s"],
    });
    expect(json.environment).toMatchObject({ leaseSeconds: 4 });
    expect(json.runs).toBeUndefined();
  });

  it("GIVEN results WHEN rendered as HTML THEN one inline SVG timeline per run and no script", () => {
    const html = renderHtml(report);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<script/i);
  });
});

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const noChromium = skipWhen(
  import.meta.url,
  CHROMIUM === undefined
    ? "the HTML rendering test needs Debian's chromium (scripts/install-deps.sh)"
    : undefined,
);

describe.skipIf(noChromium)("the HTML report in headless Chromium", () => {
  const dir = scratchDir("hflab-report-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("renders: a non-empty screenshot with the timeline colours, no console errors", () => {
    const page = join(dir, "report.html");
    const shot = join(dir, "shot.png");
    writeFileSync(page, renderHtml(report));
    const result = spawnSync(
      CHROMIUM!,
      [
        "--headless",
        "--no-sandbox", // CI runs as root
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        `--user-data-dir=${join(dir, "profile")}`,
        "--window-size=1024,900",
        `--screenshot=${shot}`,
        `file://${page}`,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(result.status).toBe(0);
    // Chromium logs page console messages as CONSOLE(line) entries
    expect(result.stderr.split("\n").filter((l) => /CONSOLE|Uncaught/.test(l))).toEqual([]);
    const png = decodePng(shot);
    expect(png.width).toBe(1024);
    let green = 0;
    let red = 0;
    for (let y = 0; y < png.height; y += 2) {
      for (let x = 0; x < png.width; x += 2) {
        const [r, g, b] = png.pixel(x, y);
        if (Math.abs(r - 0x2e) < 12 && Math.abs(g - 0x9d) < 12 && Math.abs(b - 0x4f) < 12) green++;
        if (Math.abs(r - 0xd1) < 12 && Math.abs(g - 0x38) < 12 && Math.abs(b - 0x2e) < 12) red++;
      }
    }
    expect(green).toBeGreaterThan(1000);
    expect(red).toBeGreaterThan(200);
    expect(readFileSync(shot).length).toBeGreaterThan(1000);
  });
});

describe("the conflict window on the timeline", () => {
  it("GIVEN fault and conflict-end marks THEN a band spans them behind both lanes; without them none", () => {
    const marks = [
      { t: 0, label: "start" },
      { t: 10_000, label: "fault" },
      { t: 25_000, label: "conflict-end" },
      { t: 40_000, label: "end" },
    ];
    const svg = renderTimelineSvg(
      { address: [{ t: 0, present: true }], probes: [], marks },
      "conflict × holdfast",
    );
    expect(svg).toContain("<title>conflict: another host answers for the address</title>");
    const plain = renderTimelineSvg(
      { address: [], probes: [], marks: marks.filter((m) => m.label !== "conflict-end") },
      "x",
    );
    expect(plain).not.toContain("conflict: another host");
  });
});
