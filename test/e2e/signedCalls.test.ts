/**
 * Signed WebCall between nodes (docs/webcall-signing.md), end to end: two
 * bridges (alpha.test, beta.test), the caller's own node (employer.com) and
 * an attacker's node (evil.example), each with its own key, each the others'
 * configured node. What is checked is what the callee sees in Matrix and
 * what the caller's node gets back.
 */
import { BridgeFixture, freePort } from "./fixture";
import { BotChat } from "./botChat";
import { RawMatrixUser } from "./matrixUser";
import { SignedNode } from "./signedNode";
import { postJson } from "./webcallClient";
import { ANSWER, OFFER } from "./sdp";

const virtualUser = (address: string, server: string) => `@webcall_${address.replace("@", "=40")}:${server}`;

describe("signed WebCall between nodes", () => {
  let alpha: BridgeFixture;
  let beta: BridgeFixture;
  let employer: SignedNode;
  let evil: SignedNode;
  let sessions = 0;

  beforeAll(async () => {
    const [alphaPort, betaPort, employerPort, evilPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const nodes = {
      "alpha.test": `http://127.0.0.1:${alphaPort}/webcall`, "beta.test": `http://127.0.0.1:${betaPort}/webcall`,
      "employer.com": `http://127.0.0.1:${employerPort}/webcall`, "evil.example": `http://127.0.0.1:${evilPort}/webcall`,
    };
    employer = await SignedNode.start("employer.com", employerPort, nodes);
    evil = await SignedNode.start("evil.example", evilPort, nodes);
    // The two homeservers start side by side: each Synapse takes seconds.
    [alpha, beta] = await Promise.all([
      BridgeFixture.start({ serverName: "alpha.test", webcallPort: alphaPort, calls: { neutralAnswerMs: 100 }, outbound: { nodes } }),
      BridgeFixture.start({ serverName: "beta.test", webcallPort: betaPort, calls: { neutralAnswerMs: 100 }, outbound: { nodes } }),
    ]);
  });
  afterAll(async () => {
    await alpha.stop();
    await beta.stop();
    await employer.stop();
    await evil.stop();
  });
  afterEach(() => {
    expect(alpha.problems).toEqual([]);
    expect(beta.problems).toEqual([]);
  });

  async function userWith(fx: BridgeFixture, name: string, ...commands: string[]): Promise<RawMatrixUser> {
    const user = new RawMatrixUser(fx.hs, await fx.hs.createUser(name));
    const bot = await BotChat.open(user, `@webcall:${fx.config.homeserver.domain}`);
    for (const command of commands) await bot.command(command);
    return user;
  }

  function setup(callerId: string, calleeId: string, from: SignedNode = employer): Record<string, unknown> {
    sessions++;
    return {
      callerId, calleeId, offer: OFFER, lifetime: 30000, notify: from.url,
      sessionId: `signed-session-${sessions}-${Date.now()}`, token: `T${"k".repeat(30)}${sessions}`,
    };
  }

  /** The notice and the display name in the DM the callee is shown for a call that rang. */
  async function shown(fx: BridgeFixture, user: RawMatrixUser, caller: string): Promise<{ notice: string; name: string }> {
    const inviter = virtualUser(caller, fx.config.homeserver.domain);
    const room = await user.waitForInviteFrom(inviter); // every callee here is new: the call opens a DM
    const notice = await fx.waitForSent((e) => e.room_id === room && e.type === "m.room.message" && /Incoming call/.test(String(e.content.body)));
    await user.join(room);
    await fx.waitForSent((e) => e.room_id === room && e.type === "m.call.invite");
    const member = await user.request("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/state/m.room.member/${encodeURIComponent(inviter)}`);
    return { notice: notice.content.body as string, name: member.displayname as string };
  }

  it("a call signed by the caller's own node rings as verified", async () => {
    const carol = await userWith(alpha, "carol");
    const body = setup("alf@employer.com", "carol@alpha.test");
    body.chain = employer.placed("alf@employer.com", "carol@alpha.test");
    const res = await employer.post(alpha.webcallUrl, "alpha.test", body);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("success");
    const { notice, name } = await shown(alpha, carol, "alf@employer.com");
    expect(notice).toContain("alf@employer.com ✓ verified by employer.com");
    expect(name).toBe("alf@employer.com ✓");
  });

  it("a spoofed callerId, signed by the wrong node, rings as unverified", async () => {
    const erin = await userWith(alpha, "erin");
    const res = await evil.post(alpha.webcallUrl, "alpha.test", setup("boss@employer.com", "erin@alpha.test", evil));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("success");
    const { notice, name } = await shown(alpha, erin, "boss@employer.com");
    expect(notice).toContain("boss@employer.com (not verified)");
    expect(notice).not.toContain("✓");
    expect(name).toBe("boss@employer.com (unverified)");
  });

  it("where the callee rings verified callers only, the spoof and an unsigned call are refused and the real caller rings", async () => {
    const dave = await userWith(alpha, "dave", "default verified");
    const invitesBefore = alpha.sent.filter((e) => e.type === "m.call.invite").length;
    const spoof = await evil.post(alpha.webcallUrl, "alpha.test", setup("boss@employer.com", "dave@alpha.test", evil));
    expect(spoof.body).toEqual({ status: "could_not_attend" });
    const unsigned = await postJson(alpha.webcallUrl, setup("boss@employer.com", "dave@alpha.test"));
    expect(unsigned.body).toEqual({ status: "could_not_attend" });
    expect(alpha.sent.filter((e) => e.type === "m.call.invite").length).toBe(invitesBefore);

    const real = await employer.post(alpha.webcallUrl, "alpha.test", setup("boss@employer.com", "dave@alpha.test"));
    expect(real.body.status).toBe("success");
    expect((await shown(alpha, dave, "boss@employer.com")).notice).toContain("boss@employer.com ✓ verified by employer.com");
  });

  it("an unsigned call is never an error: it rings, unverified", async () => {
    const fay = await userWith(alpha, "fay");
    const res = await postJson(alpha.webcallUrl, setup("gus@employer.com", "fay@alpha.test"));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("success");
    expect((await shown(alpha, fay, "gus@employer.com")).name).toBe("gus@employer.com (unverified)");
  });

  it("refuses a tampered body, a stale or future timestamp, a replay, another destination and a forged origin", async () => {
    await userWith(alpha, "hal");
    const invitesBefore = alpha.sent.filter((e) => e.type === "m.call.invite").length;
    const body = setup("alf@employer.com", "hal@alpha.test");
    const refused = async (res: Promise<{ status: number; body: any }>, why: RegExp) => {
      const { status, body: answer } = await res;
      expect(status).toBe(401);
      expect(answer.errcode).toBe("WEBCALL_BAD_SIGNATURE");
      expect(answer.error).toMatch(why);
    };
    await refused(employer.post(alpha.webcallUrl, "alpha.test", body, { send: { ...body, calleeId: "carol@alpha.test" } }), /does not match/);
    await refused(employer.post(alpha.webcallUrl, "alpha.test", body, { ts: Date.now() - 6 * 60_000 }), /5 minutes/);
    await refused(employer.post(alpha.webcallUrl, "alpha.test", body, { ts: Date.now() + 6 * 60_000 }), /5 minutes/);
    await refused(employer.post(alpha.webcallUrl, "beta.test", body), /signed for beta.test/);
    await refused(evil.post(alpha.webcallUrl, "alpha.test", body, { origin: "employer.com" }), /employer.com has no key/);

    const first = await employer.post(alpha.webcallUrl, "alpha.test", body);
    expect(first.body.status).toBe("success");
    await refused(employer.post(alpha.webcallUrl, "alpha.test", body, { header: first.header }), /already used/);
    // None of the refused requests rang (the genuine one waits for hal to join).
    expect(alpha.sent.filter((e) => e.type === "m.call.invite").length).toBe(invitesBefore);
  });

  it("a forwarded call reaches the next bridge verified, with who forwarded it and why", async () => {
    await userWith(alpha, "ivy", 'forward anyone to jon@beta.test as "work hours"');
    const jon = await userWith(beta, "jon");
    const body = setup("alf@employer.com", "ivy@alpha.test");
    body.chain = employer.placed("alf@employer.com", "ivy@alpha.test");
    expect((await employer.post(alpha.webcallUrl, "alpha.test", body)).body.status).toBe("success");
    const { notice, name } = await shown(beta, jon, "alf@employer.com");
    expect(notice).toBe("Incoming call over WebCall: alf@employer.com ✓ verified by employer.com — forwarded by alpha.test (work hours rule). "
      + notice.slice(notice.indexOf("Join")));
    expect(name).toBe("alf@employer.com ✓");
  });

  it("a forged hop in a forwarding chain is caught: the caller is unverified and no forwarding is shown", async () => {
    const start = employer.placed("alf@employer.com", "ivy@alpha.test");
    const forgeries = {
      // alpha.test's hop, but signed with the attacker's key
      kim: (to: string) => evil.hop(start, { by: "alpha.test", from: "ivy@alpha.test", to, reason: "work hours rule" }),
      // the attacker's own hop, for an address it does not serve
      lou: (to: string) => evil.hop(start, { from: "ivy@alpha.test", to, reason: "work hours rule" }),
      // the first hop's caller changed after employer.com signed it
      mia: (to: string) => evil.hop([{ ...start[0]!, from: "boss@employer.com" }], { from: "ivy@alpha.test", to, reason: "x" }),
    };
    for (const [name, forge] of Object.entries(forgeries)) {
      const callee = await userWith(beta, name);
      const body = { ...setup("alf@employer.com", `${name}@beta.test`, evil), chain: forge(`${name}@beta.test`) };
      const res = await evil.post(beta.webcallUrl, "beta.test", body);
      expect(res.body.status).toBe("success");
      const { notice, name: displayName } = await shown(beta, callee, "alf@employer.com");
      expect(notice).toContain("alf@employer.com (not verified)");
      expect(notice).not.toContain("forwarded by");
      expect(displayName).toBe("alf@employer.com (unverified)");
    }
  });

  it("a key rotation on both bridges mid-call keeps the call working", async () => {
    await userWith(alpha, "lea", "forward anyone to max@beta.test");
    const max = await userWith(beta, "max");
    const body = setup("alf@employer.com", "lea@alpha.test");
    body.chain = employer.placed("alf@employer.com", "lea@alpha.test");
    expect((await employer.post(alpha.webcallUrl, "alpha.test", body)).body.status).toBe("success");
    const dm = await max.waitForInviteFrom(virtualUser("alf@employer.com", "beta.test"));
    await max.join(dm);
    const invite = await beta.waitForSent((e) => e.room_id === dm && e.type === "m.call.invite");

    // Both bridges sign with new keys from here on; each must fetch the other's.
    await alpha.bridge.rotateSigningKey();
    await beta.bridge.rotateSigningKey();

    await max.send(dm, "m.call.answer", { call_id: invite.content.call_id, party_id: "MAXPHONE", version: "1", answer: ANSWER });
    // beta → alpha (signed with beta's new key) → employer.com (signed with alpha's new key)
    const answer = await employer.waitForPush(body.sessionId as string, "answer");
    expect(answer).toMatchObject({ status: 200, signer: "alpha.test" });

    // employer.com → alpha → beta (signed with alpha's new key): the hangup reaches max.
    const hung = await employer.send(alpha.webcallUrl, "alpha.test", body.sessionId as string, body.token as string, [{ type: "hangup", reason: "user_hangup" }]);
    expect(hung.status).toBe(200);
    const hangup = await beta.waitForSent((e) => e.room_id === dm && e.type === "m.call.hangup" && e.content.call_id === invite.content.call_id);
    expect(hangup.content.reason).toBe("user_hangup");
  });
});
