/**
 * A Matrix user (matrix-js-sdk + wrtc) calls alf@employer.com from an
 * ordinary client; employer.com's node (the fixture's TestWebCallNode) answers
 * with a wrtc peer. The media path must open.
 */
import { BridgeFixture, waitFor } from "./fixture";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { WebCallCaller } from "../support/webcallCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(60_000);
const ALF = "@webcall_alf=40employer.com:example.org";

describe("real WebRTC calls out of Matrix", () => {
  let fx: BridgeFixture;
  let bob: MatrixCaller | undefined;
  let room: string;
  const peers: WebCallCaller[] = [];

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    bob = await startMatrixClient({ baseUrl: fx.hs.url, ...(await fx.hs.createUser("bob")) });
    room = (await bob.client.createRoom({ is_direct: true, invite: [ALF], preset: bob.sdk.Preset.TrustedPrivateChat })).room_id;
    await bob.waitForRoomEvent(room, "m.room.member", (ev) => ev.getStateKey() === ALF && ev.getContent()["membership"] === "join");
  });
  afterEach(() => {
    expect(fx.problems).toEqual([]);
    while (peers.length) peers.pop()!.close();
  });
  afterAll(async () => {
    await bob?.stop();
    bob = undefined;
    await fx.stop();
    await teardownWrtcGlobals();
  });

  /** employer.com's side of a call: answers the offer with a wrtc peer. */
  async function answerAtNode(callId: string) {
    const setup = await fx.node.waitForSetup((b) => b.sessionId === callId);
    const peer = new WebCallCaller();
    peers.push(peer);
    const answer = await peer.answerOffer(setup.offer);
    expect((await fx.node.send(setup, [{ type: "answer", answer }])).status).toBe(200);
    return { setup, peer };
  }

  it("the node answers and media flows both ways; the node hangs up mid-call", async () => {
    const call = await bob!.placeCall(room, { invitee: ALF });
    const { setup, peer } = await answerAtNode(call.callId);
    await bob!.waitForCallState(call, "connected");
    for (const e of fx.node.events.get(call.callId)?.filter((x) => x.type === "candidates") ?? []) await peer.addRemoteCandidates(e.candidates);
    const [atBob, atNode] = await Promise.all([bob!.waitForMediaFlowing(call), peer.waitForMediaFlowing()]);
    expect(atBob.bytesReceived).toBeGreaterThan(0);
    expect(atNode.bytesReceived).toBeGreaterThan(0);
    await fx.node.send(setup, [{ type: "hangup", reason: "user_hangup" }]);
    await bob!.waitForCallState(call, "ended");
  });

  it("the node declines: the call ends at the user's client", async () => {
    const call = await bob!.placeCall(room, { invitee: ALF });
    const setup = await fx.node.waitForSetup((b) => b.sessionId === call.callId);
    await fx.node.send(setup, [{ type: "hangup", reason: "could_not_attend" }]);
    await bob!.waitForCallState(call, "ended");
    await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === call.callId);
  });

  it("the user hangs up while it rings: the node is told", async () => {
    const call = await bob!.placeCall(room, { invitee: ALF });
    await fx.node.waitForSetup((b) => b.sessionId === call.callId);
    await bob!.hangup(call);
    expect((await fx.node.waitForEvent(call.callId, "hangup")).reason).toBe("user_hangup");
  });

  it("the node cannot attend: the user's client ends the call and the DM says so", async () => {
    fx.node.script = () => ({ status: 200, body: { status: "could_not_attend" } });
    try {
      const call = await bob!.placeCall(room, { invitee: ALF });
      await bob!.waitForCallState(call, "ended");
      await waitFor(async () => (await fx.hs.timeline(room)).find((e) => /could not be put through/.test(String(e.content.body))), 10_000, "the notice");
    } finally {
      fx.node.script = (body) => ({ status: 200, body: { status: "success", sessionId: body.sessionId, token: body.token } });
    }
  });
});
