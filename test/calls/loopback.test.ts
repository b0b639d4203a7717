/**
 * The loopback (src/calls/Loopback.ts): this node as its own domain's node.
 * Against a recording WebCallNode: the setup reaches the core signed for by
 * this node, under the twin id, and its answer comes back under the caller's
 * id; events pushed to this node's own endpoint reach the other half in
 * order; anything else goes to the remote pusher.
 */
import { Loopback, twinOf } from "../../src/calls/Loopback";
import { EventPusher } from "../../src/calls/PartyChannel";
import { newSessionId } from "../../src/ids/session";
import { SessionEvent, SetupRequest, SetupResponse } from "../../src/protocol/types";
import { systemClock } from "../../src/util/monotonicClock";
import { RequestContext, WebCallNode } from "../../src/webcall/WebCallNode";

const SELF = { publicUrl: "https://bridge.example.org/webcall", domain: "example.org" };
const OFFER = { type: "offer" as const, sdp: "v=0\r\n" };

class RecordingNode implements WebCallNode {
  setups: { request: SetupRequest; rc: RequestContext }[] = [];
  delivered: { sessionId: string; token: string; events: SessionEvent[]; rc: RequestContext }[] = [];
  answer: (request: SetupRequest) => SetupResponse = (r) => ({ status: "success", sessionId: r.sessionId!, token: r.token! });
  /** Each delivery waits this long: later pushes must still arrive after it. */
  deliveryMs = 0;

  async setup(request: SetupRequest, rc: RequestContext): Promise<SetupResponse> {
    this.setups.push({ request, rc });
    return this.answer(request);
  }

  async deliver(sessionId: string, token: string, events: SessionEvent[], rc: RequestContext): Promise<void> {
    const ms = this.deliveryMs;
    this.deliveryMs = 0;
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.delivered.push({ sessionId, token, events, rc });
  }

  async eventsSince(): Promise<{ events: SessionEvent[]; next: number; over: boolean }> {
    return { events: [], next: 0, over: false };
  }

  subscribe(): () => void {
    return () => undefined;
  }
}

describe("the loopback", () => {
  let node: RecordingNode;
  let remote: { calls: unknown[][] } & EventPusher;
  let loopback: Loopback;

  beforeEach(() => {
    node = new RecordingNode();
    remote = { calls: [], push(...args: unknown[]) { this.calls.push(args); } };
    loopback = new Loopback(SELF, remote, systemClock);
    loopback.attach(node);
  });

  it("twins an id: its own inverse, never itself, the same length, still a session id", () => {
    for (let i = 0; i < 500; i++) {
      const id = newSessionId();
      const twin = twinOf(id);
      expect(twin).not.toBe(id);
      expect(twin).toHaveLength(id.length);
      expect(twin).toMatch(/^[A-Za-z0-9._~-]{16,255}$/);
      expect(twinOf(twin)).toBe(id);
    }
    for (const first of "Aa0.~-zZ9") expect(twinOf(twinOf(`${first}bcdefghijklmnopq`))).toBe(`${first}bcdefghijklmnopq`);
  });

  it("is the node of this domain only", () => {
    expect(loopback.endpointFor("example.org")).toBe(SELF.publicUrl);
    expect(loopback.endpointFor("Example.ORG")).toBe(SELF.publicUrl);
    expect(loopback.endpointFor("employer.com")).toBeUndefined();
    expect(loopback.isSelf(SELF.publicUrl)).toBe(true);
    expect(loopback.isSelf("https://employer.com/webcall")).toBe(false);
  });

  it("hands the setup to the core under the twin id, signed for by this node, and answers under the caller's id", async () => {
    const sessionId = newSessionId();
    const request: SetupRequest = { callerId: "dave@example.org", calleeId: "on-call@example.org", sessionId, token: "t".repeat(43), offer: OFFER, notify: SELF.publicUrl };
    const response = await loopback.setup({ endpoint: SELF.publicUrl, destination: "example.org", request, deadline: Date.now() + 10_000 });
    expect(node.setups).toHaveLength(1);
    expect(node.setups[0]!.request).toEqual({ ...request, sessionId: twinOf(sessionId) });
    expect(node.setups[0]!.rc.signer).toBe("example.org");
    expect(response).toEqual({ status: "success", sessionId, token: request.token });
  });

  it("passes a refusal through, and ends a glare answer (another call in this same store) neutrally", async () => {
    const request: SetupRequest = { callerId: "dave@example.org", calleeId: "on-call@example.org", sessionId: newSessionId(), token: "t".repeat(43), offer: OFFER };
    const post = { endpoint: SELF.publicUrl, destination: "example.org", request, deadline: Date.now() + 10_000 };
    node.answer = () => ({ status: "could_not_attend" });
    expect(await loopback.setup(post)).toEqual({ status: "could_not_attend" });
    node.answer = () => ({ status: "success", sessionId: newSessionId(), token: "u".repeat(43), offer: OFFER });
    expect(await loopback.setup(post)).toEqual({ status: "could_not_attend" });
  });

  it("delivers events pushed to this node to the other half, in order; other nodes get them by the remote pusher", async () => {
    const sessionId = newSessionId();
    const candidates: SessionEvent = { id: "e1", type: "candidates", candidates: [{ candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host" }] };
    const hangup: SessionEvent = { id: "e2", type: "hangup", reason: "user_hangup" };
    node.deliveryMs = 30; // the first hand-over is slow: the second must wait for it
    loopback.push(SELF.publicUrl, sessionId, "tok", [candidates], "example.org");
    loopback.push(SELF.publicUrl, sessionId, "tok", [hangup], "example.org");
    loopback.push("https://employer.com/webcall", sessionId, "tok", [hangup], "employer.com");
    await loopback.idle();
    expect(node.delivered.map((d) => [d.sessionId, d.token, d.events[0]!.id])).toEqual([[twinOf(sessionId), "tok", "e1"], [twinOf(sessionId), "tok", "e2"]]);
    expect(remote.calls).toEqual([["https://employer.com/webcall", sessionId, "tok", [hangup], "employer.com"]]);
  });
});
