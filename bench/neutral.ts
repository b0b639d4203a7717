/**
 * Neutral refusal, measured from outside: POST /webcall → could_not_attend
 * for a callee whose rules refuse, an unknown callee (a new name each call,
 * so each is looked up) and an offline one (a user who exists, every
 * homeserver request about whom is dropped). Every setup is signed by the
 * callers' node and its caller verified, so under ring_verified the unknown
 * and offline callees get as far as the homeserver lookup; each call comes
 * from a caller never seen before, so no DM exists and first contact is
 * checked every time.
 *
 * Three probes, the kinds taking turns throughout, so whatever else the
 * machine does weighs on all three alike:
 *  - bursts of 10 concurrent calls, the kinds mixed within each burst (the
 *    position of each kind rotating from burst to burst), so every kind
 *    shares the same load from the others;
 *  - sequential (concurrency 1): what a single prober sees;
 *  - bursts of 10 concurrent calls of one kind, the kinds taking turns: a
 *    prober's own burst, where each call waits behind work the bridge does
 *    for the others, all to the same kind of callee.
 *
 * That each kind is answered at the same deadline is tested structurally
 * (test/calls/neutralRefusal.test.ts); this measures what a caller would
 * see: percentiles of each kind, and a two-sample Kolmogorov–Smirnov test of
 * each pair, i.e. whether the response times tell the kinds apart.
 */
import { ksTwoSample, percentile } from "./stats";

const BURST = 10;
const ALPHA = 0.05;
export const NEUTRAL_KINDS = ["refused", "unknown", "offline"] as const;
export type NeutralKind = (typeof NEUTRAL_KINDS)[number];

export interface NeutralOptions {
  endpoint: string;
  /** Calls of each kind, in each probe. */
  calls: number;
  /** The callee of the `n`th call of a kind (n counts across probes). */
  callee(kind: NeutralKind, n: number): string;
  /** A caller never seen before, for the `n`th call of a kind. */
  caller(kind: NeutralKind, n: number): string;
  /** A setup as the callers' node sends it, signed afresh. */
  setup(caller: string, calleeId: string): { body: object; headers: Record<string, string> };
}

type Samples = Record<NeutralKind, number[]>;
export type NeutralReport = { calls: number; floorMs: number; mixed: Samples; sequential: Samples; sameKind: Samples };

export async function measureNeutral(o: NeutralOptions, floorMs: number): Promise<NeutralReport> {
  let n = 0;
  const probe = async (bursts: NeutralKind[][]): Promise<Samples> => {
    const samples: Samples = { refused: [], unknown: [], offline: [] };
    for (const burst of bursts) {
      // Signed before the clock starts: that is the callers' node's work.
      const calls = burst.map((kind) => ({ kind, ...o.setup(o.caller(kind, n), o.callee(kind, n++)) }));
      await Promise.all(calls.map(async ({ kind, body, headers }) => {
        const t0 = performance.now();
        const res = await fetch(o.endpoint, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
        const answer = await res.json() as { status?: string };
        const t = performance.now() - t0;
        if (res.status !== 200 || answer.status !== "could_not_attend") {
          throw new Error(`a call to a ${kind} callee was answered ${res.status} ${JSON.stringify(answer)}`);
        }
        samples[kind].push(t);
      }));
    }
    return samples;
  };
  // r, u, o, r, …: cut into bursts of 10, each kind's positions rotate by one from burst to burst.
  const interleaved = Array.from({ length: o.calls * NEUTRAL_KINDS.length }, (_, i) => NEUTRAL_KINDS[i % NEUTRAL_KINDS.length]!);
  const mixedBursts = Array.from({ length: Math.ceil(interleaved.length / BURST) }, (_, b) => interleaved.slice(b * BURST, (b + 1) * BURST));
  // Ten of a kind at a time, the kinds' order rotating from round to round.
  const ofOneKind: NeutralKind[][] = [];
  for (let first = 0, round = 0; first < o.calls; first += BURST, round++) {
    for (let k = 0; k < NEUTRAL_KINDS.length; k++) {
      ofOneKind.push(Array<NeutralKind>(Math.min(BURST, o.calls - first)).fill(NEUTRAL_KINDS[(round + k) % NEUTRAL_KINDS.length]!));
    }
  }
  const mixed = await probe(mixedBursts);
  const sequential = await probe(interleaved.map((kind) => [kind]));
  const sameKind = await probe(ofOneKind);
  return { calls: o.calls, floorMs, mixed, sequential, sameKind };
}

const WHAT: Record<NeutralKind, string> = {
  refused: "a callee whose own default refuses",
  unknown: "a new unregistered name each call",
  offline: "a registered callee, every homeserver request about whom is dropped",
};

function probeLines(title: string, samples: Samples): string[] {
  const f = (v: number) => `${v.toFixed(2)} ms`.padStart(10);
  const lines = [`  ${title}`];
  for (const kind of NEUTRAL_KINDS) {
    const sorted = [...samples[kind]].sort((a, b) => a - b);
    lines.push(`    ${kind.padEnd(8)} p10 ${f(percentile(sorted, 10))}   median ${f(percentile(sorted, 50))}   p90 ${f(percentile(sorted, 90))}   (${WHAT[kind]})`);
  }
  lines.push(`    two-sample Kolmogorov–Smirnov, each pair:`);
  for (const [i, a] of NEUTRAL_KINDS.entries()) {
    for (const b of NEUTRAL_KINDS.slice(i + 1)) {
      const { d, p } = ksTwoSample(samples[a], samples[b]);
      const verdict = p < ALPHA ? "can" : "cannot";
      lines.push(`    ${`${a} vs ${b}`.padEnd(20)} D ${d.toFixed(3)}   p ${p.toPrecision(3).padStart(8)}   ${verdict} be told apart at α=${ALPHA}`);
    }
  }
  return lines;
}

export function neutralReportLines(r: NeutralReport): string[] {
  return [
    `neutral refusal: POST /webcall → could_not_attend, ${r.calls} signed calls of each kind per probe, the kinds interleaved (floor calls.neutralAnswerMs ${r.floorMs} ms)`,
    ...probeLines(`bursts of ${BURST} concurrent, the kinds mixed within each burst:`, r.mixed),
    ...probeLines(`sequential (concurrency 1), what a single prober sees:`, r.sequential),
    ...probeLines(`bursts of ${BURST} concurrent of one kind (a prober's own burst):`, r.sameKind),
  ];
}
