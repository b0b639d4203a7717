/**
 * A rota call's plan for a member on another node survives SIGKILL
 * (docs/rotas.md, "Across a restart" and "Members on other nodes"): two
 * real Synapses, alpha's bridge a process of its own through the real CLI,
 * beta's in this process. The rota on-call@alpha.test rings bob on alpha
 * first, then carol@beta.test, a matrix-js-sdk user with real WebRTC on
 * beta's Synapse. Alpha's bridge is killed while bob's step rings and
 * started again: bob's step ends when it was due, carol is rung by relay
 * through beta's bridge (her step came after the restart, so only the
 * stored plan knows of her), the rota room names her, and her answer
 * connects the caller's one WebCall session with media flowing.
 */
import type { RoomEvent } from "../homeserver";
import { BridgeProcess } from "./bridgeProcess";
import type { E2EHomeserver } from "./homeserver";
import { BridgeFixture, freePort, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { WebCallCaller } from "../support/webcallCaller";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";

jest.setTimeout(240_000);
const BOT = "@webcall:alpha.test";
const VIRTUAL = "@webcall_alf=40employer.com:alpha.test";
const STEP_MS = 20_000;

describe("a rota call whose next member is on another node, when the bridge is killed mid-escalation", () => {
  let alpha: BridgeProcess;
  let alphaHs: E2EHomeserver;
  let beta: BridgeFixture;
  let mod: RawMatrixUser, bob: RawMatrixUser;
  let carol: MatrixCaller;
  let roomId: string;
  let peer: WebCallCaller | undefined;
  const sent: RoomEvent[] = [];

  const botMessages = async () => (await alphaHs.timeline(roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");
  async function say(text: string): Promise<string> {
    const seen = (await botMessages()).length;
    await mod.send(roomId, "m.room.message", { msgtype: "m.text", body: text });
    return (await waitFor(async () => (await botMessages())[seen], 20_000, "the bot's reply")).content.body as string;
  }
  const notice = (body: string | RegExp) => waitFor(async () => (await botMessages()).find((e) => e.content.msgtype === "m.notice"
    && (typeof body === "string" ? e.content.body === body : body.test(String(e.content.body)))), 30_000, `the notice "${String(body)}"`);

  beforeAll(async () => {
    const [alphaPort, betaPort] = [await freePort(), await freePort()];
    const alphaUrl = `http://127.0.0.1:${alphaPort}/webcall`;
    [{ bridge: alpha, hs: alphaHs }, beta] = await Promise.all([
      BridgeProcess.start("alpha.test", {
        webcall: { port: alphaPort, publicUrl: alphaUrl },
        outbound: { allowHttp: true, allowPrivateNetworks: true, nodes: { "beta.test": `http://127.0.0.1:${betaPort}/webcall` } },
      }),
      BridgeFixture.start({ serverName: "beta.test", webcallPort: betaPort, outbound: { nodes: { "alpha.test": alphaUrl } } }),
    ]);
    alphaHs.onEvent((e) => { if (e.sender.startsWith("@webcall")) sent.push(e); });
    mod = new RawMatrixUser(alphaHs, await alphaHs.createUser("mod"));
    bob = new RawMatrixUser(alphaHs, await alphaHs.createUser("bob"));
    carol = await startMatrixClient({ baseUrl: beta.hs.url, ...(await beta.hs.createUser("carol")) });
    ({ room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom", { name: "Ops", preset: "private_chat", invite: [bob.userId] }));
    await bob.join(roomId);
    await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
    await waitFor(async () => (await botMessages())[0], 20_000, "the bot's welcome");
    expect(await say("rota create on-call")).toMatch(/^Created the rota on-call@alpha\.test\./);
    expect(await say("rota members @bob:alpha.test carol@beta.test")).toBe("Members: @bob:alpha.test, carol@beta.test.");
    expect(await say("rota escalate 20s")).toMatch(/^Escalation:/);
  });
  afterAll(async () => {
    // Closed and let go: a closed WebCallCaller kept in a variable keeps its wrtc objects alive.
    peer?.close();
    peer = undefined;
    await carol?.stop();
    await alpha?.stop();
    await alphaHs?.stop();
    await beta?.stop();
    await teardownWrtcGlobals();
  });

  it("rings the member on beta when bob's step ends after the restart; her answer connects and media flows", async () => {
    peer = new WebCallCaller({ setupActive: true });
    const created = Date.now();
    const res = await postJson(alpha.webcallUrl, { callerId: "alf@employer.com", calleeId: "on-call@alpha.test", offer: await peer.offer(), lifetime: 120_000 });
    expect(res.body.status).toBe("success");
    const { sessionId, token } = res.body;
    // First contact: bob joins his DM with the caller, and it rings.
    const bobDm = await bob.waitForInviteFrom(VIRTUAL, 20_000);
    await bob.join(bobDm);
    await waitFor(() => sent.find((e) => e.type === "m.call.invite" && e.room_id === bobDm && e.content.call_id === sessionId), 20_000, "bob's invite");
    await notice("Call from alf@employer.com (not verified) — ringing @bob:alpha.test (on call)");
    // Nothing has gone to beta yet: carol's step has not come.
    expect(beta.sent.filter((e) => e.type === "m.call.invite")).toEqual([]);

    await alpha.kill();
    await alpha.spawn();
    const restarted = Date.now();

    const bobHangup = await waitFor(() => sent.find((e) => e.type === "m.call.hangup" && e.room_id === bobDm && e.content.call_id === sessionId), 40_000, "bob's hangup");
    expect(bobHangup.content.reason).toBe("invite_timeout");
    // When it was due (or at once if that passed during the restart), not a fresh step from the restart.
    expect(bobHangup.origin_server_ts).toBeLessThan(Math.max(created + STEP_MS, restarted) + 5_000);

    // carol's turn, by relay through beta: first contact there, then her call rings.
    const carolDm = await carol.waitForInvite();
    await carol.joinRoom(carolDm);
    const atCarol = await carol.waitForIncomingCall({ roomId: carolDm, timeoutMs: 30_000 });
    await notice("@bob:alpha.test did not answer in 20 s — ringing carol@beta.test");
    await carol.answer(atCarol);

    const session = new WebCallSession(alpha.webcallUrl, sessionId, token);
    const answer = await session.waitForEvent("answer", 30_000);
    await peer.acceptAnswer(answer.answer);
    for (const e of session.received.filter((x) => x.type === "candidates")) await peer.addRemoteCandidates(e.candidates);
    await peer.waitConnected({ timeoutMs: 30_000, dataChannel: false });
    const [media, caller] = await Promise.all([carol.waitForMediaFlowing(atCarol), peer.waitForMediaFlowing()]);
    expect(media.bytesReceived).toBeGreaterThan(0);
    expect(caller.bytesReceived).toBeGreaterThan(0);
    await notice(/^Answered by carol@beta\.test after \d+ s$/);
    expect(beta.problems).toEqual([]);

    await session.hangup();
    await carol.waitForCallState(atCarol, "ended");
  });
});
