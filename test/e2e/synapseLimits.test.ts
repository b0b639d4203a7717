/**
 * Synapse refuses an event over 65,536 bytes of canonical JSON and a user id
 * over 255 characters (event_auth.py `_check_size_limits`, handlers/register.py).
 * The WebCall door must refuse what Synapse would, with a clear 4xx, rather
 * than answer success and fail at the homeserver.
 */
import { BridgeFixture } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson } from "./webcallClient";

jest.setTimeout(60_000);
const VIRTUAL = "@webcall_alf=40employer.com:example.org";
const LIMIT = 61_440;

/** An SDP of realistic lines whose JSON-escaped form is exactly `bytes` long. */
function sdpOf(bytes: number): string {
  let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  const escaped = (s: string) => JSON.stringify(s).length - 2;
  while (escaped(sdp) + 80 < bytes) sdp += `a=x-pad:${"0123456789".repeat(6)}\r\n`;
  return sdp + "a=".padEnd(bytes - escaped(sdp) - 4, "z") + "\r\n";
}

describe("size limits at POST /webcall, as Synapse has them", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice", { displayName: "Alice" }));
  });
  afterAll(async () => { await fx.stop(); });

  it("an SDP just under the limit rings: Synapse accepts the invite", async () => {
    const sdp = sdpOf(LIMIT);
    expect(JSON.stringify(sdp).length - 2).toBe(LIMIT);
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: { type: "offer", sdp } });
    expect(res.body.status).toBe("success");
    const room = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(room);
    const invite = await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === res.body.sessionId);
    expect((invite.content.offer as { sdp: string }).sdp).toBe(sdp);
  });

  it("an SDP over the limit gets 413 WEBCALL_TOO_LARGE, though it has fewer characters than the limit", async () => {
    const sdp = sdpOf(LIMIT + 1);
    expect(sdp.length).toBeLessThan(LIMIT);
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: { type: "offer", sdp } });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ errcode: "WEBCALL_TOO_LARGE", error: expect.stringContaining("body/offer/sdp") });
  });

  it("a callerId whose virtual user id would pass 255 characters gets 400 WEBCALL_BAD_ADDRESS", async () => {
    const callerId = `${"a".repeat(250 - "@employer.com".length)}@employer.com`;
    expect(callerId).toHaveLength(250);
    const res = await postJson(fx.webcallUrl, { callerId, calleeId: "alice@example.org", offer: { type: "offer", sdp: sdpOf(200) } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errcode: "WEBCALL_BAD_ADDRESS", error: expect.stringContaining("255") });
  });
});
