/**
 * Calls to an on-call rota (docs/rotas.md, "Calls to a rota"), on real
 * Synapse with matrix-js-sdk users on real WebRTC: a rota of three set up
 * with the bot's commands in its room; a POST /webcall to on-call@example.org
 * rings the person on call in their DM with the caller's virtual user, as a
 * direct call does; nobody answering escalates (then everyone), and a late
 * member's answer connects while the others stop ringing; the rota's rules
 * refuse an anonymous caller neutrally. Each step leaves its notice in the
 * rota room, with the people it concerns mentioned.
 */
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { MatrixCall, MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { WebCallCaller } from "../support/webcallCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(60_000);
const BOT = "@webcall:example.org";
const ROTA = "on-call@example.org";

describe("calls to an on-call rota", () => {
  let fx: BridgeFixture;
  let mod: RawMatrixUser;
  let alice: MatrixCaller;
  let bob: MatrixCaller;
  let carol: MatrixCaller;
  let roomId: string;
  const dms: Record<"alice" | "bob" | "carol", string> = { alice: "", bob: "", carol: "" };
  const peers: WebCallCaller[] = [];

  /** The bot's messages in the rota room, oldest first. */
  const botMessages = async (): Promise<any[]> =>
    (await fx.hs.timeline(roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");

  async function say(text: string): Promise<string> {
    const seen = (await botMessages()).length;
    await mod.send(roomId, "m.room.message", { msgtype: "m.text", body: text });
    return (await waitFor(async () => (await botMessages())[seen], 10_000, "the bot's reply")).content.body;
  }

  /** The bot's notice in the rota room whose body is `body`, once it is there. */
  const notice = (body: string, timeoutMs = 15_000): Promise<any> =>
    waitFor(async () => (await botMessages()).find((e) => e.content.msgtype === "m.notice" && e.content.body === body), timeoutMs, `the notice "${body}"`);

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    mod = new RawMatrixUser(fx.hs, await fx.hs.createUser("mod"));
    const start = async (name: string) => startMatrixClient({ baseUrl: fx.hs.url, ...(await fx.hs.createUser(name)) });
    [alice, bob, carol] = await Promise.all([start("alice"), start("bob"), start("carol")]);
    ({ room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom",
      { name: "Ops", preset: "private_chat", invite: [alice.userId, bob.userId, carol.userId] }));
    for (const member of [alice, bob, carol]) {
      await member.waitForInvite(roomId);
      await member.joinRoom(roomId);
    }
    await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
    await waitFor(async () => (await botMessages())[0], 10_000, "the bot's welcome");
    expect(await say("rota create on-call")).toMatch(/^Created the rota on-call@example\.org\./);
    expect(await say("rota members @bob:example.org @carol:example.org @alice:example.org"))
      .toBe("Members: @bob:example.org, @carol:example.org, @alice:example.org.");
    // Long enough for bob's first contact (invite, join, ring, answer).
    expect(await say("rota escalate 20s")).toMatch(/^Escalation:/);
    expect(await say("rota who")).toMatch(/^@bob:example\.org is on call/);
  });
  afterEach(async () => {
    expect(fx.problems).toEqual([]);
    while (peers.length) peers.pop()!.close();
  });
  afterAll(async () => {
    for (const member of [alice, bob, carol]) await member?.stop();
    await fx?.stop();
    await teardownWrtcGlobals();
  });

  async function ring(callerId?: string): Promise<{ peer: WebCallCaller; session: WebCallSession }> {
    const peer = new WebCallCaller({ setupActive: true });
    peers.push(peer);
    const res = await postJson(fx.webcallUrl, { ...(callerId ? { callerId } : {}), calleeId: ROTA, offer: await peer.offer(), lifetime: 50_000 });
    expect(res.body.status).toBe("success");
    return { peer, session: new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token) };
  }

  async function connect(peer: WebCallCaller, session: WebCallSession, member: MatrixCaller, call: MatrixCall): Promise<void> {
    const answer = await session.waitForEvent("answer");
    await peer.acceptAnswer(answer.answer);
    for (const e of session.received.filter((x) => x.type === "candidates")) await peer.addRemoteCandidates(e.candidates);
    await peer.waitConnected({ timeoutMs: 20_000, dataChannel: false });
    const [media, caller] = await Promise.all([member.waitForMediaFlowing(call), peer.waitForMediaFlowing()]);
    expect(media.bytesReceived).toBeGreaterThan(0);
    expect(caller.bytesReceived).toBeGreaterThan(0);
  }

  it("rings the person on call in their DM with the caller, who answers; media flows; the room is told", async () => {
    const { peer, session } = await ring("alf@employer.com");
    const first = await notice("Call from alf@employer.com (not verified) — ringing @bob:example.org (on call)");
    expect(first.content["m.mentions"]).toEqual({ user_ids: ["@bob:example.org"] });
    // First contact: bob is invited to a DM with the caller's virtual user, as for a direct call.
    dms.bob = await bob.waitForInvite();
    await bob.joinRoom(dms.bob);
    const atBob = await bob.waitForIncomingCall({ roomId: dms.bob });
    expect(atBob.callId).toBe(session.sessionId);
    // Nobody else rings.
    expect(alice.calls.length + carol.calls.length).toBe(0);
    await bob.answer(atBob);
    await connect(peer, session, bob, atBob);
    const answered = await waitFor(async () => (await botMessages()).find((e) => /^Answered by /.test(e.content.body)), 10_000, "the answer's notice");
    expect(answered.content.body).toMatch(/^Answered by @bob:example\.org after \d+ s$/);
    expect(answered.content["m.mentions"]).toEqual({ user_ids: ["@bob:example.org"] });
    await session.hangup();
    await bob.waitForCallState(atBob, "ended");
  });

  it("the caller hangs up while it rings: the leg stops and the room is told", async () => {
    const { session } = await ring("alf@employer.com");
    const atBob = await bob.waitForIncomingCall({ roomId: dms.bob });
    await session.hangup();
    await bob.waitForCallState(atBob, "ended");
    const hungUp = await waitFor(async () => (await botMessages()).find((e) => /^Caller hung up after/.test(e.content.body)), 10_000, "the hangup's notice");
    expect(hungUp.content.body).toMatch(/^Caller hung up after \d+ s$/);
  });

  it("nobody answers the first step: everyone else rings at once, a late answer connects and the others stop", async () => {
    expect(await say("rota escalate 5s then all")).toBe("Escalation: the person on call rings for 5s, then every member at once.");
    const { peer, session } = await ring("alf@employer.com");
    const atBob = await bob.waitForIncomingCall({ roomId: dms.bob });
    // Bob lets it ring out; then carol and alice ring at once (first contact for both).
    const next = await notice("@bob:example.org did not answer in 5 s — ringing @carol:example.org, @alice:example.org", 15_000);
    expect(next.content["m.mentions"]).toEqual({ user_ids: ["@carol:example.org", "@alice:example.org"] });
    await bob.waitForCallState(atBob, "ended");
    const [carolDm, aliceDm] = await Promise.all([carol.waitForInvite(), alice.waitForInvite()]);
    dms.carol = carolDm;
    dms.alice = aliceDm;
    await Promise.all([carol.joinRoom(dms.carol), alice.joinRoom(dms.alice)]);
    const [atCarol, atAlice] = await Promise.all([carol.waitForIncomingCall({ roomId: dms.carol }), alice.waitForIncomingCall({ roomId: dms.alice })]);
    await alice.answer(atAlice);
    await connect(peer, session, alice, atAlice);
    await carol.waitForCallState(atCarol, "ended");
    await fx.waitForSent((e) => e.room_id === dms.carol && e.type === "m.room.message" && /answered elsewhere/.test(String(e.content.body)));
    const answered = await waitFor(async () => (await botMessages()).find((e) => /^Answered by @alice/.test(e.content.body)), 10_000, "the answer's notice");
    expect(answered.content.body).toMatch(/^Answered by @alice:example\.org after \d+ s$/);
    await session.hangup();
    await alice.waitForCallState(atAlice, "ended");
  });

  it("nobody answers at all: each step rings out, the caller hears could_not_attend and the room a missed call", async () => {
    const { session } = await ring("alf@employer.com");
    const atBob = await bob.waitForIncomingCall({ roomId: dms.bob });
    const [atCarol, atAlice] = await Promise.all([
      carol.waitForIncomingCall({ roomId: dms.carol, timeoutMs: 15_000 }), alice.waitForIncomingCall({ roomId: dms.alice, timeoutMs: 15_000 }),
    ]);
    expect((await session.waitForEvent("hangup", 15_000)).reason).toBe("could_not_attend");
    await Promise.all([bob.waitForCallState(atBob, "ended"), carol.waitForCallState(atCarol, "ended"), alice.waitForCallState(atAlice, "ended")]);
    await notice("Missed: nobody answered (3 tried)");
  });

  it("the rota's rules refuse an anonymous caller neutrally: could_not_attend, as for an unknown user, and nothing rings", async () => {
    expect(await say("rota rules refuse anonymous")).toBe("Added rule 1: refuse anonymous.");
    const invites = fx.sent.filter((e) => e.type === "m.call.invite").length;
    const messages = (await botMessages()).length;
    const peer = new WebCallCaller({ setupActive: true });
    peers.push(peer);
    const offer = await peer.offer();
    const timed = async (body: object) => {
      const started = Date.now();
      const res = await postJson(fx.webcallUrl, body);
      return { body: res.body, ms: Date.now() - started };
    };
    const refused = await timed({ calleeId: ROTA, offer });
    const unknown = await timed({ calleeId: "nobody@example.org", offer });
    expect(refused.body).toEqual({ status: "could_not_attend" });
    expect(refused.body).toEqual(unknown.body);
    // Both held to the neutral answer time (250 ms in the fixture).
    expect(refused.ms).toBeGreaterThanOrEqual(240);
    expect(unknown.ms).toBeGreaterThanOrEqual(240);
    await new Promise((r) => setTimeout(r, 1500));
    expect(fx.sent.filter((e) => e.type === "m.call.invite")).toHaveLength(invites);
    expect(await botMessages()).toHaveLength(messages);
    // A named caller still gets through the same rules.
    const { session } = await ring("alf@employer.com");
    const atBob = await bob.waitForIncomingCall({ roomId: dms.bob });
    await session.hangup();
    await bob.waitForCallState(atBob, "ended");
  });
});
