/**
 * A rota call's escalation survives SIGKILL (docs/rotas.md, "Across a
 * restart"): the bridge runs as its own process through the real CLI on
 * real Synapse and is killed while the person on call's step rings. Started
 * again, it ends that step when it was due (not a fresh step from the
 * restart), rings the next member, keeps telling the rota room, and the
 * next member's answer reaches the caller.
 */
import type { RoomEvent } from "../homeserver";
import { BridgeProcess } from "./bridgeProcess";
import type { E2EHomeserver } from "./homeserver";
import { waitFor, SERVER_NAME } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER, ANSWER } from "./sdp";

jest.setTimeout(180_000);
const VIRTUAL = "@webcall_alf=40employer.com:example.org";
const BOT = "@webcall:example.org";
const STEP_MS = 20_000;

describe("a rota call when the bridge is killed mid-escalation", () => {
  let hs: E2EHomeserver;
  let bridge: BridgeProcess;
  let mod: RawMatrixUser, bob: RawMatrixUser, carol: RawMatrixUser;
  let roomId: string;
  const sent: RoomEvent[] = [];

  const botMessages = async () => (await hs.timeline(roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");
  async function say(text: string): Promise<string> {
    const seen = (await botMessages()).length;
    await mod.send(roomId, "m.room.message", { msgtype: "m.text", body: text });
    return (await waitFor(async () => (await botMessages())[seen], 20_000, "the bot's reply")).content.body as string;
  }
  const notices = async (body: string) => (await botMessages()).filter((e) => e.content.body === body);

  beforeAll(async () => {
    ({ bridge, hs } = await BridgeProcess.start(SERVER_NAME));
    hs.onEvent((e) => { if (e.sender.startsWith("@webcall")) sent.push(e); });
    const user = async (name: string) => new RawMatrixUser(hs, await hs.createUser(name));
    [mod, bob, carol] = [await user("mod"), await user("bob"), await user("carol")];
    ({ room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom", { name: "Ops", preset: "private_chat", invite: [bob.userId, carol.userId] }));
    await Promise.all([bob.join(roomId), carol.join(roomId)]);
    await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
    await waitFor(async () => (await botMessages())[0], 20_000, "the bot's welcome");
    expect(await say("rota create on-call")).toMatch(/^Created the rota on-call@example\.org\./);
    expect(await say("rota members @bob:example.org @carol:example.org")).toBe("Members: @bob:example.org, @carol:example.org.");
    expect(await say("rota escalate 20s")).toMatch(/^Escalation:/);
  });
  afterAll(async () => {
    await bridge?.stop();
    await hs?.stop();
  });

  it("goes on with the step's time left, rings the next member, tells the room, and the answer connects", async () => {
    const created = Date.now();
    const res = await postJson(bridge.webcallUrl, { callerId: "alf@employer.com", calleeId: "on-call@example.org", offer: OFFER, lifetime: 90_000 });
    expect(res.body.status).toBe("success");
    const { sessionId, token } = res.body;
    const first = "Call from alf@employer.com (not verified) — ringing @bob:example.org (on call)";
    // First contact: bob joins his DM with the caller, and it rings.
    const bobDm = await bob.waitForInviteFrom(VIRTUAL, 20_000);
    await bob.join(bobDm);
    await waitFor(() => sent.find((e) => e.type === "m.call.invite" && e.room_id === bobDm && e.content.call_id === sessionId), 20_000, "bob's invite");
    await waitFor(async () => (await notices(first)).length === 1 || undefined, 20_000, "the first notice");

    await bridge.kill();
    await bridge.spawn();
    const restarted = Date.now();

    // bob's step ends when it was due: no later than 20 s after the call came in, or at once if that passed
    // during the restart; a fresh step from the restart would end 20 s after it.
    const bobHangup = await waitFor(() => sent.find((e) => e.type === "m.call.hangup" && e.room_id === bobDm && e.content.call_id === sessionId), 40_000, "bob's hangup");
    expect(bobHangup.content.reason).toBe("invite_timeout");
    expect(bobHangup.origin_server_ts).toBeLessThan(Math.max(created + STEP_MS, restarted) + 5_000);
    expect(bobHangup.origin_server_ts).toBeLessThan(restarted + STEP_MS - 2_000);

    // carol's turn: first contact for her too, then the invite; the room is told by the new process.
    const carolDm = await carol.waitForInviteFrom(VIRTUAL, 20_000);
    await carol.join(carolDm);
    const invite = await waitFor(() => sent.find((e) => e.type === "m.call.invite" && e.room_id === carolDm), 20_000, "carol's invite");
    const escalated = await waitFor(async () => (await notices("@bob:example.org did not answer in 20 s — ringing @carol:example.org"))[0], 20_000, "the escalation's notice");
    expect(escalated.content["m.mentions"]).toEqual({ user_ids: ["@carol:example.org"] });
    expect(await notices(first)).toHaveLength(1);

    await carol.send(carolDm, "m.call.answer", { call_id: invite.content.call_id, party_id: "CAROL", version: "1", answer: ANSWER });
    const session = new WebCallSession(bridge.webcallUrl, sessionId, token);
    expect((await session.waitForEvent("answer", 20_000)).answer).toEqual(ANSWER);
    const answered = await waitFor(async () => (await botMessages()).find((e) => /^Answered by @carol:example\.org after \d+ s$/.test(String(e.content.body))), 20_000, "the answer's notice");
    expect(answered.content["m.mentions"]).toEqual({ user_ids: ["@carol:example.org"] });
    await session.hangup();
    await waitFor(() => sent.find((e) => e.type === "m.call.hangup" && e.room_id === carolDm), 20_000, "carol's hangup");
  });
});
