/**
 * A WebCall session event may carry 100 candidates of 4,096 characters, and
 * the bridge gathers several events' candidates into one m.call.candidates:
 * Synapse refuses an event over 65,536 bytes (413 M_TOO_LARGE), so the batch
 * must be split, in order, or candidates are lost.
 */
import { HomeserverClient } from "../../src/matrix/HomeserverClient";
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { OFFER } from "./sdp";
import { postJson, WebCallSession } from "./webcallClient";

jest.setTimeout(60_000);
const VIRTUAL = "@webcall_alf=40employer.com:example.org";

/** Candidate `n`, a real candidate line padded with an extension attribute to 4,000 characters. */
function bigCandidate(n: number): { candidate: string; sdpMid: string; sdpMLineIndex: number } {
  const line = `candidate:${n} 1 udp 2122260223 127.0.0.1 ${5000 + n} typ host generation 0 x-pad `;
  return { candidate: line.padEnd(4000, "p"), sdpMid: "0", sdpMLineIndex: 0 };
}

describe("m.call.candidates stay within Synapse's event size limit", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  const failedSends: string[] = [];

  beforeAll(async () => {
    // A long window, so every delivery below lands in one batch however busy the machine is.
    fx = await BridgeFixture.start({ calls: { candidateBatchMs: 300 } });
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    const send = HomeserverClient.prototype.sendEvent;
    jest.spyOn(HomeserverClient.prototype, "sendEvent").mockImplementation(function (this: HomeserverClient, ...args) {
      return send.apply(this, args).catch((err: Error) => {
        failedSends.push(`${args[2]}: ${err.message}`);
        throw err;
      });
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await fx.stop();
  });

  it("several deliveries full of 4 KB candidates all reach the room, in order, and no send fails", async () => {
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    expect(res.body.status).toBe("success");
    const session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
    const room = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(room);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === session.sessionId);

    // Five deliveries of 15 candidates each: as much as one 64 KiB request body holds.
    const sent = Array.from({ length: 75 }, (_, n) => bigCandidate(n));
    for (let i = 0; i < sent.length; i += 15) {
      const delivery = await session.deliver([{ type: "candidates", candidates: sent.slice(i, i + 15) }]);
      expect(delivery.status).toBe(200);
    }

    const arrived = await waitFor(async () => {
      const events = (await fx.hs.timeline(room)).filter((e) => e.type === "m.call.candidates" && e.content.call_id === session.sessionId);
      const candidates = events.flatMap((e) => e.content.candidates as unknown[]);
      return candidates.length >= sent.length || failedSends.length ? { events, candidates } : undefined;
    }, 20_000, "every candidate in the room, or a failed send");
    expect(failedSends).toEqual([]);
    expect(arrived.candidates).toEqual(sent);
    expect(arrived.events.length).toBeGreaterThan(1);
    expect(fx.problems).toEqual([]);
    await session.hangup();
  });
});
