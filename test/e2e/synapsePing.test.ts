/**
 * The start-up ping on real Synapse. While the bridge is unreachable Synapse
 * backs off its pushes (2 s, 4 s, 8 s, … up to 512 s: appservice/scheduler.py
 * `_Recoverer`); only a successful appservice ping makes it retry at once.
 */
import { BotChat } from "./botChat";
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";

jest.setTimeout(90_000);
const BOT = "@webcall:example.org";

describe("the bridge pings Synapse at start-up", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let bot: BotChat;

  const health = async () => (await fetch(`http://127.0.0.1:${fx.bridge.appservicePort}/health`)).json();

  beforeAll(async () => {
    // Synapse only: the backoff under test is Synapse's; the in-process homeserver retries at most 2 s apart,
    // so an event would arrive soon after the restart without any ping.
    fx = await BridgeFixture.start({ homeserver: "synapse" });
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice", { displayName: "Alice" }));
    bot = await BotChat.open(alice, BOT);
  });
  afterAll(async () => { await fx.stop(); });

  it("reports the ping's outcome at GET /health", async () => {
    const body = await waitFor(async () => { const b = await health(); return b.homeserver.ping === "pending" ? undefined : b; }, 10_000, "the ping");
    expect(body.homeserver).toMatchObject({ ping: "ok", rttMs: expect.any(Number), at: expect.any(String) });
  });

  it("an event Synapse could not push while the bridge was down arrives within seconds of its restart", async () => {
    await fx.bridge.stop();
    const replies = async () => (await fx.hs.timeline(bot.roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message").length;
    const before = await replies();
    await alice.send(bot.roomId, "m.room.message", { msgtype: "m.text", body: "allow *@employer.com" });
    // Pushes fail at about 0, 2, 6 and 14 s; the next would be at about 30 s.
    await new Promise((r) => setTimeout(r, 15_000));
    await fx.startBridge();
    const restarted = Date.now();
    await waitFor(async () => (await replies()) > before || undefined, 6_000, "the bot's reply to the command sent while it was down");
    expect(Date.now() - restarted).toBeLessThan(6_000);
  });
});
