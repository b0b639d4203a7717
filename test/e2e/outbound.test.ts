import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { OFFER, ANSWER } from "./sdp";

const ALF = "@webcall_alf=40employer.com:example.org";

/** A Matrix user calls alf@employer.com; the fixture's TestWebCallNode is employer.com's node. */
describe("outbound calls, signalling", () => {
  let fx: BridgeFixture;
  let bob: RawMatrixUser;
  let room: string;
  let n = 0;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
    room = (await bob.request("POST", "/_matrix/client/v3/createRoom", { preset: "trusted_private_chat", is_direct: true, invite: [ALF] })).room_id;
    await waitFor(() => fx.bridge.store.getDmRoomById(room as never), 5000, "the DM");
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => {
    expect(fx.problems).toEqual([]);
    fx.node.script = (body) => ({ status: 200, body: { status: "success", sessionId: body.sessionId, token: body.token } });
  });

  async function bobCalls(extra: object = {}): Promise<string> {
    const callId = `out-${++n}-${Date.now()}-abcdef`;
    await bob.send(room, "m.call.invite", { call_id: callId, party_id: "BOBPHONE", version: "1", lifetime: 60000, invitee: ALF, offer: OFFER, ...extra });
    return callId;
  }

  it("places the call at the callee's node, relays the answer and candidates, and hangs up both ways", async () => {
    const callId = await bobCalls();
    const setup = await fx.node.waitForSetup((b) => b.sessionId === callId);
    expect(setup).toMatchObject({ callerId: "bob@example.org", calleeId: "alf@employer.com", sessionId: callId, offer: OFFER, notify: fx.webcallUrl, via: ["example.org"] });
    expect(setup.lifetime).toBeGreaterThan(55000);
    expect(setup.lifetime).toBeLessThanOrEqual(60000);
    expect(setup.token.length).toBeGreaterThanOrEqual(22);

    await bob.send(room, "m.call.candidates", { call_id: callId, party_id: "BOBPHONE", version: "1", candidates: [{ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 }, { candidate: "" }] });
    const towardNode = await fx.node.waitForEvent(callId, "candidates");
    expect(towardNode.candidates).toHaveLength(2);

    expect((await fx.node.send(setup, [{ type: "answer", answer: ANSWER }])).status).toBe(200);
    const answer = await fx.waitForSent((e) => e.type === "m.call.answer" && e.content.call_id === callId);
    expect(answer.sender).toBe(ALF);
    expect(answer.content.answer).toEqual(ANSWER);
    await fx.node.send(setup, [{ type: "candidates", candidates: [{ candidate: "candidate:2 1 udp 1 127.0.0.1 6000 typ host", sdpMid: "0", sdpMLineIndex: 0 }] }]);
    await fx.waitForSent((e) => e.type === "m.call.candidates" && e.content.call_id === callId);

    await bob.send(room, "m.call.select_answer", { call_id: callId, party_id: "BOBPHONE", version: "1", selected_party_id: answer.content.party_id });
    await bob.send(room, "m.call.hangup", { call_id: callId, party_id: "BOBPHONE", version: "1", reason: "user_hangup" });
    expect((await fx.node.waitForEvent(callId, "hangup")).reason).toBe("user_hangup");
    await fx.waitForSent((e) => e.room_id === room && /ended after/.test(String(e.content.body)));
  });

  it("the callee's node hangs up mid-call", async () => {
    const callId = await bobCalls();
    const setup = await fx.node.waitForSetup((b) => b.sessionId === callId);
    await fx.node.send(setup, [{ type: "answer", answer: ANSWER }]);
    await fx.waitForSent((e) => e.type === "m.call.answer" && e.content.call_id === callId);
    await fx.node.send(setup, [{ type: "hangup", reason: "user_hangup" }]);
    const hangup = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === callId);
    expect(hangup.content.reason).toBe("user_hangup");
  });

  it("the callee declines: the user's call is rejected", async () => {
    const callId = await bobCalls();
    const setup = await fx.node.waitForSetup((b) => b.sessionId === callId);
    await fx.node.send(setup, [{ type: "hangup", reason: "could_not_attend" }]);
    await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === callId);
  });

  it("could_not_attend: rejected (hangup for version 0), with a notice that invents no reason", async () => {
    fx.node.script = () => ({ status: 200, body: { status: "could_not_attend" } });
    const v1 = await bobCalls();
    await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === v1);
    await fx.waitForSent((e) => e.room_id === room && e.content.body === "Your call to alf@employer.com could not be put through.");
    const v0 = `v0-${Date.now()}-abcdefgh`;
    await bob.send(room, "m.call.invite", { call_id: v0, version: 0, lifetime: 60000, offer: OFFER });
    const hangup = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === v0);
    expect(hangup.content.reason).toBe("user_hangup");
  });

  it("retries 503s and timeouts with the same session and token, so the callee rings once", async () => {
    fx.node.script = (body, attempt) => attempt < 3
      ? { status: 503, body: { errcode: "WEBCALL_UNAVAILABLE", error: "busy" } }
      : { status: 200, body: { status: "success", sessionId: body.sessionId, token: body.token } };
    const callId = await bobCalls();
    await waitFor(() => fx.node.setups.filter((s) => s.body.sessionId === callId).length === 3 || undefined, 10_000, "three attempts");
    const attempts = fx.node.setups.filter((s) => s.body.sessionId === callId).map((s) => s.body.token);
    expect(new Set(attempts).size).toBe(1);
    await waitFor(async () => (await fx.bridge.store.getSession(callId as never))?.state === "ringing" || undefined, 5000, "ringing");
    await bob.send(room, "m.call.hangup", { call_id: callId, party_id: "BOBPHONE", version: "1", reason: "user_hangup" });
    await fx.node.waitForEvent(callId, "hangup");
  });

  it("a slow answer is waited for", async () => {
    fx.node.script = (body) => ({ status: 200, body: { status: "success", sessionId: body.sessionId, token: body.token }, delayMs: 1500 });
    const callId = await bobCalls();
    const setup = await fx.node.waitForSetup((b) => b.sessionId === callId);
    await waitFor(async () => (await fx.bridge.store.getSession(callId as never))?.state === "ringing" || undefined, 5000, "ringing");
    await fx.node.send(setup, [{ type: "answer", answer: ANSWER }]);
    await fx.waitForSent((e) => e.type === "m.call.answer" && e.content.call_id === callId);
    await fx.node.send(setup, [{ type: "hangup", reason: "user_hangup" }]);
  });

  it("nobody answers at the callee's node: at the lifetime the node is told invite_timeout", async () => {
    const callId = await bobCalls({ lifetime: 1500 });
    await fx.node.waitForSetup((b) => b.sessionId === callId);
    expect((await fx.node.waitForEvent(callId, "hangup", 5000)).reason).toBe("invite_timeout");
    expect((await fx.bridge.store.getSession(callId as never))?.state).toBe("ended");
  });

  it("the user hangs up while it rings: the callee's node is told", async () => {
    const callId = await bobCalls();
    await fx.node.waitForSetup((b) => b.sessionId === callId);
    await bob.send(room, "m.call.hangup", { call_id: callId, party_id: "BOBPHONE", version: "1", reason: "user_hangup" });
    expect((await fx.node.waitForEvent(callId, "hangup")).reason).toBe("user_hangup");
  });

  it("another device of the user answering elsewhere hangs up at the callee's node", async () => {
    const callId = await bobCalls();
    const setup = await fx.node.waitForSetup((b) => b.sessionId === callId);
    await fx.node.send(setup, [{ type: "answer", answer: ANSWER }]);
    await fx.waitForSent((e) => e.type === "m.call.answer" && e.content.call_id === callId);
    await bob.send(room, "m.call.select_answer", { call_id: callId, party_id: "BOBPHONE", version: "1", selected_party_id: "SOMEONE-ELSE" });
    expect((await fx.node.waitForEvent(callId, "hangup")).reason).toBe("answered_elsewhere");
  });
});

describe("outbound calls to unreachable nodes", () => {
  let fx: BridgeFixture;
  let bob: RawMatrixUser;

  beforeAll(async () => {
    fx = await BridgeFixture.start({ outbound: { nodes: { "employer.com": "http://127.0.0.1:9/webcall" }, timeoutMs: 500 } });
    bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
  });
  afterAll(async () => { await fx.stop(); });

  it("rejects the call with a notice when the node does not answer, and when no node is found", async () => {
    for (const address of ["@webcall_alf=40employer.com:example.org", "@webcall_zed=40nowhere.invalid:example.org"]) {
      const room = (await bob.request("POST", "/_matrix/client/v3/createRoom", { preset: "trusted_private_chat", is_direct: true, invite: [address] })).room_id;
      await waitFor(() => fx.bridge.store.getDmRoomById(room as never), 5000, "the DM");
      const callId = `unreach-${Date.now()}-abcdef`;
      await bob.send(room, "m.call.invite", { call_id: callId, party_id: "P", version: "1", lifetime: 3000, invitee: address, offer: OFFER });
      await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === callId, 8000);
      await fx.waitForSent((e) => e.room_id === room && /could not be put through/.test(String(e.content.body)));
    }
  });
});
