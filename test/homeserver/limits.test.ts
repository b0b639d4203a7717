/**
 * Limits and profile answers as Synapse 1.163 gives them on the bridge's
 * paths (event_auth.py `_check_size_limits`, rest/client/register.py,
 * handlers/profile.py), each checked against a real Synapse first.
 */
import { TestHomeserver, type AppserviceRegistrationLike } from "./index";
import { call, enc } from "./testUtil";

const registration: AppserviceRegistrationLike = {
  id: "webcall", url: null, as_token: "as-token-limits", hs_token: "hs-token-limits", sender_localpart: "webcallbot",
  namespaces: { users: [{ exclusive: true, regex: "@webcall_.*:example\\.org" }] },
};
const ME = "@webcall_x:example.org";
/** A localpart whose user id (@…:example.org) has `length` characters. */
const localpartFor = (length: number): string => `webcall_${"a".repeat(length - "@webcall_:example.org".length)}`;

describe("test homeserver: Synapse's limits and profile answers", () => {
  let hs: TestHomeserver;
  let roomId: string;
  let txn = 0;
  const as = (method: string, path: string, body?: unknown, userId = ME) =>
    call(hs.url, method, `${path}${path.includes("?") ? "&" : "?"}user_id=${enc(userId)}`, registration.as_token, body);
  const register = (username: string) => as("POST", "/register", { type: "m.login.application_service", username, inhibit_login: true }, undefined);
  const send = (content: object, type = "m.call.candidates") => as("PUT", `/rooms/${enc(roomId)}/send/${enc(type)}/t${++txn}`, content);

  beforeAll(async () => {
    hs = await TestHomeserver.start({ serverName: "example.org" });
    hs.registerAppservice(registration);
    expect((await register("webcall_x")).status).toBe(200);
    roomId = (await as("POST", "/createRoom", { preset: "trusted_private_chat" })).body.room_id;
  });
  afterAll(async () => { await hs.stop(); });

  describe("events over 65,536 bytes of PDU are 413 M_TOO_LARGE", () => {
    it("accepts content well under the limit and refuses content that takes the PDU over it", async () => {
      expect((await send({ pad: "x".repeat(64_000) })).status).toBe(200);
      const big = await send({ pad: "x".repeat(65_536 - 10) }); // the content alone is 65,536 bytes
      expect([big.status, big.body]).toEqual([413, { errcode: "M_TOO_LARGE", error: "event too large" }]);
    });

    it("counts JSON escapes and UTF-8 bytes, not characters", async () => {
      const escaped = await send({ pad: "\u0001".repeat(11_000) }); // 66,000 bytes escaped, 11,000 characters
      expect([escaped.status, escaped.body.errcode]).toEqual([413, "M_TOO_LARGE"]);
      const utf8 = await send({ pad: "é".repeat(33_000) }); // 66,000 bytes in UTF-8
      expect([utf8.status, utf8.body.errcode]).toEqual([413, "M_TOO_LARGE"]);
    });

    it("refuses state events and membership events the same way", async () => {
      const topic = await as("PUT", `/rooms/${enc(roomId)}/state/m.room.topic/`, { topic: "x".repeat(70_000) });
      expect([topic.status, topic.body]).toEqual([413, { errcode: "M_TOO_LARGE", error: "event too large" }]);
      const join = await as("PUT", `/rooms/${enc(roomId)}/state/m.room.member/${enc(ME)}`, { membership: "join", "x.pad": "x".repeat(70_000) });
      expect([join.status, join.body.errcode]).toEqual([413, "M_TOO_LARGE"]);
    });

    it("refuses a display name over 256 characters before any size check, as Synapse does", async () => {
      const member = await as("PUT", `/rooms/${enc(roomId)}/state/m.room.member/${enc(ME)}`, { membership: "join", displayname: "é".repeat(257) });
      expect([member.status, member.body]).toEqual([400, { errcode: "M_BAD_JSON", error: "Displayname is too long (max 256)" }]);
      const profile = await as("PUT", `/profile/${enc(ME)}/displayname`, { displayname: "x".repeat(257) });
      expect([profile.status, profile.body]).toEqual([400, { errcode: "M_UNKNOWN", error: "Displayname is too long (max 256)" }]);
      expect((await as("PUT", `/profile/${enc(ME)}/displayname`, { displayname: "é".repeat(256) })).status).toBe(200);
    });

    it("refuses a type or state key over 255 characters", async () => {
      const type = await send({ a: 1 }, "t".repeat(256));
      expect([type.status, type.body]).toEqual([413, { errcode: "M_TOO_LARGE", error: "'type' too large" }]);
      const stateKey = await as("PUT", `/rooms/${enc(roomId)}/state/m.x/${"k".repeat(256)}`, { a: 1 });
      expect([stateKey.status, stateKey.body]).toEqual([413, { errcode: "M_TOO_LARGE", error: "'state_key' too large" }]);
    });
  });

  describe("user ids over 255 characters", () => {
    it("an appservice registers them, as Synapse lets it (no length check on that path)", async () => {
      for (const length of [255, 256]) {
        const res = await register(localpartFor(length));
        expect([res.status, res.body.user_id?.length]).toEqual([200, length]);
      }
    });

    it("their events are 413: an invite is 'state_key' too large, their own events 'sender' too large", async () => {
      const longId = `@${localpartFor(256)}:example.org`;
      const invite = await as("POST", `/rooms/${enc(roomId)}/invite`, { user_id: longId });
      expect([invite.status, invite.body]).toEqual([413, { errcode: "M_TOO_LARGE", error: "'state_key' too large" }]);
      const created = await as("POST", "/createRoom", {}, longId);
      expect([created.status, created.body]).toEqual([413, { errcode: "M_TOO_LARGE", error: "'sender' too large" }]);
      const exact = await as("POST", `/rooms/${enc(roomId)}/invite`, { user_id: `@${localpartFor(255)}:example.org` });
      expect(exact.status).toBe(200);
    });

    it("a username over 512 characters is 400 M_UNKNOWN", async () => {
      const res = await register(`webcall_${"c".repeat(600)}`);
      expect([res.status, res.body]).toEqual([400, { errcode: "M_UNKNOWN", error: "Invalid username" }]);
    });
  });

  describe("GET /profile", () => {
    it("a user with neither display name nor avatar: the profile is 404 M_NOT_FOUND, the field 200 {}", async () => {
      expect((await as("PUT", `/profile/${enc(ME)}/displayname`, { displayname: "" })).status).toBe(200);
      const profile = await call(hs.url, "GET", `/profile/${enc(ME)}`);
      expect([profile.status, profile.body]).toEqual([404, { errcode: "M_NOT_FOUND", error: "Profile was not found" }]);
      const field = await call(hs.url, "GET", `/profile/${enc(ME)}/displayname`);
      expect([field.status, field.body]).toEqual([200, {}]);
      await as("PUT", `/profile/${enc(ME)}/displayname`, { displayname: "X" });
      expect((await call(hs.url, "GET", `/profile/${enc(ME)}`)).body).toEqual({ displayname: "X" });
    });

    it("an unknown local user: the profile is 404 M_UNKNOWN (Synapse's storage error), the field 404 M_NOT_FOUND", async () => {
      const profile = await call(hs.url, "GET", `/profile/${enc("@nobody:example.org")}`);
      expect([profile.status, profile.body]).toEqual([404, { errcode: "M_UNKNOWN", error: "No row found (profiles)" }]);
      const field = await call(hs.url, "GET", `/profile/${enc("@nobody:example.org")}/displayname`);
      expect([field.status, field.body]).toEqual([404, { errcode: "M_NOT_FOUND", error: "Profile was not found" }]);
    });

    it("a malformed user id is 400 M_INVALID_PARAM", async () => {
      for (const path of ["/profile/notanid", "/profile/notanid/displayname"]) {
        const res = await call(hs.url, "GET", path);
        expect([res.status, res.body]).toEqual([400, { errcode: "M_INVALID_PARAM", error: "Invalid user id" }]);
      }
    });
  });
});
