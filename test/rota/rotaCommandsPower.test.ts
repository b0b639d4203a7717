import { MatrixUserId } from "../../src/ids/matrix";
import { joinedInJoinOrder, roomPower } from "../../src/bot/roomPower";

const id = (s: string) => s as MatrixUserId;
const create = (version: string, sender = "@owner:example.org", extra: object = {}) =>
  ({ type: "m.room.create", state_key: "", sender, content: { room_version: version, ...extra } });
const levels = (content: object) => ({ type: "m.room.power_levels", state_key: "", sender: "@owner:example.org", content });
const member = (userId: string, membership: string, ts: number) =>
  ({ type: "m.room.member", state_key: userId, sender: userId, origin_server_ts: ts, content: { membership } });

describe("who may change a rota: power level ≥ the room's state_default", () => {
  test("a moderator may, a member may not, as the power levels say", () => {
    const power = roomPower([create("10"), levels({ users: { "@owner:example.org": 100, "@mod:example.org": 50 }, state_default: 50 })]);
    expect(power.stateDefault).toBe(50);
    expect(power.of(id("@mod:example.org"))).toBe(50);
    expect(power.of(id("@member:example.org"))).toBe(0);
  });

  test("users_default and a lowered state_default count; a missing state_default is 50", () => {
    const open = roomPower([create("10"), levels({ users_default: 10, state_default: 10 })]);
    expect(open.of(id("@anyone:example.org")) >= open.stateDefault).toBe(true);
    const plain = roomPower([create("10"), levels({ users: {} })]);
    expect(plain.stateDefault).toBe(50);
  });

  test("no power levels at all: the creator has 100, anyone else 0, and state_default is 0", () => {
    const power = roomPower([create("10")]);
    expect(power.stateDefault).toBe(0);
    expect(power.of(id("@owner:example.org"))).toBe(100);
    expect(power.of(id("@member:example.org"))).toBe(0);
  });

  test("room version 12: the creators outrank everyone without being in users", () => {
    const power = roomPower([create("12", "@owner:example.org", { additional_creators: ["@co:example.org"] }), levels({ users: {}, state_default: 50 })]);
    expect(power.of(id("@owner:example.org"))).toBe(Infinity);
    expect(power.of(id("@co:example.org"))).toBe(Infinity);
    expect(power.of(id("@member:example.org"))).toBe(0);
    // Before version 12 additional_creators means nothing.
    expect(roomPower([create("11", "@owner:example.org", { additional_creators: ["@co:example.org"] }), levels({})]).of(id("@co:example.org"))).toBe(0);
  });
});

describe("the room's members in join order", () => {
  test("joined only, oldest join first, the bridge's own users left out", () => {
    const state = [
      member("@carol:example.org", "join", 300), member("@alice:example.org", "join", 100), member("@left:example.org", "leave", 50),
      member("@webcall:example.org", "join", 150), member("@bob:example.org", "join", 200), member("@invited:example.org", "invite", 10),
    ];
    expect(joinedInJoinOrder(state, (u) => u === "@webcall:example.org")).toEqual(["@alice:example.org", "@bob:example.org", "@carol:example.org"]);
  });
});
