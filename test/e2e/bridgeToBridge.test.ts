/**
 * Two organisations, two homeservers, two bridges, nothing between them but
 * WebCall/1: alice@alpha.test calls bob@beta.test from her usual Matrix client,
 * and bob's rings on his own homeserver. Real WebRTC (matrix-js-sdk + wrtc)
 * on both ends.
 */
import { BridgeFixture, freePort, waitFor } from "./fixture";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(60_000);

describe("bridge to bridge", () => {
  let alpha: BridgeFixture;
  let beta: BridgeFixture;
  const clients: MatrixCaller[] = [];
  let alice: MatrixCaller;
  let bob: MatrixCaller;
  let aliceRoom: string;
  let bobRoom: string;
  const BOB_AT_ALPHA = "@webcall_bob=40beta.test:alpha.test";
  const ALICE_AT_BETA = "@webcall_alice=40alpha.test:beta.test";

  beforeAll(async () => {
    const [alphaPort, betaPort] = [await freePort(), await freePort()];
    // The two homeservers start side by side: each Synapse takes seconds.
    [alpha, beta] = await Promise.all([
      BridgeFixture.start({ serverName: "alpha.test", webcallPort: alphaPort, outbound: { nodes: { "beta.test": `http://127.0.0.1:${betaPort}/webcall` } } }),
      BridgeFixture.start({ serverName: "beta.test", webcallPort: betaPort, outbound: { nodes: { "alpha.test": `http://127.0.0.1:${alphaPort}/webcall` } } }),
    ]);
    alice = await startMatrixClient({ baseUrl: alpha.hs.url, ...(await alpha.hs.createUser("alice")) });
    bob = await startMatrixClient({ baseUrl: beta.hs.url, ...(await beta.hs.createUser("bob")) });
    clients.push(alice, bob);
  });
  afterEach(() => {
    expect(alpha.problems).toEqual([]);
    expect(beta.problems).toEqual([]);
  });
  afterAll(async () => {
    while (clients.length) await clients.pop()!.stop();
    await alpha.stop();
    await beta.stop();
    await teardownWrtcGlobals();
  });

  it("alice starts a DM with bob@beta.test and calls; bob answers on his homeserver; media flows; alice hangs up and both end", async () => {
    aliceRoom = (await alice.client.createRoom({ is_direct: true, invite: [BOB_AT_ALPHA], preset: alice.sdk.Preset.TrustedPrivateChat })).room_id;
    await alice.waitForRoomEvent(aliceRoom, "m.room.member", (ev) => ev.getStateKey() === BOB_AT_ALPHA && ev.getContent()["membership"] === "join");
    const outgoing = await alice.placeCall(aliceRoom, { invitee: BOB_AT_ALPHA });

    // First contact at beta: bob is invited to a DM with alice's virtual user, joins, and it rings.
    bobRoom = await bob.waitForInvite();
    await bob.joinRoom(bobRoom);
    const incoming = await waitFor(() => bob.calls.find((c) => c.callId === outgoing.callId), 20_000, "the call at bob's client");
    expect(incoming.getOpponentMember()?.userId ?? ALICE_AT_BETA).toBe(ALICE_AT_BETA);
    await bob.answer(incoming);

    await Promise.all([alice.waitForCallState(outgoing, "connected"), bob.waitForCallState(incoming, "connected")]);
    const [atAlice, atBob] = await Promise.all([alice.waitForMediaFlowing(outgoing), bob.waitForMediaFlowing(incoming)]);
    expect(atAlice.bytesReceived).toBeGreaterThan(0);
    expect(atBob.bytesReceived).toBeGreaterThan(0);

    await alice.hangup(outgoing);
    await bob.waitForCallState(incoming, "ended");
    await waitFor(async () => (await beta.bridge.store.getSession(outgoing.callId as never))?.state === "ended" || undefined, 10_000, "the call to end at beta");
    await waitFor(async () => (await alpha.bridge.store.getSession(outgoing.callId as never))?.state === "ended" || undefined, 10_000, "the call to end at alpha");
  });

  it("the next call rings at once, and bob hanging up ends it at alice too", async () => {
    const outgoing = await alice.placeCall(aliceRoom, { invitee: BOB_AT_ALPHA });
    const incoming = await waitFor(() => bob.calls.find((c) => c.callId === outgoing.callId), 20_000, "the call at bob's client");
    await bob.answer(incoming);
    await Promise.all([alice.waitForCallState(outgoing, "connected"), bob.waitForCallState(incoming, "connected")]);
    expect((await alice.waitForMediaFlowing(outgoing)).bytesReceived).toBeGreaterThan(0);
    await bob.hangup(incoming);
    await alice.waitForCallState(outgoing, "ended");
    expect((await beta.hs.timeline(bobRoom)).filter((e) => e.type === "m.room.member" && e.content.membership === "invite")).toHaveLength(1);
  });
});
