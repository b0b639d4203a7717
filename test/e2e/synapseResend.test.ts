/**
 * A resend after a crash must not ring twice, without help from Synapse: its
 * PUT /send/{type}/{txnId} de-duplication is an in-memory cache of one
 * process, kept 30-60 minutes (rest/client/transactions.py), and for an
 * appservice's virtual users (no device) nothing is kept in its database.
 */
import { join } from "node:path";
import { openStore } from "../../src/store";
import type { SessionId } from "../../src/ids/session";
import type { LegId } from "../../src/model/leg";
import { BridgeProcess } from "./bridgeProcess";
import type { E2EHomeserver } from "./homeserver";
import { waitFor, SERVER_NAME } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson } from "./webcallClient";
import { OFFER } from "./sdp";

jest.setTimeout(120_000);
const VIRTUAL = "@webcall_alf=40employer.com:example.org";

describe("a bridge SIGKILLed while ringing, then Synapse restarted", () => {
  let hs: E2EHomeserver;
  let bridge: BridgeProcess;
  let alice: RawMatrixUser;

  beforeAll(async () => {
    // Synapse only: the in-process homeserver keeps its state in memory and cannot restart.
    ({ bridge, hs } = await BridgeProcess.start(SERVER_NAME, {}, "synapse"));
    alice = new RawMatrixUser(hs, await hs.createUser("alice", { displayName: "Alice" }));
  });
  afterAll(async () => {
    await bridge.stop();
    await hs.stop();
  });

  const invites = async (room: string, callId: string) =>
    (await hs.timeline(room)).filter((e) => e.type === "m.call.invite" && e.content.call_id === callId);

  it("sends exactly one m.call.invite for the call, even when the crash came between the send and the store update", async () => {
    const first = await postJson(bridge.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, lifetime: 60_000 });
    const room = await alice.waitForInviteFrom(VIRTUAL);
    await alice.join(room);
    const callId = first.body.sessionId as SessionId;
    await waitFor(async () => (await invites(room, callId)).length > 0 || undefined, 10_000, "the invite");

    await bridge.kill();
    await hs.restart();
    // The store as a crash right after the send left it: the invite is out, the
    // call not yet marked ringing. The kill may itself have come that early;
    // if it came later, the call is put back where such a crash leaves it.
    const store = await openStore({ dataDir: join(bridge.dir, "data") });
    await store.transitionLeg(callId as string as LegId, ["ringing"], { state: "preparing" });
    expect(["preparing", "awaiting_join"]).toContain((await store.getLeg(callId as string as LegId))?.state);
    await store.close();
    await bridge.spawn();

    // Resume rings calls left "preparing" as it starts; give a second invite time to show.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await invites(room, callId)).toHaveLength(1);
  });
});
