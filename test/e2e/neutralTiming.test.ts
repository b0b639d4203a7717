/**
 * Neutral refusal, in timing too: a callee whose rules refuse the caller, an
 * unknown callee and an offline callee (the homeserver cannot be reached when
 * the bridge checks) must look the same to a caller: the same body, and
 * response times that cannot be told apart. 200 calls of each.
 *
 * Statistic: medians within 5 ms of one another, and every pair of p10–p90
 * ranges overlapping. The bridge runs as its own process, as in production,
 * so the homeserver's work (in this process) does not delay its clock, and on
 * PostgreSQL: with the embedded PGlite, whose queries run on the bridge's own
 * thread, a burst of lookups delays reading the next requests by a few ms,
 * before any floor can apply (docs/performance.md).
 */
import { Client } from "pg";
import { TestHomeserver } from "../homeserver";
import { BridgeProcess } from "./bridgeProcess";
import { BotChat } from "./botChat";
import { RawMatrixUser } from "./matrixUser";
import { postJson } from "./webcallClient";
import { OFFER } from "./sdp";

jest.setTimeout(120_000);

const CALLS = 200;
const CONCURRENCY = 10;
const NEUTRAL_MS = 200;

const PG_URL = process.env.WEBCALL_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const SCHEMA = `webcall_timing_${process.pid}`;

async function pg(sql: string): Promise<void> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(sql);
  await client.end();
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

describe("neutral refusal timing", () => {
  let hs: TestHomeserver;
  let bridge: BridgeProcess;

  beforeAll(async () => {
    hs = await TestHomeserver.start({ serverName: "example.org" });
    await pg(`CREATE SCHEMA ${SCHEMA}`);
    bridge = await BridgeProcess.start(hs, "example.org", {
      calls: { neutralAnswerMs: NEUTRAL_MS }, webcall: { rateLimit: { max: 100000 } }, logging: { level: "error" },
      database: { url: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${SCHEMA}`)}` },
    });
    const rita = new RawMatrixUser(hs, await hs.createUser("rita"));
    await (await BotChat.open(rita, "@webcall:example.org")).command("refuse anyone");
    await hs.createUser("olga");
  });
  afterAll(async () => {
    hs.unreachable(false);
    await bridge.stop();
    await hs.stop();
    await pg(`DROP SCHEMA ${SCHEMA} CASCADE`);
  });

  /** Times `CONCURRENCY` setups to `callee` at once, each from its own caller. */
  async function timeBlock(callee: (n: number) => string, label: string, into: number[]): Promise<void> {
    const first = into.length;
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, j) => {
      const started = performance.now();
      const res = await postJson(bridge.webcallUrl, { callerId: `${label}${first + j}@callers.example`, calleeId: callee(first + j), offer: OFFER });
      into.push(performance.now() - started);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "could_not_attend" });
    }));
  }

  it("refused, unknown and offline callees answer alike, in body and in time", async () => {
    const refused: number[] = [], unknown: number[] = [], offline: number[] = [];
    // Blocks of each kind take turns, so whatever else the machine is doing
    // weighs on all three alike.
    for (let i = 0; i < CALLS; i += CONCURRENCY) {
      await timeBlock(() => "rita@example.org", "r", refused);
      // A different unknown name each time: every one is looked up.
      await timeBlock((n) => `nobody${n}@example.org`, "u", unknown);
      hs.unreachable(true);
      await timeBlock(() => "olga@example.org", "o", offline);
      hs.unreachable(false);
    }
    for (const t of [refused, unknown, offline]) t.sort((a, b) => a - b);

    const stats = Object.entries({ refused, unknown, offline }).map(([name, t]) => ({
      name, p10: quantile(t, 0.1), median: quantile(t, 0.5), p90: quantile(t, 0.9),
    }));
    const report = stats.map((s) => `${s.name}: p10 ${s.p10.toFixed(1)} ms, median ${s.median.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms`).join("; ");
    process.stdout.write(`neutral refusal timing (${CALLS} calls each, floor ${NEUTRAL_MS} ms): ${report}\n`);

    for (const s of stats) expect(s.median).toBeGreaterThanOrEqual(NEUTRAL_MS - 2);
    for (const a of stats) {
      for (const b of stats) {
        expect(Math.abs(a.median - b.median)).toBeLessThan(5);
        expect(a.p10).toBeLessThanOrEqual(b.p90);
      }
    }
  });
});
