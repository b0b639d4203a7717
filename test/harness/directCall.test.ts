/**
 * Proves the call harness itself, before the bridge uses it:
 * 1. two Matrix users (matrix-js-sdk + wrtc) in a DM on the test homeserver: one
 *    places a voice call, the other answers, media flows both ways;
 * 2. the WebCall caller's offer answered directly by a second wrtc peer: the data
 *    channel opens and messages round-trip.
 */
import { TestHomeserver } from "../homeserver";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { WebCallCaller } from "../support/webcallCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

describe("harness: real WebRTC calls", () => {
  let hs: TestHomeserver;
  const clients: MatrixCaller[] = [];
  const peers: WebCallCaller[] = [];

  beforeAll(async () => {
    hs = await TestHomeserver.start({ serverName: "example.org" });
  });
  afterEach(async () => {
    while (peers.length) peers.pop()!.close();
    while (clients.length) await clients.pop()!.stop();
  });
  afterAll(async () => {
    await hs.stop();
    await teardownWrtcGlobals();
  });

  async function user(localpart: string): Promise<MatrixCaller> {
    const u = await hs.createUser(localpart);
    const c = await startMatrixClient({ baseUrl: hs.url, ...u });
    clients.push(c);
    return c;
  }

  it("two js-sdk users in a DM: a voice call rings, is answered and media flows both ways", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const { room_id: roomId } = await alice.client.createRoom({ is_direct: true, invite: [bob.userId], preset: alice.sdk.Preset.TrustedPrivateChat });
    await bob.joinRoom(await bob.waitForInvite(roomId));
    await alice.waitForRoomEvent(roomId, "m.room.member", (ev) => ev.getStateKey() === bob.userId && ev.getContent()["membership"] === "join");

    const outgoing = await alice.placeCall(roomId);
    const invite = await bob.waitForRoomEvent(roomId, "m.call.invite");
    expect(invite.getContent()).toMatchObject({ call_id: outgoing.callId, invitee: bob.userId, version: "1", offer: { type: "offer" } });

    const incoming = await bob.waitForIncomingCall({ roomId });
    expect(incoming.callId).toBe(outgoing.callId);
    expect(incoming.state).toBe("ringing");
    await bob.answer(incoming);

    await Promise.all([alice.waitForCallState(outgoing, "connected"), bob.waitForCallState(incoming, "connected")]);
    const [atAlice, atBob] = await Promise.all([alice.waitForMediaFlowing(outgoing), bob.waitForMediaFlowing(incoming)]);
    expect(atAlice.connectionState).toBe("connected");
    expect(atBob.connectionState).toBe("connected");
    expect(atAlice.bytesReceived).toBeGreaterThan(0);
    expect(atBob.bytesReceived).toBeGreaterThan(0);
    expect(atAlice.remoteAudioTracks).toBe(1);

    // The answer came back through the homeserver with js-sdk's candidates inside the SDP.
    const answer = await alice.waitForRoomEvent(roomId, "m.call.answer");
    expect(answer.getSender()).toBe(bob.userId);
    expect(answer.getContent()["answer"]["sdp"]).toMatch(/a=candidate:/);

    await alice.hangup(outgoing);
    await bob.waitForCallState(incoming, "ended");
    expect(incoming.hangupParty).toBe("remote");
    expect(alice.callErrors).toEqual([]);
    expect(bob.callErrors).toEqual([]);
  });

  it("a js-sdk user rejects: m.call.reject is sent and the caller's call ends", async () => {
    const carol = await user("carol");
    const dave = await user("dave");
    const { room_id: roomId } = await carol.client.createRoom({ is_direct: true, invite: [dave.userId], preset: carol.sdk.Preset.TrustedPrivateChat });
    await dave.joinRoom(await dave.waitForInvite(roomId));
    await carol.waitForRoomEvent(roomId, "m.room.member", (ev) => ev.getStateKey() === dave.userId && ev.getContent()["membership"] === "join");

    const outgoing = await carol.placeCall(roomId);
    const incoming = await dave.waitForIncomingCall();
    await dave.reject(incoming);
    await carol.waitForCallState(outgoing, "ended");
    expect(outgoing.hangupParty).toBe("remote");
    const reject = await carol.waitForRoomEvent(roomId, "m.call.reject");
    expect(reject.getContent()).toMatchObject({ call_id: outgoing.callId, version: "1" });
  });

  it("the WebCall caller's offer (audio + data channel, setup:active) rings a js-sdk user, who answers; media flows", async () => {
    const erin = await user("erin"); // stands in for the bridge: sends the raw m.call.* events
    const frank = await user("frank");
    const { room_id: roomId } = await erin.client.createRoom({ is_direct: true, invite: [frank.userId], preset: erin.sdk.Preset.TrustedPrivateChat });
    await frank.joinRoom(await frank.waitForInvite(roomId));
    await erin.waitForRoomEvent(roomId, "m.room.member", (ev) => ev.getStateKey() === frank.userId && ev.getContent()["membership"] === "join");

    const webcall = new WebCallCaller({ setupActive: true });
    peers.push(webcall);
    const offer = await webcall.offer();
    const callId = `harness${Date.now()}`;
    await erin.client.sendEvent(roomId, "m.call.invite" as any, {
      call_id: callId, party_id: "webcall", version: "1", lifetime: 60_000, invitee: frank.userId, offer,
    } as any);

    const incoming = await frank.waitForIncomingCall({ roomId });
    expect(incoming.callId).toBe(callId);
    await frank.answer(incoming);
    const answer = await erin.waitForRoomEvent(roomId, "m.call.answer", (ev) => ev.getContent()["call_id"] === callId);
    expect(answer.getContent()["answer"]["sdp"]).toMatch(/^a=setup:passive\r?$/m);
    await webcall.acceptAnswer(answer.getContent()["answer"]);

    await webcall.waitConnected(); // ICE + DTLS up and the data channel open (js-sdk accepted it)
    const [atWebCall, atFrank] = await Promise.all([webcall.waitForMediaFlowing(), frank.waitForMediaFlowing(incoming)]);
    expect(atWebCall.bytesReceived).toBeGreaterThan(0);
    expect(atFrank.bytesReceived).toBeGreaterThan(0);
    expect(frank.callErrors).toEqual([]);
  });

  it("a WebCall caller's offer answered directly by a second wrtc peer: data channel opens, messages round-trip", async () => {
    const webcall = new WebCallCaller({ setupActive: true });
    const remote = new WebCallCaller();
    peers.push(webcall, remote);

    const offer = await webcall.offer();
    expect(offer.sdp).toMatch(/^m=audio /m);
    expect(offer.sdp).toMatch(/^m=application /m);
    await webcall.acceptAnswer(await remote.answerOffer(offer));

    await Promise.all([webcall.waitConnected({ ping: true }), remote.waitConnected({ ping: true })]);
    remote.send("are you there?");
    expect(await webcall.nextMessage((m) => m === "are you there?")).toBe("are you there?");
    webcall.send("yes");
    expect(await remote.nextMessage((m) => m === "yes")).toBe("yes");
    const report = await webcall.waitForMediaFlowing();
    expect(report.bytesReceived).toBeGreaterThan(0);
  });
});
