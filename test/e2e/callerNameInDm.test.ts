/**
 * The caller's name in the DM on real Synapse. A virtual user's display name
 * says what the call proved (`✓` or `(unverified)`); Synapse copies a global
 * display name change into room member events later, in a background task,
 * so the DM must already show this call's name when its m.call.invite
 * arrives: a spoofed call must never ring under the last caller's ✓.
 */
import { BridgeFixture, freePort } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { SignedNode } from "./signedNode";
import { postJson } from "./webcallClient";
import { OFFER } from "./sdp";
import type { RoomEvent } from "../homeserver";

const ALF = "@webcall_alf=40employer.com:example.org";

describe("the caller's name in the DM, on Synapse", () => {
  let fx: BridgeFixture;
  let employer: SignedNode;
  let sessions = 0;

  beforeAll(async () => {
    const [bridgePort, employerPort] = [await freePort(), await freePort()];
    const nodes = { "example.org": `http://127.0.0.1:${bridgePort}/webcall`, "employer.com": `http://127.0.0.1:${employerPort}/webcall` };
    employer = await SignedNode.start("employer.com", employerPort, nodes);
    fx = await BridgeFixture.start({ webcallPort: bridgePort, outbound: { nodes } });
  });
  afterAll(async () => {
    await fx.stop();
    await employer.stop();
  });
  afterEach(() => { expect(fx.problems).toEqual([]); });

  function setup(calleeId: string): { callerId: string; calleeId: string; offer: object; lifetime: number; notify: string; sessionId: string; token: string } {
    sessions++;
    return {
      callerId: "alf@employer.com", calleeId, offer: OFFER, lifetime: 30000, notify: employer.url,
      sessionId: `name-session-${sessions}-${Date.now()}`, token: `T${"n".repeat(30)}${sessions}`,
    };
  }

  const verifiedCall = async (calleeId: string) => {
    const body = { ...setup(calleeId), chain: employer.placed("alf@employer.com", calleeId) };
    expect((await employer.post(fx.webcallUrl, "example.org", body)).body.status).toBe("success");
    return body;
  };

  /** The virtual user's display name in the room's state just before `eventId`, in timeline order. */
  function nameBefore(timeline: RoomEvent[], eventId: string): unknown {
    const at = timeline.findIndex((e) => e.event_id === eventId);
    expect(at).toBeGreaterThan(0);
    const member = timeline.slice(0, at).reverse().find((e) => e.type === "m.room.member" && e.state_key === ALF);
    return member?.content.displayname;
  }

  it("a spoofed call right after a verified one rings under '(unverified)', and the next verified one under ✓", async () => {
    const vic = new RawMatrixUser(fx.hs, await fx.hs.createUser("vic"));
    const first = await verifiedCall("vic@example.org");
    const dm = await vic.waitForInviteFrom(ALF);
    await vic.join(dm);
    const ringing = await fx.waitForSent((e) => e.room_id === dm && e.type === "m.call.invite" && e.content.call_id === first.sessionId);
    const hung = await employer.send(fx.webcallUrl, "example.org", first.sessionId, first.token, [{ type: "hangup", reason: "user_hangup" }]);
    expect(hung.status).toBe(200);

    const spoof = setup("vic@example.org"); // unsigned: nothing proves who is calling
    expect((await postJson(fx.webcallUrl, spoof)).body.status).toBe("success");
    const spoofInvite = await fx.waitForSent((e) => e.room_id === dm && e.type === "m.call.invite" && e.content.call_id === spoof.sessionId);
    await postJson(`${fx.webcallUrl}/sessions/${spoof.sessionId}/events`, { events: [{ id: "h1", type: "hangup", reason: "user_hangup" }] },
      { authorization: `Bearer ${spoof.token}` });

    const again = await verifiedCall("vic@example.org");
    const againInvite = await fx.waitForSent((e) => e.room_id === dm && e.type === "m.call.invite" && e.content.call_id === again.sessionId);

    const timeline = await fx.hs.timeline(dm);
    expect(nameBefore(timeline, ringing.event_id)).toBe("alf@employer.com ✓");
    expect(nameBefore(timeline, spoofInvite.event_id)).toBe("alf@employer.com (unverified)");
    expect(nameBefore(timeline, againInvite.event_id)).toBe("alf@employer.com ✓");
  });
});
