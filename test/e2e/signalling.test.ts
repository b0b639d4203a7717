import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER, ANSWER } from "./sdp";

const VIRTUAL = "@webcall_alf=40employer.com:example.org";

describe.each(["pglite", "postgres"] as const)("inbound call signalling (%s store)", (store) => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let dmRoom: string;

  beforeAll(async () => {
    fx = await BridgeFixture.start({ store });
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => { expect(fx.problems).toEqual([]); });

  async function call(body: object = {}): Promise<WebCallSession> {
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, ...body });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("success");
    return new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
  }

  const invitesFor = (sessionId: string) => fx.sentIn(dmRoom, "m.call.invite").filter((e) => e.content.call_id === sessionId);

  it("first contact: invites the callee, says who is calling, rings once they join", async () => {
    const session = await call({ lifetime: 60000 });
    dmRoom = await alice.waitForInviteFrom(VIRTUAL);
    const notice = await fx.waitForSent((e) => e.room_id === dmRoom && e.type === "m.room.message");
    expect(notice.content.body).toContain("Incoming call over WebCall: alf@employer.com (not verified)");
    expect(invitesFor(session.sessionId)).toHaveLength(0);
    await alice.join(dmRoom);
    const invite = await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    expect(invite.content).toMatchObject({ version: "1", invitee: alice.userId, offer: OFFER });
    expect(invite.content.lifetime).toBeGreaterThan(50000);
    await alice.send(dmRoom, "m.call.answer", { call_id: session.sessionId, party_id: "ALICEDEV1", version: "1", answer: ANSWER });
    expect((await session.waitForEvent("answer")).answer).toEqual(ANSWER);
    const select = await fx.waitForSent((e) => e.type === "m.call.select_answer" && e.content.call_id === session.sessionId);
    expect(select.content.selected_party_id).toBe("ALICEDEV1");
    await alice.send(dmRoom, "m.call.hangup", { call_id: session.sessionId, party_id: "ALICEDEV1", version: "1", reason: "user_hangup" });
    expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    await fx.waitForSent((e) => e.room_id === dmRoom && e.type === "m.room.message" && /ended after \d+s/.test(String(e.content.body)));
  });

  it("warm path: rings at once in the existing DM, candidates batched both ways", async () => {
    const session = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    await session.deliver([
      { type: "candidates", candidates: [{ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 }] },
      { type: "candidates", candidates: [{ candidate: "candidate:2 1 udp 1 127.0.0.1 5001 typ host", sdpMid: "0", sdpMLineIndex: 0 }, { candidate: "" }] },
    ]);
    const batch = await fx.waitForSent((e) => e.type === "m.call.candidates" && e.content.call_id === session.sessionId);
    expect(batch.content.candidates).toHaveLength(3);
    await alice.send(dmRoom, "m.call.candidates", { call_id: session.sessionId, party_id: "DEV2", version: "1", candidates: [{ candidate: "candidate:9 1 udp 1 127.0.0.1 6000 typ host", sdpMid: "0", sdpMLineIndex: 0 }] });
    await alice.send(dmRoom, "m.call.answer", { call_id: session.sessionId, party_id: "DEV2", version: "1", answer: ANSWER });
    await session.waitForEvent("answer");
    const cands = await session.waitForEvent("candidates");
    expect(cands.candidates[0].candidate).toContain("candidate:9");
    await session.hangup();
    const hangup = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === session.sessionId);
    expect(hangup.content.reason).toBe("user_hangup");
  });

  it("two devices answer: the first is selected, the second is ignored", async () => {
    const session = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    await Promise.all([
      alice.send(dmRoom, "m.call.answer", { call_id: session.sessionId, party_id: "PHONE", version: "1", answer: ANSWER }),
      alice.send(dmRoom, "m.call.answer", { call_id: session.sessionId, party_id: "LAPTOP", version: "1", answer: { ...ANSWER, sdp: ANSWER.sdp + "a=x\r\n" } }),
    ]);
    const answer = await session.waitForEvent("answer");
    await waitFor(() => fx.sentIn(dmRoom, "m.call.select_answer").find((e) => e.content.call_id === session.sessionId), 5000, "select_answer");
    const selects = fx.sentIn(dmRoom, "m.call.select_answer").filter((e) => e.content.call_id === session.sessionId);
    expect(selects).toHaveLength(1);
    const first = (await fx.hs.timeline(dmRoom)).find((e) => e.type === "m.call.answer" && e.content.call_id === session.sessionId)!;
    expect(selects[0]!.content.selected_party_id).toBe(first.content.party_id);
    expect(answer.answer.sdp).toBe((first.content.answer as any).sdp);
    await session.hangup();
  });

  it("decline: the caller sees could_not_attend and the DM a declined notice", async () => {
    const session = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    await alice.send(dmRoom, "m.call.reject", { call_id: session.sessionId, party_id: "PHONE", version: "1" });
    expect((await session.waitForEvent("hangup")).reason).toBe("could_not_attend");
    await fx.waitForSent((e) => e.room_id === dmRoom && e.content.body === "Declined call from alf@employer.com.");
    // A late answer from another device changes nothing.
    await alice.send(dmRoom, "m.call.answer", { call_id: session.sessionId, party_id: "LAPTOP", version: "1", answer: ANSWER });
    const res = await session.deliver([{ type: "candidates", candidates: [{ candidate: "" }] }]);
    expect(res.status).toBe(410);
  });

  it("version 0 client: answers without party_id, declines with a hangup", async () => {
    const first = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === first.sessionId);
    await alice.send(dmRoom, "m.call.answer", { call_id: first.sessionId, version: 0, answer: ANSWER });
    await first.waitForEvent("answer");
    expect(fx.sentIn(dmRoom, "m.call.select_answer").filter((e) => e.content.call_id === first.sessionId)).toHaveLength(0);
    await alice.send(dmRoom, "m.call.hangup", { call_id: first.sessionId, version: 0 });
    expect((await first.waitForEvent("hangup")).reason).toBe("user_hangup");

    const second = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === second.sessionId);
    await alice.send(dmRoom, "m.call.hangup", { call_id: second.sessionId, version: 0 });
    expect((await second.waitForEvent("hangup")).reason).toBe("could_not_attend");
  });

  it("caller hangs up while ringing: the invite is hung up and the DM says missed", async () => {
    const session = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    await session.hangup();
    const hangup = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === session.sessionId);
    expect(hangup.content.reason).toBe("user_hangup");
    await fx.waitForSent((e) => e.room_id === dmRoom && e.content.body === "Missed call from alf@employer.com." && e.origin_server_ts >= hangup.origin_server_ts);
  });

  it("timeout: invite_timeout to Matrix, could_not_attend to the caller", async () => {
    const session = await call({ lifetime: 1500 });
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    expect((await session.waitForEvent("hangup")).reason).toBe("could_not_attend");
    const hangup = await fx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === session.sessionId);
    expect(hangup.content.reason).toBe("invite_timeout");
  });

  it("a retried POST with the same sessionId and token gets the same answer and rings once", async () => {
    const body = { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, sessionId: `retry-${store}-0123456789abcdef`, token: "t".repeat(43) };
    const [a, b] = await Promise.all([postJson(fx.webcallUrl, body), postJson(fx.webcallUrl, body)]);
    const c = await postJson(fx.webcallUrl, body);
    expect(a.body).toEqual(b.body);
    expect(a.body).toEqual(c.body);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === body.sessionId);
    await new Promise((r) => setTimeout(r, 300));
    expect(invitesFor(body.sessionId)).toHaveLength(1);
    await new WebCallSession(fx.webcallUrl, body.sessionId, body.token).hangup();
  });

  it("the callee leaving the DM ends a ringing call; the next call invites them back and rings on join", async () => {
    const ringing = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === ringing.sessionId);
    await alice.leave(dmRoom);
    expect((await ringing.waitForEvent("hangup")).reason).toBe("could_not_attend");
    const next = await call();
    await alice.waitForInviteFrom(VIRTUAL);
    expect(invitesFor(next.sessionId)).toHaveLength(0);
    await alice.join(dmRoom);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === next.sessionId && e.room_id === dmRoom);
    await next.hangup();
  });

  it("unknown callees and other domains get could_not_attend", async () => {
    for (const calleeId of ["nobody@example.org", "alice@elsewhere.org", "Alice@example.org"]) {
      const res = await postJson(fx.webcallUrl, { calleeId, offer: OFFER });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "could_not_attend" });
    }
  });

  it("no offer: 422 WEBCALL_NEED_SESSION", async () => {
    const res = await postJson(fx.webcallUrl, { calleeId: "alice@example.org" });
    expect(res.status).toBe(422);
    expect(res.body.errcode).toBe("WEBCALL_NEED_SESSION");
  });
});
