import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { ENCRYPTED_ROOM_NOTICE } from "../../src/matrix/DmInvites";

const ALF = "@webcall_alf=40employer.com:example.org";

/** A Matrix user starts a DM with a WebCall address by inviting its virtual user. */
describe("DMs with virtual users", () => {
  let fx: BridgeFixture;
  let bob: RawMatrixUser;
  let carol: RawMatrixUser;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
    carol = new RawMatrixUser(fx.hs, await fx.hs.createUser("carol"));
  });
  afterAll(async () => { await fx.stop(); });

  async function roomWith(invite: string[], extra: object = {}): Promise<string> {
    const res = await bob.request("POST", "/_matrix/client/v3/createRoom", { preset: "trusted_private_chat", is_direct: true, invite, ...extra });
    return res.room_id;
  }

  it("the homeserver's user query provisions a virtual user, with the address as its display name", async () => {
    const res = await fetch(`http://127.0.0.1:${fx.bridge.appservicePort}/_matrix/app/v1/users/${encodeURIComponent(ALF)}`, { headers: { authorization: `Bearer ${fx.registration.hs_token}` } });
    expect(res.status).toBe(200);
    const profile = await bob.request("GET", `/_matrix/client/v3/profile/${encodeURIComponent(ALF)}`);
    expect(profile.displayname).toBe("alf@employer.com");
    const bad = await fetch(`http://127.0.0.1:${fx.bridge.appservicePort}/_matrix/app/v1/users/${encodeURIComponent("@webcall_not-an-address:example.org")}`, { headers: { authorization: `Bearer ${fx.registration.hs_token}` } });
    expect(bad.status).toBe(404);
  });

  it("joins a two-person room and makes it the DM", async () => {
    const room = await roomWith([ALF]);
    await waitFor(async () => await fx.hs.membership(room, ALF) === "join" || undefined, 5000, "the virtual user to join");
    const dm = await waitFor(() => fx.bridge.store.getDmRoomById(room as never), 5000, "the DM to be stored");
    expect(dm).toMatchObject({ matrixUserId: bob.userId, virtualUserId: ALF, matrixUserJoined: true });
  });

  it("refuses an encrypted room with a notice saying why", async () => {
    const room = await roomWith([ALF], { initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }] });
    await waitFor(async () => await fx.hs.membership(room, ALF) === "leave" || undefined, 5000, "the virtual user to leave");
    expect((await fx.hs.timeline(room)).some((e) => e.sender === ALF && e.content.body === ENCRYPTED_ROOM_NOTICE)).toBe(true);
    expect(await fx.bridge.store.getDmRoomById(room as never)).toBeUndefined();
  });

  it("leaves a room with more than two people, with a reason", async () => {
    const room = await roomWith([carol.userId]);
    await carol.join(room);
    await bob.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/invite`, { user_id: ALF });
    await waitFor(async () => await fx.hs.membership(room, ALF) === "leave" || undefined, 5000, "the virtual user to leave");
    const leave = (await fx.hs.timeline(room)).find((e) => e.type === "m.room.member" && e.state_key === ALF && e.content.membership === "leave")!;
    expect(String(leave.content.reason)).toContain("direct chats with one person");
  });

  it("refuses an id that is not an address", async () => {
    const bogus = "@webcall_not-an-address:example.org";
    const room = await roomWith([bogus]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await fx.hs.membership(room, bogus)).not.toBe("join");
  });
});
