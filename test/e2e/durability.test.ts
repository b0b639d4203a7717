/**
 * Crash safety: the bridge runs as its own process through the real CLI and
 * is killed with SIGKILL mid-call. Nothing stored may be lost, ringing calls
 * must still end, and retried requests must not ring twice.
 */
import type { RoomEvent } from "../homeserver";
import { BridgeProcess } from "./bridgeProcess";
import type { E2EHomeserver } from "./homeserver";
import { waitFor, SERVER_NAME } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER, ANSWER } from "./sdp";

jest.setTimeout(90_000);
const VIRTUAL = "@webcall_alf=40employer.com:example.org";

describe("a bridge killed mid-call", () => {
  let hs: E2EHomeserver;
  let bridge: BridgeProcess;
  let webcallUrl: string;
  let asPort: number;
  let hsToken: string;
  let alice: RawMatrixUser;
  const sent: RoomEvent[] = [];

  async function startBridge(): Promise<void> {
    await bridge.spawn();
  }

  function kill(): Promise<void> {
    return bridge.kill();
  }

  beforeAll(async () => {
    ({ bridge, hs } = await BridgeProcess.start(SERVER_NAME));
    hs.onEvent((e) => { if (e.sender.startsWith("@webcall_")) sent.push(e); });
    ({ webcallUrl, asPort, hsToken } = bridge);
    alice = new RawMatrixUser(hs, await hs.createUser("alice"));
  });

  afterAll(async () => {
    await bridge.stop();
    await hs.stop();
  });

  it("keeps rooms and calls across SIGKILL: ringing calls still time out, answers sent meanwhile still connect, retries ring once", async () => {
    // First contact makes the DM.
    const first = await postJson(webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    const room = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(room);
    await waitFor(() => sent.find((e) => e.type === "m.call.invite" && e.content.call_id === first.body.sessionId), 10_000, "the first invite");
    await new WebCallSession(webcallUrl, first.body.sessionId, first.body.token).hangup();

    // Two calls ringing when the bridge dies.
    const timingOut = await postJson(webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, lifetime: 8000 });
    const retried = { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, sessionId: "crash-retry-0123456789", token: "r".repeat(43) };
    const answered = await postJson(webcallUrl, retried);
    for (const id of [timingOut.body.sessionId, retried.sessionId]) {
      await waitFor(() => sent.find((e) => e.type === "m.call.invite" && e.content.call_id === id), 10_000, "an invite");
    }
    await kill();

    // While it is down, alice answers one of them; the homeserver keeps retrying the push.
    await alice.send(room, "m.call.answer", { call_id: retried.sessionId, party_id: "PHONE", version: "1", answer: ANSWER });
    await new Promise((r) => setTimeout(r, 500));
    await startBridge();

    // The retried POST gets the same answer and rings nobody again.
    const again = await postJson(webcallUrl, retried);
    expect(again.body).toEqual(answered.body);

    // The answer given while the bridge was down is selected, once.
    const session = new WebCallSession(webcallUrl, retried.sessionId, retried.token);
    expect((await session.waitForEvent("answer")).answer).toEqual(ANSWER);
    await waitFor(() => sent.find((e) => e.type === "m.call.select_answer" && e.content.call_id === retried.sessionId), 10_000, "select_answer");

    // A transaction the homeserver sends twice is handled once.
    const txn = { events: [{ type: "m.call.hangup", event_id: "$replayed", room_id: room, sender: alice.userId, origin_server_ts: Date.now(), content: { call_id: retried.sessionId, party_id: "PHONE", version: "1", reason: "user_hangup" }, unsigned: { age: 0 } }] };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${asPort}/_matrix/app/v1/transactions/replayed-1`, {
        method: "PUT", headers: { authorization: `Bearer ${hsToken}`, "content-type": "application/json" }, body: JSON.stringify(txn),
      });
      expect(res.status).toBe(200);
    }
    expect((await session.waitForEvent("hangup")).reason).toBe("user_hangup");
    const endedNotices = () => sent.filter((e) => e.room_id === room && /ended after/.test(String(e.content.body)));
    await waitFor(() => endedNotices().length === 1 || undefined, 5000, "the ended notice");

    // The call that was ringing still times out at its lifetime.
    const timing = new WebCallSession(webcallUrl, timingOut.body.sessionId, timingOut.body.token);
    expect((await timing.waitForEvent("hangup", 15_000)).reason).toBe("could_not_attend");
    const hangups = sent.filter((e) => e.type === "m.call.hangup" && e.content.call_id === timingOut.body.sessionId);
    expect(hangups.map((e) => e.content.reason)).toEqual(["invite_timeout"]);

    // The DM survived: the next call rings in the same room without a new invite.
    const next = await postJson(webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    const invite = await waitFor(() => sent.find((e) => e.type === "m.call.invite" && e.content.call_id === next.body.sessionId), 10_000, "the next invite");
    expect(invite.room_id).toBe(room);
    expect(sent.filter((e) => e.type === "m.room.member" && e.content.membership === "invite")).toHaveLength(1);
    expect(sent.filter((e) => e.type === "m.call.invite" && e.content.call_id === retried.sessionId)).toHaveLength(1);
    expect(endedNotices()).toHaveLength(1);
  });
});
