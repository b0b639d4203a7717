/**
 * Receiver chooses, end to end: users set their rules by talking to the
 * bridge bot, and calls arriving over WebCall/1 ring, are refused (quietly
 * and neutrally) or are forwarded, on a clock the test sets.
 */
import { BridgeFixture } from "./fixture";
import { BotChat } from "./botChat";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { ANSWER, OFFER } from "./sdp";

const BOT = "@webcall:example.org";
const virtualOf = (address: string) => `@webcall_${address.replace("@", "=40")}:example.org`;
const MONDAY_10_LONDON = "2026-11-23T10:00:00Z"; // GMT in November: London = UTC
const MONDAY_20_LONDON = "2026-11-23T20:00:00Z";
const SATURDAY_10_LONDON = "2026-11-28T10:00:00Z";
const NEUTRAL_MS = 250;

describe("receiver chooses: rules, refusal and forwarding", () => {
  let fx: BridgeFixture;

  beforeAll(async () => {
    fx = await BridgeFixture.start({ nodeDomains: ["employer.com", "hello.com"], calls: { neutralAnswerMs: NEUTRAL_MS } });
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => {
    expect(fx.problems).toEqual([]);
    fx.setClock();
  });

  async function user(name: string): Promise<{ user: RawMatrixUser; bot: BotChat }> {
    const u = new RawMatrixUser(fx.hs, await fx.hs.createUser(name));
    return { user: u, bot: await BotChat.open(u, BOT) };
  }

  async function call(callerId: string | undefined, calleeId: string, extra: object = {}) {
    const started = performance.now();
    const res = await postJson(fx.webcallUrl, { ...(callerId ? { callerId } : {}), calleeId, offer: OFFER, ...extra });
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    return { body: res.body, ms, session: res.body.status === "success" ? new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token) : undefined };
  }

  const rang = (sessionId: string) => fx.sent.some((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);

  it("forwards calls to alice@hello.com only Mon–Fri 09:00–17:00 Europe/London, and rings her otherwise", async () => {
    const { user: alice, bot } = await user("alice");
    const set = await bot.command("forward to alice@hello.com on mon-fri 09:00-17:00 in Europe/London");
    expect(set.body).toMatch(/rule 1/i);

    // Monday 10:00 in London: forwarded to hello.com's node, relayed both ways.
    fx.setClock(MONDAY_10_LONDON);
    const work = await call("alf@employer.com", "alice@example.org");
    expect(work.body.status).toBe("success");
    const setup = await fx.node.waitForSetup((b) => b.calleeId === "alice@hello.com");
    expect(setup).toMatchObject({ callerId: "alf@employer.com", via: ["example.org"], offer: OFFER });
    expect(setup.notify).toBe(fx.webcallUrl);
    expect(setup.sessionId).not.toBe(work.session!.sessionId);
    expect(setup.token).not.toBe(work.session!.token);
    await fx.node.send(setup, [{ type: "answer", answer: ANSWER }]);
    expect((await work.session!.waitForEvent("answer")).answer).toEqual(ANSWER);
    await work.session!.deliver([{ type: "candidates", candidates: [{ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" }] }]);
    expect((await fx.node.waitForEvent(setup.sessionId, "candidates")).candidates[0].candidate).toContain("candidate:1");
    await work.session!.hangup();
    expect((await fx.node.waitForEvent(setup.sessionId, "hangup")).reason).toBe("user_hangup");
    expect(rang(work.session!.sessionId)).toBe(false);

    // The DM with the caller says what happened.
    const dm = await alice.waitForInviteFrom(virtualOf("alf@employer.com"));
    const notice = await fx.waitForSent((e) => e.room_id === dm && e.type === "m.room.message");
    expect(notice.content.body).toBe("alf@employer.com was forwarded to alice@hello.com by your rule 1.");
    await alice.join(dm);

    // Monday 20:00 and Saturday 10:00: outside the window, so it rings.
    for (const at of [MONDAY_20_LONDON, SATURDAY_10_LONDON]) {
      fx.setClock(at);
      const evening = await call("alf@employer.com", "alice@example.org");
      expect(evening.body.status).toBe("success");
      await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === evening.session!.sessionId);
      await evening.session!.hangup();
    }
    expect(fx.node.setups.filter((s) => s.body.calleeId === "alice@hello.com")).toHaveLength(1);
  });

  it("accepts calls from employer.com and refuses everyone else, quietly unless asked", async () => {
    const { user: bob, bot } = await user("bob");
    await bot.command("allow employer.com");
    await bot.command("default refuse");

    const colleague = await call("boss@employer.com", "bob@example.org");
    expect(colleague.body.status).toBe("success");
    const dm = await bob.waitForInviteFrom(virtualOf("boss@employer.com"));
    await bob.join(dm);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === colleague.session!.sessionId);
    await colleague.session!.hangup();

    const stranger = await call("eve@evil.example", "bob@example.org");
    expect(stranger.body).toEqual({ status: "could_not_attend" });
    expect(stranger.ms).toBeGreaterThanOrEqual(NEUTRAL_MS - 5);
    await new Promise((r) => setTimeout(r, 300));
    // Quiet by default: no room, no invite, no notice.
    expect(fx.sent.filter((e) => e.sender === virtualOf("eve@evil.example"))).toEqual([]);

    expect((await bot.command("notify refused on")).body).toMatch(/refused/i);
    const again = await call("eve@evil.example", "bob@example.org");
    expect(again.body).toEqual({ status: "could_not_attend" });
    const eveDm = await bob.waitForInviteFrom(virtualOf("eve@evil.example"));
    const notice = await fx.waitForSent((e) => e.room_id === eveDm && e.type === "m.room.message");
    expect(notice.content.body).toBe("Refused a call from eve@evil.example (your default).");
    expect(fx.sent.some((e) => e.sender === virtualOf("eve@evil.example") && e.type === "m.call.invite")).toBe(false);
  });

  it("refuses anonymous callers unless a rule allows them", async () => {
    const { user: carol, bot } = await user("carol");
    await bot.command("allow *@employer.com");
    await bot.command("default refuse");
    const hidden = await call(undefined, "carol@example.org");
    expect(hidden.body).toEqual({ status: "could_not_attend" });

    await bot.command("allow anonymous");
    const allowed = await call(undefined, "carol@example.org");
    expect(allowed.body.status).toBe("success");
    const dm = await carol.waitForInviteFrom("@webcall_anonymous:example.org");
    await carol.join(dm);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === allowed.session!.sessionId);
    await allowed.session!.hangup();
  });

  it("forwards to another user of this homeserver, whose own rules then apply", async () => {
    const { bot: daveBot } = await user("dave");
    const { user: erin, bot: erinBot } = await user("erin");
    await daveBot.command("forward anyone to erin@example.org");
    const forwarded = await call("alf@employer.com", "dave@example.org");
    expect(forwarded.body.status).toBe("success");
    const dm = await erin.waitForInviteFrom(virtualOf("alf@employer.com"));
    await erin.join(dm);
    const invite = await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === forwarded.session!.sessionId);
    expect(invite.room_id).toBe(dm);
    await forwarded.session!.hangup();

    // Erin refuses: the forwarded call is refused too.
    await erinBot.command("refuse anyone");
    expect((await call("alf@employer.com", "dave@example.org")).body).toEqual({ status: "could_not_attend" });
    // A loop between two local users ends as could_not_attend.
    await erinBot.command("remove 1");
    await erinBot.command("forward anyone to dave@example.org");
    expect((await call("alf@employer.com", "dave@example.org")).body).toEqual({ status: "could_not_attend" });
  });

  it("ends a chain that already passed through this node, or is too long, as could_not_attend", async () => {
    await user("gina");
    const loop = await call("alf@employer.com", "gina@example.org", { via: ["employer.com", "example.org", "employer.com"] });
    expect(loop.body).toEqual({ status: "could_not_attend" });
    const long = await call("alf@employer.com", "gina@example.org", { via: ["a.example", "b.example", "c.example", "d.example", "e.example", "f.example"] });
    expect(long.body).toEqual({ status: "could_not_attend" });
    const fine = await call("alf@employer.com", "gina@example.org", { via: ["a.example"] });
    expect(fine.body.status).toBe("success");
    await fine.session!.hangup();
  });

  it("a forwarded call that the next node cannot attend is could_not_attend for the caller, and the caller's hangup reaches the next node", async () => {
    const { bot } = await user("hank");
    await bot.command("forward anyone to hank@hello.com");
    fx.node.script = (body) => body.calleeId === "hank@hello.com" && body.callerId === "nobody@employer.com"
      ? { status: 200, body: { status: "could_not_attend" } }
      : { status: 200, body: { status: "success", sessionId: body.sessionId, token: body.token } };
    try {
      expect((await call("nobody@employer.com", "hank@example.org")).body).toEqual({ status: "could_not_attend" });
      const ok = await call("alf@employer.com", "hank@example.org");
      expect(ok.body.status).toBe("success");
      const setup = await fx.node.waitForSetup((b) => b.calleeId === "hank@hello.com" && b.callerId === "alf@employer.com");
      await fx.node.send(setup, [{ type: "hangup", reason: "user_hangup" }]);
      expect((await ok.session!.waitForEvent("hangup")).reason).toBe("user_hangup");
      const after = await ok.session!.deliver([{ type: "hangup", reason: "user_hangup" }]);
      expect(after.status).toBe(410);
    } finally {
      fx.node.script = (body) => ({ status: 200, body: { status: "success", sessionId: body.sessionId, token: body.token } });
    }
  });

  it("keeps rules and a relayed call across a bridge restart", async () => {
    const { bot } = await user("ivan");
    await bot.command("forward anyone to ivan@hello.com");
    const relayed = await call("alf@employer.com", "ivan@example.org");
    expect(relayed.body.status).toBe("success");
    const setup = await fx.node.waitForSetup((b) => b.calleeId === "ivan@hello.com");
    await fx.node.send(setup, [{ type: "answer", answer: ANSWER }]);
    await relayed.session!.waitForEvent("answer");

    await fx.restartBridge();
    // The relay still passes events both ways, and the rule still forwards.
    await fx.node.send(setup, [{ type: "candidates", candidates: [{ candidate: "candidate:7 1 udp 1 127.0.0.1 7000 typ host", sdpMid: "0" }] }]);
    expect((await relayed.session!.waitForEvent("candidates")).candidates[0].candidate).toContain("candidate:7");
    await relayed.session!.hangup();
    expect((await fx.node.waitForEvent(setup.sessionId, "hangup")).reason).toBe("user_hangup");
    const again = await call("alf@employer.com", "ivan@example.org");
    expect(again.body.status).toBe("success");
    await fx.node.waitForSetup((b) => b.calleeId === "ivan@hello.com" && b.sessionId !== setup.sessionId);
    await again.session!.hangup();
  });
});
