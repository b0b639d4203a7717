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
  /** A date in the rota's zone (UTC in the fixture), `days` from now, as commands take it. */
  const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

  it("an override moves the call to the covering member, who is rung first and answers", async () => {
    expect(await say("rota escalate 20s")).toMatch(/^Escalation:/);
    const added = await say(`rota cover @carol:example.org until ${day(1)} 18:00`);
    const coverId = /^Added cover (\d+):/.exec(added)?.[1];
    expect(coverId).toBeDefined();
    const others = alice.calls.length + bob.calls.length;
    const { peer, session } = await ring("alf@employer.com");
    const first = await notice("Call from alf@employer.com (not verified) — ringing @carol:example.org (on call)");
    expect(first.content["m.mentions"]).toEqual({ user_ids: ["@carol:example.org"] });
    const atCarol = await carol.waitForIncomingCall({ roomId: dms.carol });
    expect(atCarol.callId).toBe(session.sessionId);
    expect(alice.calls.length + bob.calls.length).toBe(others);
    await carol.answer(atCarol);
    await connect(peer, session, carol, atCarol);
    await waitFor(async () => (await botMessages()).find((e) => /^Answered by @carol:example\.org after \d+ s$/.test(e.content.body)), 10_000, "the answer's notice");
    await session.hangup();
    await carol.waitForCallState(atCarol, "ended");
    expect(await say(`rota uncover ${coverId}`)).toBe(`Removed cover ${coverId}.`);
  });

  it("a member busy on a bridged call is skipped at once: the next one rings first", async () => {
    // bob, on call, takes a direct call from alf.
    const direct = new WebCallCaller({ setupActive: true });
    peers.push(direct);
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "bob@example.org", offer: await direct.offer(), lifetime: 50_000 });
    expect(res.body.status).toBe("success");
    const directSession = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
    const atBob = await bob.waitForIncomingCall({ roomId: dms.bob });
    await bob.answer(atBob);
    await connect(direct, directSession, bob, atBob);
    const bobCalls = bob.calls.length;
    // A call to the rota now rings carol first, with no step spent on bob.
    const { session } = await ring("alf@employer.com");
    const first = await notice("Call from alf@employer.com (not verified) — ringing @carol:example.org");
    expect(first.content["m.mentions"]).toEqual({ user_ids: ["@carol:example.org"] });
    const atCarol = await carol.waitForIncomingCall({ roomId: dms.carol });
    expect(atCarol.callId).toBe(session.sessionId);
    expect(bob.calls.length).toBe(bobCalls);
    await session.hangup();
    await carol.waitForCallState(atCarol, "ended");
    await directSession.hangup();
    await bob.waitForCallState(atBob, "ended");
  });

  it("a restart mid-escalation goes on with the step's time left, the next member rings and the room is still told", async () => {
    expect(await say("rota escalate 30s")).toMatch(/^Escalation:/);
    const firstBody = "Call from alf@employer.com (not verified) — ringing @bob:example.org (on call)";
    const firstsBefore = (await botMessages()).filter((e) => e.content.body === firstBody).length;
    const { peer, session } = await ring("alf@employer.com");
    await waitFor(async () => (await botMessages()).filter((e) => e.content.body === firstBody).length > firstsBefore, 15_000, "the first notice");
    const atBob = await bob.waitForIncomingCall({ roomId: dms.bob });
    // The bridge stops; on its clock 25 s of bob's 30 s step pass before it is back.
    fx.setClock(new Date(Date.now() + 25_000).toISOString());
    try {
      await fx.restartBridge();
      // What was left of bob's step, not a fresh 30 s: carol rings well before that.
      const atCarol = await carol.waitForIncomingCall({ roomId: dms.carol, timeoutMs: 20_000 });
      await bob.waitForCallState(atBob, "ended");
      const next = await notice("@bob:example.org did not answer in 30 s — ringing @carol:example.org");
      expect(next.content["m.mentions"]).toEqual({ user_ids: ["@carol:example.org"] });
      await carol.answer(atCarol);
      await connect(peer, session, carol, atCarol);
      await waitFor(async () => (await botMessages()).find((e) => /^Answered by @carol:example\.org after \d+ s$/.test(e.content.body)), 10_000, "the answer's notice");
      // The first notice was not sent again by the new process.
      expect((await botMessages()).filter((e) => e.content.body === firstBody)).toHaveLength(firstsBefore + 1);
      await session.hangup();
      await carol.waitForCallState(atCarol, "ended");
    } finally {
      fx.setClock();
    }
  });

  it("handovers are announced when they happen and the next member is reminded an hour ahead, with mentions", async () => {
    // Monday 1 March 2027, 07:59:30 in London (GMT): bob's week ends at 09:00.
    fx.setClock("2027-03-01T07:59:30Z");
    try {
      expect(await say("rota weekly mon 09:00 Europe/London")).toMatch(/^Shifts are now weekly, handover Mon\w* 09:00 Europe\/London/);
      const added = await say("rota cover @alice:example.org from 2027-03-01 09:00 until 2027-03-01 18:00");
      const coverId = /^Added cover (\d+):/.exec(added)?.[1];
      // At 08:00, an hour before alice's cover.
      const reminder = await notice(`Reminder: @alice:example.org is on call (cover ${coverId}) from Mon 1 Mar 09:00 until Mon 1 Mar 18:00 (Europe/London)`, 60_000);
      expect(reminder.content["m.mentions"]).toEqual({ user_ids: ["@alice:example.org"] });
      // Just before the handover (any edit sets the announcer's timer again by the moved clock).
      fx.setClock("2027-03-01T08:59:45Z");
      expect(await say("rota escalate 20s")).toMatch(/^Escalation:/);
      const handover = await notice(`@alice:example.org is on call (cover ${coverId}) until Mon 1 Mar 18:00 (Europe/London); next: @carol:example.org`, 60_000);
      expect(handover.content["m.mentions"]).toEqual({ user_ids: ["@alice:example.org"] });
      // Told once each.
      const bodies = (await botMessages()).map((e) => e.content.body);
      expect(bodies.filter((b) => b === reminder.content.body)).toHaveLength(1);
      expect(bodies.filter((b) => b === handover.content.body)).toHaveLength(1);
    } finally {
      fx.setClock();
    }
  });
});
