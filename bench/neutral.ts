/**
 * Neutral refusal, measured from outside: POST /webcall → could_not_attend
 * for a callee whose rules refuse, an unknown callee (a new name each call,
 * so each is looked up) and an offline one (a user who exists, with the
 * homeserver dropping every request while that block runs). Every setup is
 * signed by the callers' node and its caller verified, so under
 * ring_verified the unknown and offline callees get as far as the
 * homeserver lookup; each call comes from a caller never seen before, so no
 * DM exists and first contact is checked every time. Blocks of 10
 * concurrent calls of each kind take turns, in an order that rotates, so
 * whatever else the machine does weighs on all three alike.
 *
 * That each kind is answered at the same deadline is tested structurally
 * (test/calls/neutralRefusal.test.ts); this measures what a caller would
 * see: percentiles of each kind, and a two-sample Kolmogorov–Smirnov test of
 * each pair, i.e. whether the response times tell the kinds apart.
 */
import { ksTwoSample, percentile } from "./stats";

const CONCURRENCY = 10;
const ALPHA = 0.05;
export const NEUTRAL_KINDS = ["refused", "unknown", "offline"] as const;
export type NeutralKind = (typeof NEUTRAL_KINDS)[number];

export interface NeutralOptions {
  endpoint: string;
  /** Calls of each kind. */
  calls: number;
  /** The callee of the `n`th call of a kind. */
  callee(kind: NeutralKind, n: number): string;
  /** A caller never seen before, for the `n`th call of a kind. */
  caller(kind: NeutralKind, n: number): string;
  /** A setup as the callers' node sends it, signed afresh. */
  setup(caller: string, calleeId: string): { body: object; headers: Record<string, string> };
  /** Makes the homeserver drop every request (true), or serve again. */
  unreachable(down: boolean): Promise<void>;
}

export type NeutralReport = { calls: number; floorMs: number; samples: Record<NeutralKind, number[]> };

export async function measureNeutral(o: NeutralOptions, floorMs: number): Promise<NeutralReport> {
  const samples: Record<NeutralKind, number[]> = { refused: [], unknown: [], offline: [] };
  const block = async (kind: NeutralKind, first: number): Promise<void> => {
    // Signed before the clock starts: that is the callers' node's work.
    const setups = Array.from({ length: Math.min(CONCURRENCY, o.calls - first) }, (_, j) => o.setup(o.caller(kind, first + j), o.callee(kind, first + j)));
    if (kind === "offline") await o.unreachable(true);
    try {
      await Promise.all(setups.map(async ({ body, headers }) => {
        const t0 = performance.now();
        const res = await fetch(o.endpoint, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
        const answer = await res.json() as { status?: string };
        const t = performance.now() - t0;
        if (res.status !== 200 || answer.status !== "could_not_attend") {
          throw new Error(`a call to a ${kind} callee was answered ${res.status} ${JSON.stringify(answer)}`);
        }
        samples[kind].push(t);
      }));
    } finally {
      if (kind === "offline") await o.unreachable(false);
    }
  };
  for (let first = 0, round = 0; first < o.calls; first += CONCURRENCY, round++) {
    for (let k = 0; k < NEUTRAL_KINDS.length; k++) await block(NEUTRAL_KINDS[(round + k) % NEUTRAL_KINDS.length]!, first);
  }
  return { calls: o.calls, floorMs, samples };
}

const WHAT: Record<NeutralKind, string> = {
  refused: "a callee whose own default refuses",
  unknown: "a new unregistered name each call",
  offline: "a registered callee, the homeserver dropping every request",
};

export function neutralReportLines(r: NeutralReport): string[] {
  const f = (v: number) => `${v.toFixed(2)} ms`.padStart(10);
  const lines = [
    `neutral refusal: POST /webcall → could_not_attend, ${r.calls} signed calls of each kind in interleaved blocks of ${CONCURRENCY} concurrent (floor calls.neutralAnswerMs ${r.floorMs} ms)`,
  ];
  for (const kind of NEUTRAL_KINDS) {
    const sorted = [...r.samples[kind]].sort((a, b) => a - b);
    lines.push(`  ${kind.padEnd(8)} p10 ${f(percentile(sorted, 10))}   median ${f(percentile(sorted, 50))}   p90 ${f(percentile(sorted, 90))}   (${WHAT[kind]})`);
  }
  lines.push(`  two-sample Kolmogorov–Smirnov, each pair:`);
  for (const [i, a] of NEUTRAL_KINDS.entries()) {
    for (const b of NEUTRAL_KINDS.slice(i + 1)) {
      const { d, p } = ksTwoSample(r.samples[a], r.samples[b]);
      const apart = p < ALPHA ? "yes" : "no";
      lines.push(`  ${`${a} vs ${b}`.padEnd(20)} D ${d.toFixed(3)}   p ${p.toPrecision(3).padStart(8)}   can be told apart at α=${ALPHA}: ${apart}`);
    }
  }
  return lines;
}
