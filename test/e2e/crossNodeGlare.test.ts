import express from "express";
import http from "node:http";
import { AddressInfo } from "node:net";
import { BridgeFixture, freePort, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { ANSWER } from "./sdp";

const OFFER = (n: number) => ({ type: "offer", sdp: `v=0\r\no=- ${n} 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n` });
const BOB_AT_ALPHA = "@webcall_bob=40beta.test:alpha.test";
const ALICE_AT_BETA = "@webcall_alice=40alpha.test:beta.test";

/** Passes everything on to a bridge's endpoint, holding each setup POST for
 *  `delayMs` first, so both calls are on the wire before either arrives. */
async function delayingProxy(target: () => string, delayMs: () => number): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(express.json());
  app.post(/^\/webcall(\/.*)?$/, async (req, res) => {
    if (req.path === "/webcall") await new Promise((r) => setTimeout(r, delayMs()));
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const upstream = await fetch(target() + req.path.slice("/webcall".length), { method: "POST", headers, body: JSON.stringify(req.body) });
    res.status(upstream.status).type("application/json").send(await upstream.text());
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webcall`,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); },
  };
}

/**
 * alice@alpha.test and bob@beta.test call each other at the same moment,
 * through two bridges. Whatever the timing, exactly one call survives on both
 * sides, and it is the one with the lesser id.
 */
describe("glare across two bridges", () => {
  let alpha: BridgeFixture, beta: BridgeFixture;
  let alice: RawMatrixUser, bob: RawMatrixUser;
  let aliceRoom: string, bobRoom: string;
  let delay = 0;
  const proxies: { close(): Promise<void> }[] = [];
  let n = 0;

  beforeAll(async () => {
    const [alphaPort, betaPort] = [await freePort(), await freePort()];
    const toAlpha = await delayingProxy(() => `http://127.0.0.1:${alphaPort}/webcall`, () => delay);
    const toBeta = await delayingProxy(() => `http://127.0.0.1:${betaPort}/webcall`, () => delay);
    proxies.push(toAlpha, toBeta);
    // The two homeservers start side by side: each Synapse takes seconds.
    [alpha, beta] = await Promise.all([
      BridgeFixture.start({ serverName: "alpha.test", webcallPort: alphaPort, outbound: { nodes: { "beta.test": toBeta.url } } }),
      BridgeFixture.start({ serverName: "beta.test", webcallPort: betaPort, outbound: { nodes: { "alpha.test": toAlpha.url } } }),
    ]);
    alice = new RawMatrixUser(alpha.hs, await alpha.hs.createUser("alice"));
    bob = new RawMatrixUser(beta.hs, await beta.hs.createUser("bob"));
    aliceRoom = (await alice.request("POST", "/_matrix/client/v3/createRoom", { preset: "trusted_private_chat", is_direct: true, invite: [BOB_AT_ALPHA] })).room_id;
    bobRoom = (await bob.request("POST", "/_matrix/client/v3/createRoom", { preset: "trusted_private_chat", is_direct: true, invite: [ALICE_AT_BETA] })).room_id;
    await waitFor(() => alpha.bridge.store.getDmRoomById(aliceRoom as never), 5000, "alice's DM");
    await waitFor(() => beta.bridge.store.getDmRoomById(bobRoom as never), 5000, "bob's DM");
  });
  afterEach(() => {
    delay = 0;
    expect(alpha.problems).toEqual([]);
    expect(beta.problems).toEqual([]);
  });
  afterAll(async () => {
    await alpha.stop();
    await beta.stop();
    for (const p of proxies) await p.close();
  });

  const invite = (user: RawMatrixUser, room: string, callId: string, invitee: string) =>
    user.send(room, "m.call.invite", { call_id: callId, party_id: `${user.userId}-dev`, version: "1", lifetime: 60000, invitee, offer: OFFER(++n) });
  const state = async (fx: BridgeFixture, callId: string) => (await fx.bridge.store.getSession(callId as never))?.state;
  const ids = (first: "alice" | "bob") => {
    const stamp = `${Date.now()}-${++n}-0123456789`;
    return first === "alice" ? { x: `a-${stamp}`, y: `b-${stamp}` } : { x: `b-${stamp}`, y: `a-${stamp}` };
  };

  /** Exactly one call survives on both sides: `kept`, ringing `keptRingsAt`'s user; `lost` is over on
   *  both, and never rang anyone unless it had already been ringing before it lost (`lostHadRung`). */
  async function expectSurvivor(kept: string, lost: string, keptRingsAt: "alpha" | "beta", lostHadRung = false) {
    const ringsAt = keptRingsAt === "alpha" ? { fx: alpha, room: aliceRoom, virtual: BOB_AT_ALPHA } : { fx: beta, room: bobRoom, virtual: ALICE_AT_BETA };
    await ringsAt.fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === kept && e.room_id === ringsAt.room && e.sender === ringsAt.virtual);
    for (const fx of [alpha, beta]) {
      await waitFor(async () => ["replaced", "ended"].includes(String(await state(fx, lost))) || undefined, 10_000, `${lost} to be over at ${fx.config.homeserver.domain}`);
      expect(["preparing", "ringing"]).toContain(await state(fx, kept));
    }
    if (lostHadRung) return;
    for (const fx of [alpha, beta]) expect(fx.sent.filter((e) => e.type === "m.call.invite" && e.content.call_id === lost)).toHaveLength(0);
  }

  async function answerAndHangUp(kept: string, keptRingsAt: "alpha" | "beta") {
    const [callee, calleeRoom, callerFx] = keptRingsAt === "alpha" ? [alice, aliceRoom, beta] as const : [bob, bobRoom, alpha] as const;
    await callee.send(calleeRoom, "m.call.answer", { call_id: kept, party_id: `${callee.userId}-dev`, version: "1", answer: ANSWER });
    await callerFx.waitForSent((e) => e.type === "m.call.answer" && e.content.call_id === kept);
    await callee.send(calleeRoom, "m.call.hangup", { call_id: kept, party_id: `${callee.userId}-dev`, version: "1", reason: "user_hangup" });
    await callerFx.waitForSent((e) => e.type === "m.call.hangup" && e.content.call_id === kept);
  }

  describe("both calls meet in one bridge (alice's call is already ringing bob when bob calls)", () => {
    it("bob's lesser id survives: alpha is told to replace, and bob's call rings alice", async () => {
      const { x, y } = ids("bob");
      await invite(alice, aliceRoom, x, BOB_AT_ALPHA);
      await beta.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === x);
      await invite(bob, bobRoom, y, ALICE_AT_BETA);
      await expectSurvivor(y, x, "alpha", true);
      await answerAndHangUp(y, "alpha");
    });

    it("alice's lesser id survives: bob's call is rejected and alice's keeps ringing", async () => {
      const { x, y } = ids("alice");
      await invite(alice, aliceRoom, x, BOB_AT_ALPHA);
      await beta.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === x);
      await invite(bob, bobRoom, y, ALICE_AT_BETA);
      await beta.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === y);
      expect(await state(alpha, x)).toBe("ringing");
      await answerAndHangUp(x, "beta");
    });
  });

  describe("both calls are already on the wire", () => {
    it.each([["alice", "beta"], ["bob", "alpha"]] as const)("the lesser id (%s's) survives on both sides", async (lesser, ringsAt) => {
      delay = 400;
      const { x, y } = ids(lesser);
      await Promise.all([invite(alice, aliceRoom, x, BOB_AT_ALPHA), invite(bob, bobRoom, y, ALICE_AT_BETA)]);
      const [kept, lost] = lesser === "alice" ? [x, y] : [y, x];
      await expectSurvivor(kept, lost, ringsAt);
      await answerAndHangUp(kept, ringsAt);
    });
  });
});
