import { Address } from "../../src/ids/address";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { DmInvites, ENCRYPTED_ROOM_NOTICE } from "../../src/matrix/DmInvites";
import { DmRooms } from "../../src/matrix/DmRooms";
import { setLogLevel } from "../../src/log";
import { VirtualUserRegistry } from "../../src/matrix/VirtualUserRegistry";
import { dmStore, fakeHomeserver } from "./fakes";

const ALICE = "@alice:example.org" as MatrixUserId;
const REMOTE = "@mallory:elsewhere.org" as MatrixUserId;
const ALF = "@webcall_alf=40employer.com:example.org" as MatrixUserId;
const ADDRESS = "alf@employer.com" as Address;
const ROOM = "!invitedTo:example.org" as RoomId;

beforeAll(() => setLogLevel("error"));

function setup() {
  const hs = fakeHomeserver();
  const { store } = dmStore();
  const rooms = new DmRooms(store, hs.client);
  const ensured: unknown[][] = [];
  const registry = { ensure: async (...args: unknown[]) => { ensured.push(args); } } as unknown as VirtualUserRegistry;
  hs.setMembers([ALICE, ALF]);
  return { hs, rooms, ensured, invites: new DmInvites(hs.client, registry, rooms) };
}

const leaveReasons = (hs: ReturnType<typeof fakeHomeserver>) => hs.called("leave").map((args) => args[2]);

describe("DmInvites: a Matrix user invites a virtual user", () => {
  it("a two-person unencrypted room from a user of this homeserver becomes the pair's DM", async () => {
    const { hs, rooms, ensured, invites } = setup();
    await invites.onInvite(ROOM, ALICE, ALF, ADDRESS);
    expect(ensured).toEqual([[ALF, ADDRESS]]);
    expect(hs.called("join")).toEqual([[ALF, ROOM]]);
    expect(hs.called("leave")).toEqual([]);
    expect(await rooms.find(ALICE, ALF)).toEqual({ matrixUserId: ALICE, virtualUserId: ALF, roomId: ROOM, matrixUserJoined: true });
  });

  it("power levels that let the virtual user send call events are fine (users_default 50 against 50)", async () => {
    const { hs, rooms, invites } = setup();
    hs.state.set("m.room.power_levels", { users_default: 50, events: { "m.call.invite": 50 } });
    await invites.onInvite(ROOM, ALICE, ALF, ADDRESS);
    expect(await rooms.find(ALICE, ALF)).toBeDefined();
  });

  it.each([
    ["not an address (or the anonymous caller)", { address: null }, "This is not a WebCall address that can be called."],
    ["a user of another homeserver", { inviter: REMOTE }, "Only users of example.org can call WebCall addresses through its bridge."],
    ["an encrypted room", { state: { "m.room.encryption": { algorithm: "m.megolm.v1.aes-sha2" } } }, "End-to-end encrypted rooms are not supported."],
    ["a group room", { members: [ALICE, ALF, "@bob:example.org"] }, "WebCall addresses only take part in direct chats with one person."],
    ["a room the inviter already left", { members: [ALF, "@bob:example.org"] }, "WebCall addresses only take part in direct chats with one person."],
    ["a public_chat room (m.call.invite needs 50, invited users have 0)", { state: { "m.room.power_levels": { users: { [ALICE]: 100 }, users_default: 0, events: { "m.call.invite": 50 } } } },
      expect.stringContaining("call events need power level 50")],
    ["events_default above the virtual user", { state: { "m.room.power_levels": { events_default: 10 } } }, expect.stringContaining("power level 10")],
  ])("leaves %s, saying why, and keeps no DM", async (_name, c: { address?: null; inviter?: MatrixUserId; state?: Record<string, object>; members?: string[] }, reason) => {
    const { hs, rooms, invites } = setup();
    for (const [type, content] of Object.entries(c.state ?? {})) hs.state.set(type, content);
    if (c.members) hs.setMembers(c.members);
    await invites.onInvite(ROOM, c.inviter ?? ALICE, ALF, c.address === null ? null : ADDRESS);
    expect(leaveReasons(hs)).toEqual([reason]);
    expect(await rooms.find(c.inviter ?? ALICE, ALF)).toBeUndefined();
  });

  it("tells the user in an encrypted room why it leaves", async () => {
    const { hs, invites } = setup();
    hs.state.set("m.room.encryption", { algorithm: "m.megolm.v1.aes-sha2" });
    await invites.onInvite(ROOM, ALICE, ALF, ADDRESS);
    expect(hs.called("sendEvent")).toEqual([[ALF, ROOM, "m.room.message", { msgtype: "m.notice", body: ENCRYPTED_ROOM_NOTICE }]]);
  });

  it("a refused join (the invite was withdrawn) is the homeserver's 403 for the listener to acknowledge", async () => {
    const { hs, rooms, invites } = setup();
    hs.fail("join", 403, "M_FORBIDDEN");
    await expect(invites.onInvite(ROOM, ALICE, ALF, ADDRESS)).rejects.toMatchObject({ status: 403 });
    expect(await rooms.find(ALICE, ALF)).toBeUndefined();
  });
});
