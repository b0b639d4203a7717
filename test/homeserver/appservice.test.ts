import { TestHomeserver, type AppserviceRegistrationLike, type CreatedUser } from "./index";
import { FakeAppservice, call, enc } from "./testUtil";

const registration = (url: string | null, id = "webcall"): AppserviceRegistrationLike => ({
  id,
  url,
  as_token: `as-token-${id}`,
  hs_token: `hs-token-${id}`,
  sender_localpart: `${id}bot`,
  namespaces: { users: [{ exclusive: true, regex: "@webcall_.*:example\\.org" }] },
});

describe("test homeserver: appservice API", () => {
  let hs: TestHomeserver;
  let fake: FakeAppservice;
  let alice: CreatedUser;
  const reg = () => registration(fake.url);
  const asCall = (method: string, path: string, body?: unknown, userId?: string) =>
    call(hs.url, method, userId ? `${path}${path.includes("?") ? "&" : "?"}user_id=${enc(userId)}` : path, reg().as_token, body);

  beforeAll(async () => {
    fake = await FakeAppservice.start();
    hs = await TestHomeserver.start({ serverName: "example.org" });
    hs.registerAppservice(reg());
    alice = await hs.createUser("alice");
  });
  afterAll(async () => {
    await hs.stop();
    await fake.stop();
  });

  it("registers namespace users and refuses others or repeats like Synapse", async () => {
    const ok = await asCall("POST", "/register", { type: "m.login.application_service", username: "webcall_alf=40employer.com", inhibit_login: true });
    expect(ok.body).toEqual({ user_id: "@webcall_alf=40employer.com:example.org", home_server: "example.org" });
    const again = await asCall("POST", "/register", { type: "m.login.application_service", username: "webcall_alf=40employer.com" });
    expect([again.status, again.body.errcode]).toEqual([400, "M_USER_IN_USE"]);
    const outside = await asCall("POST", "/register", { type: "m.login.application_service", username: "mallory" });
    expect([outside.status, outside.body.errcode]).toEqual([400, "M_EXCLUSIVE"]);
    const botAgain = await asCall("POST", "/register", { type: "m.login.application_service", username: "webcallbot" });
    expect(botAgain.body.errcode).toBe("M_USER_IN_USE"); // the sender user exists implicitly
    const noType = await call(hs.url, "POST", "/register", undefined, { username: "x", password: "y" });
    expect(noType.status).toBe(403);
  });

  it("masquerades only as registered namespace users", async () => {
    expect((await asCall("GET", "/account/whoami")).body.user_id).toBe("@webcallbot:example.org");
    expect((await asCall("GET", "/account/whoami", undefined, "@webcall_alf=40employer.com:example.org")).body).toEqual({
      user_id: "@webcall_alf=40employer.com:example.org",
      is_guest: false,
    });
    const unregistered = await asCall("GET", "/account/whoami", undefined, "@webcall_nobody:example.org");
    expect([unregistered.status, unregistered.body.errcode]).toEqual([403, "M_FORBIDDEN"]);
    expect(unregistered.body.error).toContain("has not registered this user");
    expect((await asCall("GET", "/account/whoami", undefined, alice.userId)).status).toBe(403);
    expect((await call(hs.url, "GET", `/profile/${enc("@webcall_nobody:example.org")}`)).status).toBe(404);
    expect((await call(hs.url, "GET", `/profile/${enc("@webcall_alf=40employer.com:example.org")}`)).body).toEqual({
      displayname: "webcall_alf=40employer.com",
    });
  });

  it("pushes interesting events in order with Bearer hs_token, and nothing from unrelated rooms", async () => {
    const virtual = "@webcall_bob=40other.net:example.org";
    await asCall("POST", "/register", { type: "m.login.application_service", username: "webcall_bob=40other.net" });
    const unrelated = (await call(hs.url, "POST", "/createRoom", alice.accessToken, {})).body.room_id;
    await call(hs.url, "PUT", `/rooms/${enc(unrelated)}/send/m.room.message/u1`, alice.accessToken, { body: "private" });

    const roomId = (await call(hs.url, "POST", "/createRoom", alice.accessToken, { is_direct: true, invite: [virtual] })).body.room_id;
    await fake.until(() => fake.pushedEvents((e) => e.state_key === virtual).length > 0);
    const invite = fake.pushedEvents((e) => e.state_key === virtual)[0];
    expect(invite).toMatchObject({ room_id: roomId, content: { membership: "invite", is_direct: true } });
    expect(invite.unsigned.invite_room_state).toEqual(expect.arrayContaining([expect.objectContaining({ type: "m.room.create" })]));
    const txn = fake.transactions[0]!;
    expect(txn.method).toBe("PUT");
    expect(txn.url).toMatch(/^\/_matrix\/app\/v1\/transactions\/\d+$/);
    expect(txn.headers.authorization).toBe("Bearer hs-token-webcall");

    // Before the virtual user joins, room messages are not of interest (Synapse counts joined members only).
    await call(hs.url, "PUT", `/rooms/${enc(roomId)}/send/m.room.message/m0`, alice.accessToken, { body: "early" });
    expect((await asCall("POST", `/rooms/${enc(roomId)}/join`, {}, virtual)).status).toBe(200);
    await call(hs.url, "PUT", `/rooms/${enc(roomId)}/send/m.room.message/m1`, alice.accessToken, { body: "one" });
    await call(hs.url, "PUT", `/rooms/${enc(roomId)}/send/m.room.message/m2`, alice.accessToken, { body: "two" });
    await fake.until(() => fake.pushedEvents((e) => e.content?.body === "two").length > 0);
    const bodies = fake.pushedEvents((e) => e.type === "m.room.message").map((e) => e.content.body);
    expect(bodies).toEqual(["one", "two"]);
    expect(fake.pushedEvents((e) => e.room_id === unrelated)).toEqual([]);
    const ids = fake.transactions.map((t) => Number(t.url.split("/").pop()));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const msg = fake.pushedEvents((e) => e.content?.body === "one")[0];
    expect(msg).toMatchObject({ sender: alice.userId, user_id: alice.userId, unsigned: { age: expect.any(Number) } });
  });

  it("retries the same txnId with the same events after a 500", async () => {
    const roomId = (await asCall("POST", "/createRoom", {})).body.room_id;
    fake.txnStatuses.push(500, 500);
    const before = fake.transactions.length;
    await asCall("PUT", `/rooms/${enc(roomId)}/send/m.room.message/r1`, { body: "retry me" });
    await fake.until(() => fake.transactions.length >= before + 3);
    const attempts = fake.transactions.slice(before, before + 3);
    const ids = attempts.map((t) => t.url);
    expect(new Set(ids).size).toBe(1);
    const eventIds = attempts.map((t) => t.body.events.map((e: any) => e.event_id).join(","));
    expect(new Set(eventIds).size).toBe(1);
  });

  it("holds pushes while the appservice is down and delivers them on recovery", async () => {
    const roomId = (await asCall("POST", "/createRoom", {})).body.room_id;
    hs.appserviceDown(true);
    await asCall("PUT", `/rooms/${enc(roomId)}/send/m.room.message/d1`, { body: "while down" });
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.pushedEvents((e) => e.content?.body === "while down")).toEqual([]);
    hs.appserviceDown(false);
    await fake.until(() => fake.pushedEvents((e) => e.content?.body === "while down").length === 1);
  });

  it("pings the appservice", async () => {
    const res = await asCall("POST", "/_matrix/client/v1/appservice/webcall/ping", { transaction_id: "ping-1" });
    expect(res.status).toBe(200);
    expect(res.body.duration_ms).toEqual(expect.any(Number));
    const ping = fake.received.find((r) => r.url === "/_matrix/app/v1/ping")!;
    expect(ping.body).toEqual({ transaction_id: "ping-1" });
    expect(ping.headers.authorization).toBe("Bearer hs-token-webcall");
    expect((await asCall("POST", "/_matrix/client/v1/appservice/other/ping", {})).status).toBe(403);

    hs.registerAppservice(registration(null, "nourl"));
    const noUrl = await call(hs.url, "POST", "/_matrix/client/v1/appservice/nourl/ping", "as-token-nourl", {});
    expect([noUrl.status, noUrl.body.errcode]).toEqual([400, "M_URL_NOT_SET"]);
  });
});

describe("test homeserver: legacy access_token pushes", () => {
  it("sends ?access_token= and no Authorization header", async () => {
    const fake = await FakeAppservice.start();
    const hs = await TestHomeserver.start({ serverName: "example.org", legacyAccessTokenPush: true });
    try {
      const reg = registration(fake.url);
      hs.registerAppservice(reg);
      const roomId = (await call(hs.url, "POST", "/createRoom", reg.as_token, {})).body.room_id;
      await fake.until(() => fake.pushedEvents((e) => e.room_id === roomId).length > 0);
      const txn = fake.transactions[0]!;
      expect(txn.url).toMatch(/^\/_matrix\/app\/v1\/transactions\/1\?access_token=hs-token-webcall$/);
      expect(txn.headers.authorization).toBeUndefined();
    } finally {
      await hs.stop();
      await fake.stop();
    }
  });
});
