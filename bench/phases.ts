/** Where the inbound warm path's time goes, call by call: the bench's own
 *  clocks (the POST sent, the invite seen in /sync) beside the bridge's
 *  record of its m.call.invite PUT (when it started on the machine's clock,
 *  how long it took). The floor is the same PUT made by the bench. */
import { ms, summary, Stats } from "./stats";

export interface WarmPathPhases {
  /** POST sent → the bridge's invite PUT starts: everything the bridge does first. */
  beforePut: Stats;
  /** Of which: POST sent → setup() (HTTP, body, signature), setup() → the
   *  store insert (identify, rules, DM), the insert, the insert → the PUT. */
  toSetup: Stats;
  toInsert: Stats;
  insert: Stats;
  afterInsert: Stats;
  /** The bridge's invite PUT, and the floor's. */
  put: Stats;
  floorPut: Stats;
  /** The PUT answered → the invite in /sync, through the bridge and for the floor. */
  delivery: Stats;
  floorDelivery: Stats;
}

export type Marks = Record<string, { setup?: number; insert?: number; inserted?: number }>;

export function warmPathPhases(calls: ReadonlyMap<string, { t0: number; t1: number }>, sends: Record<string, { start: number; ms: number }>,
  floor: readonly { put: number; delivery: number }[], marks: Marks): WarmPathPhases {
  const beforePut: number[] = [], put: number[] = [], delivery: number[] = [];
  const toSetup: number[] = [], toInsert: number[] = [], insert: number[] = [], afterInsert: number[] = [];
  for (const [callId, send] of Object.entries(sends)) {
    const call = calls.get(callId);
    if (!call) continue;
    const mark = marks[callId];
    if (mark?.setup !== undefined && mark.insert !== undefined && mark.inserted !== undefined) {
      toSetup.push(mark.setup - call.t0);
      toInsert.push(mark.insert - mark.setup);
      insert.push(mark.inserted - mark.insert);
      afterInsert.push(send.start - mark.inserted);
    }
    beforePut.push(send.start - call.t0);
    put.push(send.ms);
    delivery.push(call.t1 - (send.start + send.ms));
  }
  return {
    beforePut: summary(beforePut), toSetup: summary(toSetup), toInsert: summary(toInsert), insert: summary(insert), afterInsert: summary(afterInsert), put: summary(put), delivery: summary(delivery),
    floorPut: summary(floor.map((f) => f.put)), floorDelivery: summary(floor.map((f) => f.delivery)),
  };
}

export function phaseLines(p: WarmPathPhases): string[] {
  const cell = (s: Stats) => `${ms(s.median).padStart(8)} (p99 ${ms(s.p99)})`;
  return [
    `  where the signed and unsigned calls' time goes (medians of ${p.beforePut.n} calls; machine clock shared by the processes):`,
    `    POST sent → the bridge's invite PUT starts   ${cell(p.beforePut)}   (floor: 0)`,
    `      POST sent → setup() (HTTP, body, signature)   ${cell(p.toSetup)}`,
    `      setup() → store insert (caller, rules, DM)    ${cell(p.toInsert)}`,
    `      the store insert                              ${cell(p.insert)}`,
    `      insert done → the PUT starts                  ${cell(p.afterInsert)}`,
    `    the invite PUT                              ${cell(p.put)}   floor ${cell(p.floorPut)}`,
    `    PUT answered → the invite in /sync          ${cell(p.delivery)}   floor ${cell(p.floorDelivery)}`,
  ];
}
