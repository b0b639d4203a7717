import { TestHomeserver, type CreatedUser } from "./index";
import { call, enc } from "./testUtil";

describe("test homeserver: rooms and membership rules", () => {
  let hs: TestHomeserver;
  let alice: CreatedUser, bob: CreatedUser, carol: CreatedUser;
  const api = (u: CreatedUser, method: string, path: string, body?: unknown) => call(hs.url, method, path, u.accessToken, body);

  beforeAll(async () => {
    hs = await TestHomeserver.start({ serverName: "example.org" });
    alice = await hs.createUser("alice", { displayName: "Alice" });
    bob = await hs.createUser("bob");
    carol = await hs.createUser("carol");
  });
  afterAll(() => hs.stop());

  it("creates a private room with Synapse's event sequence and refuses uninvited joins", async () => {
    const created = await api(alice, "POST", "/createRoom", { preset: "private_chat", name: "Secret" });
    expect(created.status).toBe(200);
    const roomId = created.body.room_id as string;
    const types = hs.timelineOf(roomId).map((e) => e.type);
    expect(types).toEqual([
      "m.room.create",
      "m.room.member",
      "m.room.power_levels",
      "m.room.join_rules",
      "m.room.history_visibility",
      "m.room.guest_access",
      "m.room.name",
    ]);
    const join = hs.timelineOf(roomId)[1]!;
    expect(join.content).toEqual({ membership: "join", displayname: "Alice" });

    const refused = await api(bob, "POST", `/rooms/${enc(roomId)}/join`);
    expect(refused.status).toBe(403);
    expect(refused.body.errcode).toBe("M_FORBIDDEN");

    // Only members may invite.
    const carolInvites = await api(carol, "POST", `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
    expect(carolInvites.status).toBe(403);

    expect((await api(alice, "POST", `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId })).status).toBe(200);
    expect(hs.membership(roomId, bob.userId)).toBe("invite");
    expect((await api(bob, "POST", `/rooms/${enc(roomId)}/join`)).status).toBe(200);
    expect(hs.membership(roomId, bob.userId)).toBe("join");

    // Inviting someone already joined is refused.
    expect((await api(alice, "POST", `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId })).status).toBe(403);
  });

  it("requires membership to send, and allows re-inviting a user who left", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", { invite: [bob.userId] })).body.room_id as string;
    const send = (u: CreatedUser, txn: string) => api(u, "PUT", `/rooms/${enc(roomId)}/send/m.room.message/${txn}`, { msgtype: "m.text", body: "hi" });

    expect((await send(bob, "b1")).status).toBe(403); // invited, not joined
    await api(bob, "POST", `/join/${enc(roomId)}`);
    expect((await send(bob, "b2")).status).toBe(200);
    expect((await send(carol, "c1")).body.errcode).toBe("M_FORBIDDEN");

    expect((await api(bob, "POST", `/rooms/${enc(roomId)}/leave`)).status).toBe(200);
    expect(hs.membership(roomId, bob.userId)).toBe("leave");
    expect((await send(bob, "b3")).status).toBe(403);
    expect((await api(alice, "POST", `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId })).status).toBe(200);
    expect(hs.membership(roomId, bob.userId)).toBe("invite");
  });

  it("lets anyone join a public_chat room", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", { preset: "public_chat" })).body.room_id as string;
    expect((await api(carol, "POST", `/rooms/${enc(roomId)}/join`)).status).toBe(200);
    expect(hs.timelineOf(roomId).some((e) => e.type === "m.room.guest_access")).toBe(false);
  });

  it("needs power 50 to start a call in a public_chat room, merged into the default events as Synapse does", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", { preset: "public_chat" })).body.room_id as string;
    const power = hs.timelineOf(roomId).find((e) => e.type === "m.room.power_levels")!;
    expect(power.content["events"]).toMatchObject({ "m.call.invite": 50, "m.room.power_levels": 100, "m.room.name": 50 });
    await api(carol, "POST", `/rooms/${enc(roomId)}/join`);
    const invite = await api(carol, "PUT", `/rooms/${enc(roomId)}/send/m.call.invite/t1`, { call_id: "c", party_id: "p", version: "1", lifetime: 60000, offer: { type: "offer", sdp: "v=0" } });
    expect(invite.status).toBe(403);
  });

  it("keeps is_direct on createRoom invites and puts the invitee's display name in the member event", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", { preset: "trusted_private_chat", is_direct: true, invite: [bob.userId] }))
      .body.room_id as string;
    const invite = hs.timelineOf(roomId).find((e) => e.type === "m.room.member" && e.state_key === bob.userId)!;
    expect(invite.content).toEqual({ membership: "invite", is_direct: true, displayname: "bob" });
    const power = hs.timelineOf(roomId).find((e) => e.type === "m.room.power_levels")!;
    expect((power.content["users"] as Record<string, number>)[bob.userId]).toBe(100);
    expect(power.content["invite"]).toBe(0);
  });

  it("applies power levels to kicks and state, and re-sends join events on a display name change", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", { preset: "public_chat" })).body.room_id as string;
    await api(bob, "POST", `/rooms/${enc(roomId)}/join`);
    expect((await api(bob, "POST", `/rooms/${enc(roomId)}/kick`, { user_id: alice.userId })).status).toBe(403);
    expect((await api(bob, "PUT", `/rooms/${enc(roomId)}/state/m.room.name`, { name: "x" })).status).toBe(403);
    expect((await api(alice, "PUT", `/rooms/${enc(roomId)}/state/m.room.name/`, { name: "x" })).status).toBe(200);
    const got = await api(bob, "GET", `/rooms/${enc(roomId)}/state/m.room.name/`);
    expect(got.body).toEqual({ name: "x" });

    expect((await api(bob, "PUT", `/profile/${enc(bob.userId)}/displayname`, { displayname: "Bobby" })).status).toBe(200);
    expect((await api(bob, "GET", `/rooms/${enc(roomId)}/joined_members`)).body.joined[bob.userId]).toEqual({
      display_name: "Bobby",
      avatar_url: null,
    });

    expect((await api(alice, "POST", `/rooms/${enc(roomId)}/kick`, { user_id: bob.userId, reason: "bye" })).status).toBe(200);
    expect(hs.membership(roomId, bob.userId)).toBe("leave");
    expect((await api(alice, "POST", `/rooms/${enc(roomId)}/kick`, { user_id: bob.userId })).status).toBe(403);
  });

  it("answers unknown endpoints and missing or bad tokens with Matrix errcodes", async () => {
    expect(await call(hs.url, "GET", "/nope", alice.accessToken)).toEqual({
      status: 404,
      body: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" },
    });
    expect((await call(hs.url, "GET", "/account/whoami")).body.errcode).toBe("M_MISSING_TOKEN");
    const bad = await call(hs.url, "GET", "/account/whoami", "nope");
    expect([bad.status, bad.body.errcode]).toEqual([401, "M_UNKNOWN_TOKEN"]);
    const viaQuery = await fetch(`${hs.url}/_matrix/client/v3/account/whoami?access_token=${alice.accessToken}`);
    expect(((await viaQuery.json()) as { user_id: string }).user_id).toBe(alice.userId);
    const notJson = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
      method: "POST",
      headers: { Authorization: `Bearer ${alice.accessToken}` },
      body: "{",
    });
    expect(((await notJson.json()) as { errcode: string }).errcode).toBe("M_NOT_JSON");
  });

  it("answers profile lookups of unknown users with 404 (M_UNKNOWN for the whole profile, as Synapse's storage error)", async () => {
    expect((await call(hs.url, "GET", `/profile/${enc("@ghost:example.org")}`)).body.errcode).toBe("M_UNKNOWN");
    expect((await call(hs.url, "GET", `/profile/${enc("@ghost:example.org")}/displayname`)).body.errcode).toBe("M_NOT_FOUND");
    expect((await call(hs.url, "GET", `/profile/${enc(alice.userId)}`)).body).toEqual({ displayname: "Alice" });
  });
});
