/**
 * One event that can never succeed must never block the events behind it:
 * the homeserver retries a failed transaction whole and in order, so an
 * event whose handling fails for good is acknowledged, and only a failure
 * that may pass fails the transaction. On real Synapse.
 */
import { HomeserverClient } from "../../src/matrix/HomeserverClient";
import { BotChat } from "./botChat";
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { ANSWER, OFFER } from "./sdp";
import { postJson, WebCallSession } from "./webcallClient";

jest.setTimeout(90_000);

const BOT = "@webcall:example.org";
const ALF = "@webcall_alf=40employer.com:example.org";
const BOB = "@webcall_bob=40employer.com:example.org";
const CAROL = "@webcall_carol=40employer.com:example.org";

describe("a transaction with an event that can never be handled", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let bot: BotChat;
  /** The rooms the bridge tried to join, one entry per attempt. */
  const joins: string[] = [];
  let joinSpy: jest.SpyInstance;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    bot = await BotChat.open(alice, BOT);
    const join = HomeserverClient.prototype.join;
    joinSpy = jest.spyOn(HomeserverClient.prototype, "join").mockImplementation(function (this: HomeserverClient, ...args) {
      joins.push(String(args[1]));
      return join.apply(this, args);
    });
  });
  afterAll(async () => {
    joinSpy.mockRestore();
    await fx.stop();
  });

  const asUrl = () => `http://127.0.0.1:${fx.bridge.appservicePort}`;
  const botReplies = async () => (await fx.hs.timeline(bot.roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");

  /** Asks the bridge, as Synapse would before an invite, to provision a virtual user. */
  async function provision(userId: string): Promise<void> {
    const res = await fetch(`${asUrl()}/_matrix/app/v1/users/${encodeURIComponent(userId)}`, { headers: { authorization: `Bearer ${fx.registration.hs_token}` } });
    expect(res.status).toBe(200);
  }

  it("an invite withdrawn while the bridge was stopped does not hold back the bot's replies or a callee's answer", async () => {
    // A call rings alice in her DM with alf.
    const call = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    expect(call.body.status).toBe("success");
    const dm = await alice.waitForInviteFrom(ALF);
    await alice.join(dm);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === call.body.sessionId);
    await provision(BOB);
    const { room_id: room } = await alice.request("POST", "/_matrix/client/v3/createRoom", { preset: "private_chat" });

    // While the bridge is stopped: bob is invited and the invite withdrawn, then a bot command and the answer.
    await fx.bridge.stop();
    await alice.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/invite`, { user_id: BOB });
    await alice.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/kick`, { user_id: BOB, reason: "changed my mind" });
    const repliesBefore = (await botReplies()).length;
    await alice.send(bot.roomId, "m.room.message", { msgtype: "m.text", body: "rules" });
    await alice.send(dm, "m.call.answer", { call_id: call.body.sessionId, party_id: "PHONE", version: "1", answer: ANSWER });

    await fx.startBridge();
    const started = Date.now();
    // The bot answers the command behind the withdrawn invite, and the caller gets alice's answer.
    await waitFor(async () => (await botReplies()).length > repliesBefore || undefined, 15_000, "the bot's reply");
    const session = new WebCallSession(fx.webcallUrl, call.body.sessionId, call.body.token);
    expect((await session.waitForEvent("answer")).answer).toEqual(ANSWER);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The refused join was tried once, not on every retry of a failing transaction.
    await new Promise((r) => setTimeout(r, 1000));
    expect(joins.filter((r) => r === room)).toEqual([room]);
    expect(await fx.hs.membership(room, BOB)).toBe("leave");
    await session.hangup();
  });

  it("a poison event between two good ones: both are handled, the transaction is acknowledged, and its retry redoes nothing", async () => {
    await provision(CAROL);
    // A room carol was never invited to: her join is refused 403 whatever happens.
    const { room_id: room } = await alice.request("POST", "/_matrix/client/v3/createRoom", { preset: "private_chat" });
    const command = (id: string, body: string) => ({
      type: "m.room.message", event_id: id, room_id: bot.roomId, sender: alice.userId, origin_server_ts: Date.now(), content: { msgtype: "m.text", body }, unsigned: { age: 0 },
    });
    const poison = {
      type: "m.room.member", event_id: "$poison-invite", room_id: room, sender: alice.userId, state_key: CAROL,
      origin_server_ts: Date.now(), content: { membership: "invite" }, unsigned: { age: 0 },
    };
    const txn = JSON.stringify({ events: [command("$poison-good-1", "rules"), poison, command("$poison-good-2", "help")] });
    const put = () => fetch(`${asUrl()}/_matrix/app/v1/transactions/poison-1`, {
      method: "PUT", headers: { authorization: `Bearer ${fx.registration.hs_token}`, "content-type": "application/json" }, body: txn,
    }).then(async (res) => ({ status: res.status, body: await res.json() }));

    const before = (await botReplies()).length;
    expect(await put()).toEqual({ status: 200, body: {} });
    const replies = await waitFor(async () => {
      const all = await botReplies();
      return all.length >= before + 2 ? all.slice(before) : undefined;
    }, 10_000, "two replies from the bot");
    expect(replies.map((e) => e.unsigned?.transaction_id ?? e.content.body).length).toBe(2);
    expect(joins.filter((r) => r === room)).toEqual([room]);

    // The homeserver sends it again: nothing is run twice, the poison is not tried again.
    expect(await put()).toEqual({ status: 200, body: {} });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await botReplies()).length).toBe(before + 2);
    expect(joins.filter((r) => r === room)).toEqual([room]);
    expect(await fx.hs.membership(room, CAROL)).not.toBe("join");
  });
});
