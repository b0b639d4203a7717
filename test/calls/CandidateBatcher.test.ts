import { CandidateBatcher } from "../../src/calls/CandidateBatcher";
import { candidateRuns, candidatesContent } from "../../src/matrix/callEvents";
import { jsonBytes, MAX_CONTENT_JSON_BYTES, MAX_PDU_BYTES, splitByBytes } from "../../src/util/eventSize";
import { IceCandidate } from "../../src/protocol/types";

const CALL_ID = "c".repeat(255);
const PARTY_ID = "bridge-party";

/** Candidate `n` of `length` characters. `fill` makes it cost more bytes than characters as JSON. */
function candidate(n: number, length = 4096, fill = "p"): IceCandidate {
  const line = `candidate:${n} 1 udp 2122260223 127.0.0.1 ${5000 + n} typ host x-pad `;
  return { candidate: line + fill.repeat(length - line.length), sdpMid: "m".repeat(255), sdpMLineIndex: 65535 };
}

describe("candidateRuns: m.call.candidates contents within Synapse's 64 KiB", () => {
  it.each([
    ["ASCII", "p"],
    ["JSON-escaped (a control character is six bytes)", "\u0001"],
    ["multi-byte UTF-8", "é"],
  ])("cuts 100 candidates of 4,096 %s characters into contents that each fit, in order", (_kind, fill) => {
    const candidates = Array.from({ length: 100 }, (_, n) => candidate(n, 4096, fill));
    const runs = candidateRuns(CALL_ID, PARTY_ID, candidates);
    expect(runs.flat()).toEqual(candidates);
    for (const run of runs) {
      expect(run.length).toBeGreaterThan(0);
      expect(jsonBytes(candidatesContent(CALL_ID, PARTY_ID, run))).toBeLessThanOrEqual(MAX_CONTENT_JSON_BYTES);
    }
    // Not needlessly many: each run but the last would overflow with the next candidate.
    runs.slice(0, -1).forEach((run, i) => {
      const withNext = [...run, runs[i + 1]![0]!];
      expect(jsonBytes(candidatesContent(CALL_ID, PARTY_ID, withNext))).toBeGreaterThan(MAX_CONTENT_JSON_BYTES);
    });
  });

  it("leaves room for the rest of the PDU: the content is at most 61,440 bytes of Synapse's 65,536", () => {
    expect(MAX_PDU_BYTES - MAX_CONTENT_JSON_BYTES).toBe(4096);
    expect(MAX_CONTENT_JSON_BYTES).toBe(61_440);
  });

  it("keeps a small batch whole", () => {
    const candidates = [candidate(1, 60), { candidate: "" }];
    expect(candidateRuns(CALL_ID, PARTY_ID, candidates)).toEqual([candidates]);
  });
});

describe("splitByBytes", () => {
  const sizes = (runs: number[][]) => runs.map((run) => run.reduce((a, b) => a + b, 0));

  it("fills each run up to the budget, in order", () => {
    const runs = splitByBytes([4, 3, 3, 5, 1, 1], 7, (n) => n);
    expect(runs).toEqual([[4, 3], [3], [5, 1, 1]]);
    expect(Math.max(...sizes(runs))).toBeLessThanOrEqual(7);
  });

  it("puts an item over the budget in a run of its own, neither dropped nor merged", () => {
    expect(splitByBytes([1, 2, 50, 3], 10, (n) => n)).toEqual([[1, 2], [50], [3]]);
    expect(splitByBytes([50], 10, (n) => n)).toEqual([[50]]);
  });

  it("also caps the number of items per run", () => {
    expect(splitByBytes([1, 1, 1, 1, 1], Infinity, () => 0, 2)).toEqual([[1, 1], [1, 1], [1]]);
  });

  it("gives nothing for nothing", () => {
    expect(splitByBytes([], 10, () => 1)).toEqual([]);
  });
});

describe("CandidateBatcher", () => {
  it("sends one key's runs one after another, though an earlier send is slower", async () => {
    const done: string[] = [];
    const delays = [30, 0, 10];
    const batcher = new CandidateBatcher(0, async (_key, run) => {
      await new Promise((r) => setTimeout(r, delays.shift() ?? 0));
      done.push(run.map((c) => c.candidate).join(","));
    }, (_key, candidates) => candidates.map((c) => [c]));
    batcher.add("call", [{ candidate: "a" }, { candidate: "b" }]);
    batcher.add("call", [{ candidate: "c" }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toEqual(["a", "b", "c"]);
  });

  it("gathers a window's candidates and hands them to split as one batch", async () => {
    const splits: IceCandidate[][] = [];
    const flushed: IceCandidate[][] = [];
    const batcher = new CandidateBatcher(10, async (_key, run) => { flushed.push(run); },
      (_key, candidates) => { splits.push(candidates); return [candidates.slice(0, 1), candidates.slice(1)]; });
    batcher.add("call", [{ candidate: "a" }]);
    batcher.add("call", [{ candidate: "b" }]);
    batcher.add("call", [{ candidate: "" }]); // the end of candidates flushes at once
    expect(splits).toEqual([[{ candidate: "a" }, { candidate: "b" }, { candidate: "" }]]);
    await new Promise((r) => setTimeout(r, 20));
    expect(flushed).toEqual([[{ candidate: "a" }], [{ candidate: "b" }, { candidate: "" }]]);
    batcher.close();
  });
});
