import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { CATALOGUE, catalogueOf, isProblem } from "../../src/errors/catalogue";
import { MAX_PULL_POSITION } from "../../src/webcall/pullPosition";
import defs from "../../src/protocol/schemas/defs.json";
import eventsRequest from "../../src/protocol/schemas/events-request.json";
import sessionEvent from "../../src/protocol/schemas/session-event.json";
import setupRequest from "../../src/protocol/schemas/setup-request.json";
import { AUTH, CALENDAR_PATH, EVENTS_PATH, Listener } from "../webcall/listenerHarness";
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
  const webcall = Object.values(catalogueOf("webcall"));

  it("the doc's table is the catalogue's WebCall rows (src/errors/catalogue.ts): same errcodes, same statuses", () => {
    expect(rows.length).toBeGreaterThan(10);
    expect(documented).toEqual(Object.fromEntries(webcall.map((e) => [e.errcode, e.status])));
  });

  /**
   * Every problem the source can raise: a DomainError names its problem as a
   * literal (TypeScript checks it is in the catalogue); the WebCall listener
   * sends WEBCALL_INTERNAL as a literal body (src/webcall/httpErrors.ts).
   */
  function problemsInSource(): { file: string; problem: string }[] {
    const found: { file: string; problem: string }[] = [];
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
    for (const file of walk(path.join(ROOT, "src"))) {
      const rel = path.relative(ROOT, file);
      if (rel.startsWith(path.join("src", "errors"))) continue;
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/new DomainError\(\s*("?)([A-Za-z_]*)/g)) {
        // A problem not written out could not be checked here, unless TypeScript
        // checks it: a parameter typed Problem (its callers' literals are found below).
        if (m[1] === "\"") found.push({ file: rel, problem: m[2] ?? "" });
        else if (!text.includes(`${m[2]}: Problem`)) found.push({ file: rel, problem: `(not a literal: ${m[2]})` });
      }
      for (const m of text.matchAll(/problem\("([A-Z_]+)"/g)) found.push({ file: rel, problem: m[1] ?? "" });
      if (rel.startsWith(path.join("src", "webcall"))) {
        for (const m of text.matchAll(/\{\s*errcode:\s*"(WEBCALL_[A-Z_]+)"/g)) found.push({ file: rel, problem: m[1] ?? "" });
      }
    }
    return found;
  }

  it("every problem the code raises is in the catalogue, and every WebCall row is raised somewhere", () => {
    const found = problemsInSource();
    expect(found.length).toBeGreaterThan(20);
    expect(found.filter((f) => !isProblem(f.problem)).map((f) => `${f.file}: ${f.problem}`)).toEqual([]);
    // nothing in the WebCall rows is dead
    expect(Object.keys(catalogueOf("webcall")).filter((p) => !found.some((f) => f.problem === p))).toEqual([]);
  });

  it("one errcode, one status, per listener", () => {
    for (const listener of ["webcall", "provisioning", "appservice"] as const) {
      const seen = new Map<string, number[]>();
      for (const e of Object.values(catalogueOf(listener))) seen.set(e.errcode, [...(seen.get(e.errcode) ?? []), e.status]);
      // M_NOT_JSON is Matrix's answer both to a body that is not JSON (400) and to a media type that is not (415).
      const twice = [...seen].filter(([, statuses]) => statuses.length > 1).map(([errcode]) => errcode);
      expect({ listener, twice }).toEqual({ listener, twice: listener === "webcall" ? [] : ["M_NOT_JSON"] });
    }
  });

  it("the WEBCALL_ errcodes other listeners send are documented with them (README)", () => {
    const readme = readDoc("README.md");
    const others = Object.values(CATALOGUE).filter((e) => e.errcode.startsWith("WEBCALL_") && !(e.on as readonly string[]).includes("webcall"));
    expect(others.length).toBeGreaterThan(0);
    for (const { errcode, status } of others) expect(readme).toContain(`${status} ${errcode}`);
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
    "calendar feeds": [["a calendar feed", CALENDAR_PATH, {}]],
    preflights: [
      ["setup preflight", "/webcall", { method: "OPTIONS", headers: { origin: "https://page.example", "access-control-request-method": "POST" } }],
      ["events preflight", EVENTS_PATH, { method: "OPTIONS", headers: { origin: "https://page.example", "access-control-request-method": "GET" } }],
    ],
    "405s": [["GET setup", "/webcall", { method: "GET" }]],
  };
  const on: Record<string, string[]> = {
    "every response": ["ordinary", "schemas", "calendar feeds", "preflights", "405s"],
    "every response but the schemas and a calendar feed": ["ordinary", "preflights", "405s"],
    "a calendar feed": ["calendar feeds"],
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
