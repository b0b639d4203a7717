/**
 * A Synapse that makes every new room end-to-end encrypted
 * (`encryption_enabled_by_default_for_room_type: all`, which room creation
 * applies whatever the request says): the DM a first call creates comes out
 * encrypted, and the bridge cannot take part in it. The call must not ring
 * into nothing: the caller is told could_not_attend, the callee is told why
 * in the room's name and topic, and the room is not used again.
 */
import { BridgeFixture } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { OFFER } from "./sdp";
import { ENCRYPTED_DM_NAME, ENCRYPTED_DM_REASON } from "../../src/matrix/DmRooms";

const ALF = "@webcall_alf=40employer.com:example.org";

describe("a homeserver that encrypts new rooms, on Synapse", () => {
  let fx: BridgeFixture;

  beforeAll(async () => {
    // Synapse only: the in-process homeserver has no setting that encrypts every new room.
    fx = await BridgeFixture.start({ homeserver: "synapse", synapseConfig: { encryption_enabled_by_default_for_room_type: "all" } });
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => { expect(fx.problems).toEqual([]); });

  it("ends the call as could_not_attend, tells the callee why, and keeps no DM", async () => {
    const wes = new RawMatrixUser(fx.hs, await fx.hs.createUser("wes"));
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "wes@example.org", offer: OFFER, lifetime: 20000 });
    expect(res.body.status).toBe("success");
    const session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
    expect((await session.waitForEvent("hangup")).reason).toBe("could_not_attend");

    const room = await wes.waitForInviteFrom(ALF);
    await fx.waitForSent((e) => e.room_id === room && e.type === "m.room.topic");
    await wes.join(room);
    const state = (path: string) => wes.request("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/state/${path}`);
    expect((await state("m.room.encryption")).algorithm).toBeDefined();
    expect((await state("m.room.name")).name).toBe(ENCRYPTED_DM_NAME);
    expect((await state("m.room.topic")).topic).toBe(ENCRYPTED_DM_REASON);
    expect(fx.sentIn(room, "m.call.invite")).toEqual([]);
    expect(await fx.bridge.store.getDmRoom(wes.userId as never, ALF as never)).toBeUndefined();
  });
});
