/**
 * Synapse restarted under a running bridge. Synapse on SQLite numbers its
 * appservice transactions from the highest one still pending + 1 and deletes
 * delivered ones (storage/databases/main/appservice.py), so after a restart
 * the ids start again from 1: the bridge must still handle every event once.
 */
import { BotChat } from "./botChat";
import { BridgeFixture } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER, ANSWER } from "./sdp";

jest.setTimeout(120_000);
const BOT = "@webcall:example.org";
const VIRTUAL = "@webcall_alf=40employer.com:example.org";

describe("Synapse restarted mid-session", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let bot: BotChat;
  let dmRoom: string;

  beforeAll(async () => {
    // Synapse only: the in-process homeserver keeps its state in memory and cannot restart.
    fx = await BridgeFixture.start({ homeserver: "synapse" });
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice", { displayName: "Alice" }));
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => { expect(fx.problems).toEqual([]); });

  async function call(): Promise<WebCallSession> {
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    expect(res.body.status).toBe("success");
    return new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
  }

  /** One call rung, answered by alice's device and hung up by her. */
  async function answeredAndHungUp(): Promise<void> {
    const session = await call();
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);
    await alice.send(dmRoom, "m.call.answer", { call_id: session.sessionId, party_id: "PHONE", version: "1", answer: ANSWER });
    expect((await session.waitForEvent("answer")).answer).toEqual(ANSWER);
    await alice.send(dmRoom, "m.call.hangup", { call_id: session.sessionId, party_id: "PHONE", version: "1", reason: "user_hangup" });
    expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    await fx.waitForSent((e) => e.room_id === dmRoom && /ended after/.test(String(e.content.body)));
  }

  it("before the restart: bot commands and calls use up the first transaction ids", async () => {
    bot = await BotChat.open(alice, BOT);
    for (let i = 0; i < 5; i++) expect((await bot.command("rules")).body).toMatch(/no rules/i);
    const first = await call();
    dmRoom = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(dmRoom);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === first.sessionId);
    await first.hangup();
    await answeredAndHungUp();
  });

  it("after the restart, bot commands are still answered", async () => {
    // Every transaction delivered, none pending: Synapse numbers the next from 1.
    await new Promise((r) => setTimeout(r, 500));
    await fx.hs.restart();
    // Reused ids collide with ones the bridge saw before within a few transactions.
    for (let n = 1; n <= 5; n++) expect((await bot.command(`allow *@domain${n}.com`)).body).toMatch(new RegExp(`^Added rule ${n}: allow`, "m"));
  });

  it("after the restart, a call still rings, is answered and hangs up", async () => {
    await answeredAndHungUp();
  });
});
