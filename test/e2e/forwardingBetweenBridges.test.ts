/**
 * Forwarding across two bridges, each the other's node: a call forwarded from
 * alpha.test rings at beta.test through alpha's relay, and a forwarding loop
 * between the two ends as could_not_attend well within one lifetime.
 */
import { BridgeFixture, freePort } from "./fixture";
import { BotChat } from "./botChat";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { ANSWER, OFFER } from "./sdp";

describe("forwarding between two bridges", () => {
  let alpha: BridgeFixture;
  let beta: BridgeFixture;

  beforeAll(async () => {
    const [alphaPort, betaPort] = [await freePort(), await freePort()];
    // The two homeservers start side by side: each Synapse takes seconds.
    [alpha, beta] = await Promise.all([
      BridgeFixture.start({ serverName: "alpha.test", webcallPort: alphaPort, calls: { neutralAnswerMs: 100 },
        outbound: { nodes: { "beta.test": `http://127.0.0.1:${betaPort}/webcall` } } }),
      BridgeFixture.start({ serverName: "beta.test", webcallPort: betaPort, calls: { neutralAnswerMs: 100 },
        outbound: { nodes: { "alpha.test": `http://127.0.0.1:${alphaPort}/webcall` } } }),
    ]);
  });
  afterAll(async () => {
    await alpha.stop();
    await beta.stop();
  });
  afterEach(() => {
    expect(alpha.problems).toEqual([]);
    expect(beta.problems).toEqual([]);
  });

  async function rulesOf(fx: BridgeFixture, name: string, ...commands: string[]): Promise<RawMatrixUser> {
    const user = new RawMatrixUser(fx.hs, await fx.hs.createUser(name));
    const bot = await BotChat.open(user, `@webcall:${fx.config.homeserver.domain}`);
    for (const command of commands) await bot.command(command);
    return user;
  }

  it("a call forwarded from alpha rings at beta, and is answered and hung up through alpha's relay", async () => {
    await rulesOf(alpha, "carol", "forward anyone to dan@beta.test");
    const dan = await rulesOf(beta, "dan");
    const res = await postJson(alpha.webcallUrl, { callerId: "alf@employer.com", calleeId: "carol@alpha.test", offer: OFFER, lifetime: 30000 });
    expect(res.body.status).toBe("success");
    const session = new WebCallSession(alpha.webcallUrl, res.body.sessionId, res.body.token);

    // At beta the caller is still alf@employer.com; the chain says it came through alpha.
    const dm = await dan.waitForInviteFrom("@webcall_alf=40employer.com:beta.test");
    await dan.join(dm);
    const invite = await beta.waitForSent((e) => e.room_id === dm && e.type === "m.call.invite");
    await dan.send(dm, "m.call.answer", { call_id: invite.content.call_id, party_id: "DANPHONE", version: "1", answer: ANSWER });
    expect((await session.waitForEvent("answer")).answer).toEqual(ANSWER);

    await session.hangup();
    const hangup = await beta.waitForSent((e) => e.room_id === dm && e.type === "m.call.hangup" && e.content.call_id === invite.content.call_id);
    expect(hangup.content.reason).toBe("user_hangup");
  });

  it("a forwarding loop between the two bridges ends as could_not_attend within one lifetime", async () => {
    await rulesOf(alpha, "alice", "forward anyone to bob@beta.test");
    await rulesOf(beta, "bob", "forward anyone to alice@alpha.test");
    const lifetime = 20000;
    const started = performance.now();
    const res = await postJson(alpha.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@alpha.test", offer: OFFER, lifetime });
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "could_not_attend" });
    expect(ms).toBeLessThan(lifetime);
    // Nothing rang on either side.
    expect(alpha.sent.filter((e) => e.type === "m.call.invite")).toHaveLength(0);
    expect(beta.sent.filter((e) => e.type === "m.call.invite")).toHaveLength(1); // dan's call above only
  });
});
