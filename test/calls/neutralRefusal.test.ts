/**
 * Neutral refusal is structural: every could_not_attend from a setup is
 * answered at one deadline fixed when the request arrived (arrival + the
 * time its proofs took, in whole steps, + calls.neutralAnswerMs), whoever is called and
 * whatever the reason, and however long the work before it took. Time is a
 * ManualClock that only moves when the test moves it, so "exactly at the
 * deadline" is exact; the call core, store, rules and homeserver are real
 * (test/calls/inProcessCore.ts). The statistics of real response times are
 * the bench's business (bench/neutral.ts).
 */
import { PROOF_STEP_MS, answerNeutrally } from "../../src/calls/neutralAnswer";
import { MatrixUserId } from "../../src/ids/matrix";
import { Rule } from "../../src/model/rules";
import { SetupRequest, SetupResponse } from "../../src/protocol/types";
import { RequestContext } from "../../src/webcall/WebCallNode";
import { ManualClock } from "../support/manualClock";
import { DEAD_NODE_DOMAIN, DOMAIN, InProcessCore, startInProcessCore } from "./inProcessCore";

const NEUTRAL_MS = 300;
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };
const OFFER = { type: "offer" as const, sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" };

let env: InProcessCore;
let callers = 0;

const userId = (localpart: string) => `@${localpart}:${DOMAIN}` as MatrixUserId;

async function choose(localpart: string, rules: Rule[], defaultAction: "ring" | "refuse" | null = null): Promise<void> {
  await env.rules.replace(userId(localpart), { rules, defaultAction, timeZone: null, notifyRefused: false }, 0);
}

/** A setup from a caller never seen before, so no DM exists and first contact is checked. */
function setupTo(calleeId: string, extra: Partial<SetupRequest> = {}): SetupRequest {
  return { callerId: `caller${++callers}@callers.example`, calleeId, offer: OFFER, ...extra };
}

/** The setup's answer, and the clock's reading when it came. */
interface Watched { at?: number; response?: SetupResponse; error?: unknown }

function arrive(request: SetupRequest, ctx: Partial<RequestContext> = {}): { arrivedAt: number; answer: Watched } {
  const arrivedAt = env.clock.now();
  const answer: Watched = {};
  env.core.setup(request, { requestId: "neutral-test", receivedAt: arrivedAt, ...ctx }).then(
    (response) => { answer.response = response; answer.at = env.clock.now(); },
    (error: unknown) => { answer.error = error; answer.at = env.clock.now(); },
  );
  return { arrivedAt, answer };
}

/** Real time for the store and the homeserver to do whatever they still have to. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 25));

async function eventually(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The answer is could_not_attend, given neither a moment before `deadline` nor after it. */
async function expectAnsweredAt(answer: Watched, deadline: number): Promise<void> {
  await eventually(() => env.clock.waiting().includes(deadline) || answer.at !== undefined, "the setup to wait for its deadline");
  await settle();
  expect(answer).toEqual({});
  env.clock.advanceTo(deadline - 1);
  await settle();
  expect(answer).toEqual({});
  env.clock.advanceTo(deadline);
  await eventually(() => answer.at !== undefined, "the answer");
  expect(answer).toEqual({ at: deadline, response: COULD_NOT_ATTEND });
}

beforeAll(async () => {
  env = await startInProcessCore(NEUTRAL_MS);
  for (const name of ["rita", "olga", "sam", "ann", "bob", "cid"]) await env.hs.createUser(name);
  await choose("rita", [], "refuse");
  await choose("ann", [{ action: "forward", forwardTo: `bob@${DOMAIN}` }]);
  await choose("bob", [{ action: "forward", forwardTo: `ann@${DOMAIN}` }]);
  await choose("cid", [{ action: "forward", forwardTo: `desk@${DEAD_NODE_DOMAIN}` }]);
});

afterAll(async () => {
  await env?.close();
});

afterEach(() => {
  env.users.script = undefined;
  env.hs.unreachable(false);
});

describe("every could_not_attend is answered at the deadline fixed on arrival", () => {
  const tooLong = ["a.test", "b.test", "c.test", "d.test", "e.test", "f.test"];
  const cases: [string, () => SetupRequest][] = [
    ["refused by the callee's rules", () => setupTo(`rita@${DOMAIN}`)],
    ["an unknown callee (the homeserver says no)", () => setupTo(`nobody${callers}@${DOMAIN}`)],
    ["an offline callee (the homeserver drops the connection)", () => { env.hs.unreachable(true); return setupTo(`olga@${DOMAIN}`); }],
    ["an offline callee whose lookup fails after 120 ms", () => {
      env.users.script = async () => { env.clock.advance(120); throw new Error("connect ECONNREFUSED"); };
      return setupTo(`olga@${DOMAIN}`);
    }],
    ["an unknown callee whose lookup takes 250 ms to say no", () => {
      env.users.script = async () => { env.clock.advance(250); return false; };
      return setupTo(`nobody-slow@${DOMAIN}`);
    }],
    ["an offline callee whose lookup never returns", () => {
      env.users.script = () => new Promise<boolean>(() => undefined);
      return setupTo(`olga@${DOMAIN}`);
    }],
    ["a forwarding loop between two local users", () => setupTo(`ann@${DOMAIN}`)],
    ["a node seen twice in via", () => setupTo(`sam@${DOMAIN}`, { via: ["a.test", "a.test"] })],
    ["a via longer than rules.maxForwardHops", () => setupTo(`sam@${DOMAIN}`, { via: tooLong })],
    ["a forward the next node cannot be reached for (relay failure)", () => setupTo(`cid@${DOMAIN}`)],
  ];

  it.each(cases)("%s", async (_name, request) => {
    const { arrivedAt, answer } = arrive(request());
    await expectAnsweredAt(answer, arrivedAt + NEUTRAL_MS);
  });

  it("starts the floor once the caller's proofs are checked, in whole steps of their time", async () => {
    const { arrivedAt, answer } = arrive(setupTo(`rita@${DOMAIN}`), { signatureCheckMs: PROOF_STEP_MS + 40 });
    await expectAnsweredAt(answer, arrivedAt + PROOF_STEP_MS + NEUTRAL_MS);
  });

  it("is not moved by proof time short of a step (event-loop delay caused by other requests, say)", async () => {
    const { arrivedAt, answer } = arrive(setupTo(`rita@${DOMAIN}`), { signatureCheckMs: PROOF_STEP_MS - 1 });
    await expectAnsweredAt(answer, arrivedAt + NEUTRAL_MS);
  });
});

describe("a call that rings", () => {
  it("is answered at once, without waiting for the floor, and leaves no wait behind", async () => {
    const { arrivedAt, answer } = arrive(setupTo(`sam@${DOMAIN}`));
    await eventually(() => answer.at !== undefined, "the answer");
    expect(answer.at).toBe(arrivedAt);
    expect(answer.response).toMatchObject({ status: "success" });
    expect(env.clock.waiting()).toEqual([]);
  });
});

describe("answerNeutrally", () => {
  it("starts the routing only after the event loop has taken in the requests already waiting", async () => {
    let routed = false;
    const answered = answerNeutrally(new ManualClock(0), 0, async () => { routed = true; return COULD_NOT_ATTEND; });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(routed).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(routed).toBe(true);
    await expect(answered).resolves.toEqual(COULD_NOT_ATTEND);
  });

  it("holds a failure thrown by the routing until the deadline too", async () => {
    const clock = new ManualClock(0);
    const failure = new Error("the store went away");
    let at: number | undefined;
    const answered = answerNeutrally(clock, 300, () => Promise.reject(failure)).catch((err: unknown) => { at = clock.now(); throw err; });
    await settle();
    expect(at).toBeUndefined();
    clock.advanceTo(300);
    await expect(answered).rejects.toBe(failure);
    expect(at).toBe(300);
  });
});
