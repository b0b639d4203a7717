/**
 * Invites a virtual user must refuse, saying why, instead of joining and
 * staying silent: a room whose power levels do not let it call (Synapse's
 * `public_chat` preset sets m.call.invite to 50, handlers/room.py), and an
 * invite from a user of another homeserver (pushed as a crafted appservice
 * transaction: the test Synapse has no federation).
 */
import { BridgeFixture } from "./fixture";
import { RawMatrixUser } from "./matrixUser";

const ALF = "@webcall_alf=40employer.com:example.org";

describe("invites a virtual user refuses, on Synapse", () => {
  let fx: BridgeFixture;
  let bob: RawMatrixUser;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
  });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => { expect(fx.problems).toEqual([]); });

  const leaveOf = (room: string) => fx.waitForSent((e) => e.room_id === room && e.type === "m.room.member" && e.state_key === ALF && e.content.membership === "leave");

  it("leaves a room where it may not send m.call.invite, saying why", async () => {
    const { room_id: room } = await bob.request("POST", "/_matrix/client/v3/createRoom", { preset: "public_chat", is_direct: true, invite: [ALF] });
    expect(String((await leaveOf(room)).content.reason)).toMatch(/power level/);
    expect(await fx.bridge.store.getDmRoomById(room as never)).toBeUndefined();
  });

  it("refuses an invite from a user of another homeserver without joining", async () => {
    // A room the virtual user could join (public), "invited" by a remote user.
    const { room_id: room } = await bob.request("POST", "/_matrix/client/v3/createRoom", {
      preset: "private_chat", initial_state: [{ type: "m.room.join_rules", state_key: "", content: { join_rule: "public" } }],
    });
    const invite = {
      type: "m.room.member", state_key: ALF, event_id: "$remote-invite", room_id: room, sender: "@eve:other.example",
      origin_server_ts: Date.now(), content: { membership: "invite", is_direct: true }, unsigned: { age: 0 },
    };
    const res = await fetch(`http://127.0.0.1:${fx.bridge.appservicePort}/_matrix/app/v1/transactions/remote-1`, {
      method: "PUT", headers: { authorization: `Bearer ${fx.registration.hs_token}`, "content-type": "application/json" },
      body: JSON.stringify({ events: [invite] }),
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(fx.sent.filter((e) => e.room_id === room && e.state_key === ALF && e.content.membership === "join")).toEqual([]);
  });
});
