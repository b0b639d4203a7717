import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { DmRooms, ENCRYPTED_DM_NAME, ENCRYPTED_DM_REASON } from "../../src/matrix/DmRooms";
import { dmStore, fakeHomeserver } from "./fakes";

const ALICE = "@alice:example.org" as MatrixUserId;
const ALF = "@webcall_alf=40employer.com:example.org" as MatrixUserId;
const ROOM = "!existing:example.org" as RoomId;

function setup() {
  const hs = fakeHomeserver();
  const { store, rows } = dmStore();
  return { hs, rows, store, rooms: new DmRooms(store, hs.client) };
}

describe("DmRooms: the one DM per (Matrix user, virtual user)", () => {
  it("first contact creates a private direct room inviting the user, stored and then served from memory", async () => {
    const { hs, rows, rooms } = setup();
    const first = await rooms.ensure(ALICE, ALF);
    expect(first).toEqual({ created: true, room: { matrixUserId: ALICE, virtualUserId: ALF, roomId: "!created1:example.org", matrixUserJoined: false } });
    expect(hs.called("createRoom")).toEqual([[ALF, { preset: "trusted_private_chat", is_direct: true, invite: [ALICE], visibility: "private" }]]);
    expect(rows.get("!created1:example.org")).toMatchObject({ matrixUserId: ALICE });
    const again = await rooms.ensure(ALICE, ALF);
    expect(again).toMatchObject({ created: false, room: { roomId: "!created1:example.org" } });
    expect(hs.called("createRoom")).toHaveLength(1);
    expect(await rooms.findByRoomId("!created1:example.org" as RoomId)).toMatchObject({ matrixUserId: ALICE, virtualUserId: ALF });
  });

  it("a room the homeserver made encrypted is given up, saying why in its name and topic, and not stored", async () => {
    const { hs, rows, rooms } = setup();
    hs.state.set("m.room.encryption", { algorithm: "m.megolm.v1.aes-sha2" });
    expect(await rooms.ensure(ALICE, ALF)).toEqual({ encrypted: true });
    expect(hs.called("sendState")).toEqual([
      [ALF, "!created1:example.org", "m.room.name", { name: ENCRYPTED_DM_NAME }],
      [ALF, "!created1:example.org", "m.room.topic", { topic: ENCRYPTED_DM_REASON }],
    ]);
    expect(rows.size).toBe(0);
  });

  it("finds a DM kept in the store (after a restart) by pair and by room", async () => {
    const { hs, store, rooms } = setup();
    await store.putDmRoom({ matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: true });
    expect(await rooms.findByRoomId(ROOM)).toMatchObject({ matrixUserId: ALICE });
    expect(await rooms.ensure(ALICE, ALF)).toMatchObject({ created: false, room: { roomId: ROOM } });
    expect(hs.calls).toEqual([]);
  });

  it("adopting a room the user invited the virtual user to replaces the pair's old DM", async () => {
    const { rooms } = setup();
    await rooms.ensure(ALICE, ALF);
    await rooms.adopt({ matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: true });
    expect(await rooms.find(ALICE, ALF)).toMatchObject({ roomId: ROOM });
    expect(await rooms.findByRoomId("!created1:example.org" as RoomId)).toBeUndefined();
  });

  it("joins and leaves are remembered; a forgotten DM is gone by pair and by room", async () => {
    const { rows, rooms } = setup();
    await rooms.adopt({ matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: false });
    expect(await rooms.setJoined(ROOM, true)).toMatchObject({ matrixUserJoined: true });
    expect(rows.get(ROOM)?.matrixUserJoined).toBe(true);
    await rooms.forget(ROOM);
    expect(await rooms.find(ALICE, ALF)).toBeUndefined();
    expect(await rooms.findByRoomId(ROOM)).toBeUndefined();
  });

  describe("inviting back a user who left", () => {
    it("invites them again in the same room", async () => {
      const { hs, rooms } = setup();
      const room = { matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: false };
      await rooms.adopt(room);
      expect(await rooms.reinvite(room)).toEqual({ room, created: false });
      expect(hs.called("invite")).toEqual([[ALF, ROOM, ALICE]]);
    });

    it("a 403 while both are joined is a join whose push has not arrived: the same room, now joined", async () => {
      const { hs, rooms } = setup();
      const room = { matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: false };
      await rooms.adopt(room);
      hs.fail("invite", 403, "M_FORBIDDEN");
      hs.setMembers([ALICE, ALF]);
      expect(await rooms.reinvite(room)).toEqual({ room: { ...room, matrixUserJoined: true }, created: false });
      expect(hs.called("createRoom")).toEqual([]);
    });

    it("a 403 otherwise is a lost DM: a new one replaces it", async () => {
      const { hs, rooms } = setup();
      const room = { matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: false };
      await rooms.adopt(room);
      hs.fail("invite", 403, "M_FORBIDDEN");
      hs.setMembers([ALICE]);
      expect(await rooms.reinvite(room)).toMatchObject({ created: true, room: { roomId: "!created1:example.org" } });
      expect(await rooms.findByRoomId(ROOM)).toBeUndefined();
    });

    it("any other failure is the caller's to handle", async () => {
      const { hs, rooms } = setup();
      const room = { matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: false };
      hs.fail("invite", 502, "M_UNKNOWN");
      await expect(rooms.reinvite(room)).rejects.toMatchObject({ status: 502 });
    });
  });
});
