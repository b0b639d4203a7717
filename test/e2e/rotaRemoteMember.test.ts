/**
 * A rota member on another node (docs/rotas.md, "Members on other nodes"),
 * on two real Synapses with a bridge each: the rota on-call@alpha.test lists
 * carol@beta.test, a matrix-js-sdk user with real WebRTC on beta's Synapse,
 * and alice on alpha. A call to the rota rings carol by relay through beta's
 * bridge: she answers and media flows between the WebCall caller and her;
 * when she lets it ring out, her call stops and the call escalates to alice,
 * whose answer connects the same WebCall session. The rota room at alpha
 * names carol in its notices as it names alice.
 */
import { BridgeFixture, freePort, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { MatrixCall, MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { WebCallCaller } from "../support/webcallCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(120_000);
const BOT = "@webcall:alpha.test";
const ROTA = "on-call@alpha.test";

describe("a rota member on another node, rung by relay", () => {
  let alpha: BridgeFixture;
  let beta: BridgeFixture;
  let mod: RawMatrixUser;
  let alice: MatrixCaller;
  let carol: MatrixCaller;
  let roomId: string;
  let carolDm = "";
  const peers: WebCallCaller[] = [];

  const botMessages = async (): Promise<any[]> =>
    (await alpha.hs.timeline(roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");

  async function say(text: string): Promise<string> {
    const seen = (await botMessages()).length;
    await mod.send(roomId, "m.room.message", { msgtype: "m.text", body: text });
    return (await waitFor(async () => (await botMessages())[seen], 10_000, "the bot's reply")).content.body;
  }

  const notice = (body: string | RegExp, timeoutMs = 20_000): Promise<any> =>
    waitFor(async () => (await botMessages()).find((e) => e.content.msgtype === "m.notice"
      && (typeof body === "string" ? e.content.body === body : body.test(e.content.body))), timeoutMs, `the notice "${String(body)}"`);

  beforeAll(async () => {
    const [alphaPort, betaPort] = [await freePort(), await freePort()];
    [alpha, beta] = await Promise.all([
      BridgeFixture.start({ serverName: "alpha.test", webcallPort: alphaPort, outbound: { nodes: { "beta.test": `http://127.0.0.1:${betaPort}/webcall` } } }),
      BridgeFixture.start({ serverName: "beta.test", webcallPort: betaPort, outbound: { nodes: { "alpha.test": `http://127.0.0.1:${alphaPort}/webcall` } } }),
    ]);
    mod = new RawMatrixUser(alpha.hs, await alpha.hs.createUser("mod"));
    [alice, carol] = await Promise.all([
      (async () => startMatrixClient({ baseUrl: alpha.hs.url, ...(await alpha.hs.createUser("alice")) }))(),
      (async () => startMatrixClient({ baseUrl: beta.hs.url, ...(await beta.hs.createUser("carol")) }))(),
    ]);
    ({ room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom", { name: "Ops", preset: "private_chat", invite: [alice.userId] }));
    await alice.waitForInvite(roomId);
    await alice.joinRoom(roomId);
    await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
    await waitFor(async () => (await botMessages())[0], 10_000, "the bot's welcome");
    expect(await say("rota create on-call")).toMatch(/^Created the rota on-call@alpha\.test\./);
    expect(await say("rota members carol@beta.test @alice:alpha.test")).toBe("Members: carol@beta.test, @alice:alpha.test.");
    // Long enough for carol's first contact at beta (invite, join, ring, answer).
    expect(await say("rota escalate 30s")).toMatch(/^Escalation:/);
    expect(await say("rota who")).toMatch(/^carol@beta\.test is on call/);
  });
  afterEach(() => {
    expect(alpha.problems).toEqual([]);
    expect(beta.problems).toEqual([]);
    while (peers.length) peers.pop()!.close();
  });
  afterAll(async () => {
    for (const member of [alice, carol]) await member?.stop();
    await alpha?.stop();
    await beta?.stop();
    await teardownWrtcGlobals();
  });

  async function ring(): Promise<{ peer: WebCallCaller; session: WebCallSession }> {
    const peer = new WebCallCaller({ setupActive: true });
    peers.push(peer);
    const res = await postJson(alpha.webcallUrl, { callerId: "alf@employer.com", calleeId: ROTA, offer: await peer.offer(), lifetime: 90_000 });
    expect(res.body.status).toBe("success");
    return { peer, session: new WebCallSession(alpha.webcallUrl, res.body.sessionId, res.body.token) };
  }

  async function connect(peer: WebCallCaller, session: WebCallSession, member: MatrixCaller, call: MatrixCall): Promise<void> {
    const answer = await session.waitForEvent("answer", 20_000);
    await peer.acceptAnswer(answer.answer);
    for (const e of session.received.filter((x) => x.type === "candidates")) await peer.addRemoteCandidates(e.candidates);
    await peer.waitConnected({ timeoutMs: 30_000, dataChannel: false });
    const [media, caller] = await Promise.all([member.waitForMediaFlowing(call), peer.waitForMediaFlowing()]);
    expect(media.bytesReceived).toBeGreaterThan(0);
    expect(caller.bytesReceived).toBeGreaterThan(0);
  }

  it("the member on call, on beta, is rung by relay and answers: media flows; the room names her", async () => {
    const { peer, session } = await ring();
    const first = await notice("Call from alf@employer.com (not verified) — ringing carol@beta.test (on call)");
    expect(first.content["m.mentions"]).toEqual({ user_ids: [] });
    // At beta the caller is still alf@employer.com, in carol's DM with its virtual user there.
    carolDm = await carol.waitForInvite();
    await carol.joinRoom(carolDm);
    const atCarol = await carol.waitForIncomingCall({ roomId: carolDm, timeoutMs: 20_000 });
    // Alice's step has not come.
    expect(alice.calls).toHaveLength(0);
    await carol.answer(atCarol);
    await connect(peer, session, carol, atCarol);
    const answered = await notice(/^Answered by carol@beta\.test after \d+ s$/);
    expect(answered.content["m.mentions"]).toEqual({ user_ids: [] });
    await session.hangup();
    await carol.waitForCallState(atCarol, "ended");
    expect(alice.calls).toHaveLength(0);
  });

  it("the member on beta lets it ring out: her call stops, alice on alpha rings and her answer connects the same session", async () => {
    expect(await say("rota escalate 6s")).toMatch(/^Escalation:/);
    const { peer, session } = await ring();
    const atCarol = await carol.waitForIncomingCall({ roomId: carolDm, timeoutMs: 20_000 });
    const next = await notice("carol@beta.test did not answer in 6 s — ringing @alice:alpha.test");
    expect(next.content["m.mentions"]).toEqual({ user_ids: ["@alice:alpha.test"] });
    // Beta stopped carol's ringing when alpha hung her attempt up.
    await carol.waitForCallState(atCarol, "ended");
    const hangup = await beta.waitForSent((e) => e.room_id === carolDm && e.type === "m.call.hangup" && e.content.call_id === atCarol.callId);
    expect(hangup.content.reason).toBe("invite_timeout");
    const aliceDm = await alice.waitForInvite();
    await alice.joinRoom(aliceDm);
    const atAlice = await alice.waitForIncomingCall({ roomId: aliceDm, timeoutMs: 20_000 });
    await alice.answer(atAlice);
    await connect(peer, session, alice, atAlice);
    await notice(/^Answered by @alice:alpha\.test after \d+ s$/);
    await session.hangup();
    await alice.waitForCallState(atAlice, "ended");
  });

  it("the rota's rules forward to another node: the call is relayed to beta, where carol answers", async () => {
    expect(await say("rota rules forward anyone to carol@beta.test")).toMatch(/^Added rule 1/);
    const { session } = await ring();
    const atCarol = await carol.waitForIncomingCall({ roomId: carolDm, timeoutMs: 20_000 });
    await carol.answer(atCarol);
    expect((await session.waitForEvent("answer", 20_000)).answer.type).toBe("answer");
    expect(alice.calls.filter((c) => c.state !== "ended")).toHaveLength(0);
    await session.hangup();
    await carol.waitForCallState(atCarol, "ended");
  });
});
