/**
 * A user of this homeserver calls its rota from Matrix (docs/rotas.md,
 * "Calling a rota from Matrix"), on real Synapse with matrix-js-sdk users on
 * real WebRTC at both ends: dave opens a DM with the rota address's virtual
 * user and calls it; the call is placed through the bridge's loopback (no
 * HTTP to itself), the rota's rules decide, and the person on call rings in
 * their DM with dave's virtual user, from which they can call dave back
 * (through the same loopback, under dave's own rules). A DM a user opens with
 * the virtual user of a local user's own address is refused: that user is
 * called directly.
 */
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(60_000);
const BOT = "@webcall:example.org";
const ROTA_USER = "@webcall_on-call=40example.org:example.org";
const DAVE_AT_BRIDGE = "@webcall_dave=40example.org:example.org";

describe("a Matrix user of this homeserver calls its rota", () => {
  let fx: BridgeFixture;
  let mod: RawMatrixUser;
  let bob: MatrixCaller;
  let dave: MatrixCaller;
  let roomId: string;
  let daveDm: string;
  let bobDm = "";

  const botMessages = async (): Promise<any[]> =>
    (await fx.hs.timeline(roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");

  async function say(text: string): Promise<string> {
    const seen = (await botMessages()).length;
    await mod.send(roomId, "m.room.message", { msgtype: "m.text", body: text });
    return (await waitFor(async () => (await botMessages())[seen], 10_000, "the bot's reply")).content.body;
  }

  /** A DM of `user` with a virtual user, as a client starts one. */
  async function dmWith(user: MatrixCaller, virtualUserId: string): Promise<string> {
    return (await user.client.createRoom({ is_direct: true, invite: [virtualUserId], preset: user.sdk.Preset.TrustedPrivateChat })).room_id;
  }

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    mod = new RawMatrixUser(fx.hs, await fx.hs.createUser("mod"));
    const start = async (name: string) => startMatrixClient({ baseUrl: fx.hs.url, ...(await fx.hs.createUser(name)) });
    [bob, dave] = await Promise.all([start("bob"), start("dave")]);
    ({ room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom", { name: "Ops", preset: "private_chat", invite: [bob.userId] }));
    await bob.waitForInvite(roomId);
    await bob.joinRoom(roomId);
    await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
    await waitFor(async () => (await botMessages())[0], 10_000, "the bot's welcome");
    expect(await say("rota create on-call")).toMatch(/^Created the rota on-call@example\.org\./);
    expect(await say("rota members @bob:example.org")).toBe("Members: @bob:example.org.");
    daveDm = await dmWith(dave, ROTA_USER);
    await dave.waitForRoomEvent(daveDm, "m.room.member", (ev) => ev.getStateKey() === ROTA_USER && ev.getContent()["membership"] === "join");
  });
  afterEach(() => {
    expect(fx.problems).toEqual([]);
  });
  afterAll(async () => {
    for (const user of [bob, dave]) await user?.stop();
    await fx?.stop();
    await teardownWrtcGlobals();
  });

  it("rings the person on call in their DM with the caller, who answers; media flows both ways; the caller hangs up", async () => {
    const call = await dave.placeCall(daveDm, { invitee: ROTA_USER });
    // The rota's notice names the caller as verified: this node vouches for its own user.
    await waitFor(async () => (await botMessages()).find((e) => e.content.body === "Call from dave@example.org ✓ — ringing @bob:example.org (on call)"),
      15_000, "the rota's notice");
    // First contact: bob is invited to a DM with dave's virtual user, as for any call to the rota.
    bobDm = await bob.waitForInvite();
    await bob.joinRoom(bobDm);
    const atBob = await bob.waitForIncomingCall({ roomId: bobDm });
    expect((await fx.hs.timeline(bobDm)).find((e) => e.type === "m.call.invite")?.sender).toBe(DAVE_AT_BRIDGE);
    await bob.answer(atBob);
    await dave.waitForCallState(call, "connected");
    const [atDave, atBobMedia] = await Promise.all([dave.waitForMediaFlowing(call), bob.waitForMediaFlowing(atBob)]);
    expect(atDave.bytesReceived).toBeGreaterThan(0);
    expect(atBobMedia.bytesReceived).toBeGreaterThan(0);
    await dave.hangup(call);
    await bob.waitForCallState(atBob, "ended");
  });

  it("the rota's rules refuse the caller: the call ends neutrally and dave's DM says it was not put through", async () => {
    expect(await say("rota rules refuse dave@example.org")).toBe("Added rule 1: refuse dave@example.org.");
    const rung = bob.calls.length;
    const call = await dave.placeCall(daveDm, { invitee: ROTA_USER });
    await dave.waitForCallState(call, "ended");
    await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === call.callId);
    await waitFor(async () => (await fx.hs.timeline(daveDm)).find((e) => e.content.body === "Your call to on-call@example.org could not be put through."),
      10_000, "the notice");
    expect(bob.calls.length).toBe(rung);
  });

  it("the person on call calls back from the DM the rota call opened: the caller rings, under their own rules, and answers", async () => {
    expect(bobDm).not.toBe("");
    const back = await bob.placeCall(bobDm, { invitee: DAVE_AT_BRIDGE });
    // dave is rung as any call to a user of this homeserver: in a DM with bob's virtual user.
    const daveRoom = await dave.waitForInvite();
    await dave.joinRoom(daveRoom);
    const atDave = await dave.waitForIncomingCall({ roomId: daveRoom });
    expect((await fx.hs.timeline(daveRoom)).find((e) => e.type === "m.call.invite")?.sender).toBe("@webcall_bob=40example.org:example.org");
    await dave.answer(atDave);
    await bob.waitForCallState(back, "connected");
    const [atBob, atDaveMedia] = await Promise.all([bob.waitForMediaFlowing(back), dave.waitForMediaFlowing(atDave)]);
    expect(atBob.bytesReceived).toBeGreaterThan(0);
    expect(atDaveMedia.bytesReceived).toBeGreaterThan(0);
    await dave.hangup(atDave);
    await bob.waitForCallState(back, "ended");
  });

  it("a DM with the virtual user of a local user's own address is refused: call them directly", async () => {
    const bobAtBridge = "@webcall_bob=40example.org:example.org";
    const room = await dmWith(dave, bobAtBridge);
    const left = await dave.waitForRoomEvent(room, "m.room.member", (ev) => ev.getStateKey() === bobAtBridge && ev.getContent()["membership"] === "leave");
    expect(left.getContent()["reason"]).toBe("bob@example.org is @bob:example.org on this homeserver: call @bob:example.org directly.");
  });
});
