import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { OTHER_LISTENERS_ERRCODES, WEBCALL_ERRCODES } from "../../src/webcall/errcodes";
import { MAX_PULL_POSITION } from "../../src/webcall/pullPosition";
import defs from "../../src/protocol/schemas/defs.json";
import eventsRequest from "../../src/protocol/schemas/events-request.json";
import sessionEvent from "../../src/protocol/schemas/session-event.json";
import setupRequest from "../../src/protocol/schemas/setup-request.json";
import { AUTH, EVENTS_PATH, Listener } from "../webcall/listenerHarness";
import { codeSpans, readDoc, ROOT, section, table } from "./markdownTables";

/**
 * docs/webcall-protocol.md and the server agree: the doc's tables are read
 * here and held against the code (the errcode catalogue, every errcode in
 * src/, the schemas' number ranges) and against a running WebCall listener
 * (the headers it promises).
 */

const doc = readDoc("docs/webcall-protocol.md");

describe("errcodes", () => {
  const rows = table(section(doc, "Errors"), ["status", "errcode", "when"]);
  const documented = Object.fromEntries(rows.map((r) => [codeSpans(r.errcode ?? "")[0] ?? "", Number(r.status)]));

  it("the doc's table is the catalogue (src/webcall/errcodes.ts): same errcodes, same statuses", () => {
    expect(rows.length).toBeGreaterThan(10);
    expect(documented).toEqual({ ...WEBCALL_ERRCODES });
  });

  /**
   * Every WEBCALL_ errcode the source can put in a response: a listener sends
   * an errcode only as a BridgeError (or, for WEBCALL_INTERNAL, a literal
   * body in src/webcall/). Other listeners' BridgeErrors (M_… codes) are
   * theirs; a WEBCALL_ code elsewhere (a start-up refusal's) is never sent.
   */
  function errcodesInSource(): { file: string; status: number; errcode: string }[] {
    const found: { file: string; status: number; errcode: string }[] = [];
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
    for (const file of walk(path.join(ROOT, "src"))) {
      const text = readFileSync(file, "utf8");
      const rel = path.relative(ROOT, file);
      const constructed = [...text.matchAll(/new BridgeError\(\s*([^,]*),\s*("?)([A-Za-z_]*)/g)];
      for (const m of constructed) {
        // An errcode not written out could not be checked here.
        if (m[2] !== "\"") found.push({ file: rel, status: NaN, errcode: `(not a literal: ${m[3]})` });
        else if (m[3]?.startsWith("WEBCALL_")) found.push({ file: rel, status: /^\d{3}$/.test(m[1] ?? "") ? Number(m[1]) : NaN, errcode: m[3] });
      }
      if (rel.startsWith(path.join("src", "webcall"))) {
        for (const m of text.matchAll(/status\((\d{3})\)\.json\(\{\s*errcode:\s*"(WEBCALL_[A-Z_]+)"/g)) found.push({ file: rel, status: Number(m[1]), errcode: m[2] ?? "" });
      }
    }
    return found;
  }

  it("every errcode the code can send is in the doc's table with its status (or is another listener's)", () => {
    const all = { ...WEBCALL_ERRCODES, ...OTHER_LISTENERS_ERRCODES } as Record<string, number>;
    const found = errcodesInSource();
    expect(found.length).toBeGreaterThan(20);
    expect(found.map((f) => f.errcode)).toContain("WEBCALL_INTERNAL");
    const problems = found.filter((f) => f.status !== all[f.errcode]).map((f) => `${f.file}: ${f.status} ${f.errcode}`);
    expect(problems).toEqual([]);
    // and nothing in the catalogue is dead
    expect(Object.keys(WEBCALL_ERRCODES).filter((e) => !found.some((f) => f.errcode === e))).toEqual([]);
  });

  it("the WEBCALL_ errcodes other listeners send are documented with them (README)", () => {
    const readme = readDoc("README.md");
    for (const [errcode, status] of Object.entries(OTHER_LISTENERS_ERRCODES)) expect(readme).toContain(`${status} ${errcode}`);
  });
});

describe("numbers", () => {
  const rows = table(section(doc, "Numbers"), ["field", "where", "range"]);
  const ranges = Object.fromEntries(rows.map((r) => [codeSpans(r.field ?? "")[0] ?? "", r.range]));
  const range = (s: { minimum: number; maximum: number }) => `${s.minimum}–${s.maximum}`;

  it("each range is the one the schemas and the listener apply", () => {
    expect(ranges).toEqual({
      "lifetime": range(setupRequest.properties.lifetime),
      "chain[].ts": range(defs.$defs.hop.properties.ts),
      "candidates[].sdpMLineIndex": range(defs.$defs.iceCandidate.properties.sdpMLineIndex),
      "since": `0–${MAX_PULL_POSITION}`,
      "Last-Event-ID": `0–${MAX_PULL_POSITION}`,
      "timeout": `0–${Number.MAX_SAFE_INTEGER}`,
    });
  });

  it("every number in a request schema is in the table", () => {
    const numeric: string[] = [];
    const walk = (node: unknown, name: string): void => {
      if (Array.isArray(node)) { node.forEach((n) => walk(n, name)); return; }
      if (!node || typeof node !== "object") return;
      const type = (node as { type?: unknown }).type;
      if ([type].flat().some((t) => t === "integer" || t === "number")) numeric.push(name);
      for (const [key, value] of Object.entries(node)) walk(value, key === "properties" || key === "$defs" || key === "items" ? name : key);
    };
    // Request-side schemas (defs.json holds the candidate and the hop they use).
    for (const schema of [setupRequest, eventsRequest, sessionEvent, { hop: defs.$defs.hop, iceCandidate: defs.$defs.iceCandidate }]) walk(schema, "");
    const documented = Object.keys(ranges).map((f) => f.split(".").at(-1) ?? f);
    expect([...new Set(numeric)].sort()).toEqual(["lifetime", "sdpMLineIndex", "ts"]);
    for (const name of numeric) expect(documented).toContain(name);
  });
});

describe("response headers, against a running listener", () => {
  const rows = table(section(doc, "Response headers"), ["header", "value", "on"]);
  let l: Listener;
  beforeAll(async () => { l = await Listener.start(); });
  afterAll(() => l.stop());

  const SETUP = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ calleeId: "alice@example.org" }) };
  /** One request of each kind the table names, by the words of its "on" column. */
  const samples: Record<string, [string, string, RequestInit][]> = {
    ordinary: [
      ["setup", "/webcall", SETUP],
      ["setup refused", "/webcall", { ...SETUP, body: "{}" }],
      ["wrong charset", "/webcall", { ...SETUP, headers: { "content-type": "application/json; charset=utf-16le" } }],
      ["long poll", `${EVENTS_PATH}?timeout=0`, { headers: AUTH }],
      ["no token", EVENTS_PATH, {}],
      ["unknown route", "/webcall/nothing", {}],
      ["keys", "/webcall/keys", {}],
    ],
    schemas: [["a schema", "/webcall/schemas/defs.json", {}]],
    preflights: [
      ["setup preflight", "/webcall", { method: "OPTIONS", headers: { origin: "https://page.example", "access-control-request-method": "POST" } }],
      ["events preflight", EVENTS_PATH, { method: "OPTIONS", headers: { origin: "https://page.example", "access-control-request-method": "GET" } }],
    ],
    "405s": [["GET setup", "/webcall", { method: "GET" }]],
  };
  const on: Record<string, string[]> = {
    "every response": ["ordinary", "schemas", "preflights", "405s"],
    "every response but the schemas": ["ordinary", "preflights", "405s"],
    "the schemas": ["schemas"],
    "preflights": ["preflights"],
    "preflights and 405s": ["preflights", "405s"],
  };

  it("every row names responses this test knows", () => {
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const row of rows) expect(Object.keys(on)).toContain(row.on);
  });

  it("each header is on the responses the doc says, with the value it gives in full", async () => {
    const problems: string[] = [];
    for (const row of rows) {
      const header = codeSpans(row.header ?? "")[0] ?? "";
      const spans = codeSpans(row.value ?? "");
      // A value given whole as one code span is literal; otherwise the header must simply be there.
      const literal = spans.length === 1 && row.value === `\`${spans[0]}\`` ? spans[0] : undefined;
      for (const kind of on[row.on ?? ""] ?? []) {
        for (const [name, p, init] of samples[kind] ?? []) {
          const res = await l.fetch(p, init);
          await res.arrayBuffer();
          const got = res.headers.get(header);
          if (got === null || (literal !== undefined && got !== literal)) problems.push(`${name} (${res.status}): ${header} is ${JSON.stringify(got)}, the doc says ${row.value}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("X-Request-Id is the caller's when sane, else a new UUID", async () => {
    expect((await l.fetch("/webcall/keys", { headers: { "x-request-id": "abc.1:2_3-4" } })).headers.get("x-request-id")).toBe("abc.1:2_3-4");
    expect((await l.fetch("/webcall/keys", { headers: { "x-request-id": "no spaces" } })).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
