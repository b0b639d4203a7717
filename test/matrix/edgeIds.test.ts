import { tryParseCallId, tryParsePartyId } from "../../src/ids/call";
import { tryParseEventId, tryParseRoomId, tryParseUserIdAsSent } from "../../src/ids/matrix";

describe("ids as the homeserver pushes them", () => {
  it.each([
    ["!dmRoomOpaqueId:example.org", true], ["!x8TpnMrGyb1hQ0gKuKYe0oMxY4JxU1dM0iVwCeR9K3M", true], ["!a:[::1]:8448", true],
    ["#alias:example.org", false], ["!", false], ["!with space:x", false], [`!${"r".repeat(255)}`, false], [42, false],
  ])("room id %p: %p", (input, ok) => {
    expect(tryParseRoomId(input) !== undefined).toBe(ok);
  });

  it.each([
    ["$AbC-_123", true], ["$abc:example.org", true], ["abc", false], ["$", false], ["$a\nb", false], [`$${"e".repeat(255)}`, false],
  ])("event id %p: %p", (input, ok) => {
    expect(tryParseEventId(input) !== undefined).toBe(ok);
  });

  it.each([
    ["@alice:example.org", true], ["@Alice.Old:example.org", true], ["@a:example.org:8448", true], ["@webcall_alf=40employer.com:example.org", true],
    ["alice:example.org", false], ["@alice", false], ["@al ice:example.org", false], ["@al:ice:example.org", true], [`@${"a".repeat(250)}:example.org`, false],
  ])("user id %p: %p", (input, ok) => {
    expect(tryParseUserIdAsSent(input) !== undefined).toBe(ok);
  });

  it.each([
    ["1764629000123AbCdEfGhIjKlMnOp", true], ["c", true], ["{8d4a1f1e-3c6b-4d1f-9a3e-0c1b2d3e4f5a}", true], ["c".repeat(255), true],
    ["", false], ["c".repeat(256), false], ["a\u0000b", false], ["a\tb", false], [7, false],
  ])("call_id and party_id %p: %p", (input, ok) => {
    expect(tryParseCallId(input) !== undefined).toBe(ok);
    expect(tryParsePartyId(input) !== undefined).toBe(ok);
  });
});
