import { TestHomeserver, type CreatedUser } from "./index";
import { call, enc } from "./testUtil";

describe("test homeserver: /sync and send idempotency", () => {
  let hs: TestHomeserver;
  let alice: CreatedUser, bob: CreatedUser, carol: CreatedUser;
  const api = (u: CreatedUser, method: string, path: string, body?: unknown) => call(hs.url, method, path, u.accessToken, body);
  const sync = (u: CreatedUser, query = "") => api(u, "GET", `/sync${query}`);

  beforeAll(async () => {
    hs = await TestHomeserver.start({ serverName: "example.org" });
    alice = await hs.createUser("alice", { displayName: "Alice" });
    bob = await hs.createUser("bob");
    carol = await hs.createUser("carol");
  });
  afterAll(() => hs.stop());

  it("shows each user only their rooms, with invite_state for invites", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", { name: "Call", is_direct: true, invite: [bob.userId] })).body.room_id;
    const a = (await sync(alice)).body;
    const joined = a.rooms.join[roomId];
    expect(joined.timeline.events.map((e: any) => e.type)).toContain("m.room.create");
    expect(joined.timeline.events[0].room_id).toBeUndefined(); // sync leaves room_id out like Synapse
    expect(joined.timeline.events[0].unsigned.age).toEqual(expect.any(Number));

    const b = (await sync(bob)).body;
    expect(b.rooms.join?.[roomId]).toBeUndefined();
    const inviteState = b.rooms.invite[roomId].invite_state.events as any[];
    expect(inviteState.map((e) => e.type)).toEqual(
      expect.arrayContaining(["m.room.create", "m.room.name", "m.room.join_rules", "m.room.member"]),
    );
    expect(inviteState.find((e) => e.type === "m.room.member" && e.state_key === alice.userId)).toBeDefined();
    const own = inviteState.find((e) => e.type === "m.room.member" && e.state_key === bob.userId);
    expect(own.content).toMatchObject({ membership: "invite", is_direct: true });
    expect(own.event_id).toMatch(/^\$/);

    const c = (await sync(carol)).body;
    expect(c.rooms).toBeUndefined();
  });

  it("wakes a long poll as soon as an event arrives", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", {})).body.room_id;
    const first = (await sync(alice)).body.next_batch;
    const started = Date.now();
    const pending = sync(alice, `?since=${first}&timeout=20000`);
    await new Promise((r) => setTimeout(r, 50));
    await api(alice, "PUT", `/rooms/${enc(roomId)}/send/m.room.message/t1`, { msgtype: "m.text", body: "hello" });
    const res = (await pending).body;
    expect(Date.now() - started).toBeLessThan(2000);
    const events = res.rooms.join[roomId].timeline.events;
    expect(events.map((e: any) => e.content.body)).toEqual(["hello"]);
    expect(events[0].unsigned.transaction_id).toBe("t1");
  });

  it("returns an empty response at the timeout", async () => {
    const since = (await sync(carol)).body.next_batch;
    const res = await sync(carol, `?since=${since}&timeout=100`);
    expect(res.body.next_batch).toBe(since);
    expect(res.body.rooms).toBeUndefined();
  });

  it("makes a retried txnId return the same event and store nothing new; only the sending device sees transaction_id", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", {})).body.room_id;
    const second = await hs.loginNewDevice(alice.userId);
    const aliceDev2 = { ...alice, ...second };
    const since2 = (await sync(aliceDev2)).body.next_batch;

    const path = `/rooms/${enc(roomId)}/send/m.room.message/same-txn`;
    const one = await api(alice, "PUT", path, { msgtype: "m.text", body: "once" });
    const before = hs.timelineOf(roomId).length;
    const two = await api(alice, "PUT", path, { msgtype: "m.text", body: "once" });
    expect(two.body.event_id).toBe(one.body.event_id);
    expect(hs.timelineOf(roomId).length).toBe(before);

    // Same txnId from another device is a different transaction.
    const other = await api(aliceDev2, "PUT", path, { msgtype: "m.text", body: "dev2" });
    expect(other.body.event_id).not.toBe(one.body.event_id);

    const seen = (await sync(aliceDev2, `?since=${since2}`)).body.rooms.join[roomId].timeline.events as any[];
    expect(seen.find((e) => e.event_id === one.body.event_id).unsigned.transaction_id).toBeUndefined();
    expect(seen.find((e) => e.event_id === other.body.event_id).unsigned.transaction_id).toBe("same-txn");
  });

  it("reports left rooms, m.direct account data and limited timelines", async () => {
    const roomId = (await api(alice, "POST", "/createRoom", { preset: "public_chat" })).body.room_id;
    await api(bob, "POST", `/rooms/${enc(roomId)}/join`);
    const since = (await sync(bob)).body.next_batch;
    for (let i = 0; i < 12; i++) await api(alice, "PUT", `/rooms/${enc(roomId)}/send/m.room.message/l${i}`, { body: `m${i}` });
    await api(alice, "PUT", `/rooms/${enc(roomId)}/state/m.room.topic`, { topic: "t" });
    await api(alice, "PUT", `/rooms/${enc(roomId)}/send/m.room.message/l12`, { body: "last" });
    const limited = (await sync(bob, `?since=${since}&filter=${enc(JSON.stringify({ room: { timeline: { limit: 2 } } }))}`)).body;
    const room = limited.rooms.join[roomId];
    expect(room.timeline.limited).toBe(true);
    expect(room.timeline.events.map((e: any) => e.type)).toEqual(["m.room.topic", "m.room.message"]);

    const since2 = limited.next_batch;
    await api(bob, "PUT", `/user/${enc(bob.userId)}/account_data/m.direct`, { [alice.userId]: [roomId] });
    await api(bob, "POST", `/rooms/${enc(roomId)}/leave`);
    const after = (await sync(bob, `?since=${since2}`)).body;
    expect(after.account_data.events).toEqual([{ type: "m.direct", content: { [alice.userId]: [roomId] } }]);
    const left = after.rooms.leave[roomId].timeline.events as any[];
    expect(left[left.length - 1]).toMatchObject({ type: "m.room.member", state_key: bob.userId, content: { membership: "leave" } });
    expect(after.rooms.join?.[roomId]).toBeUndefined();
  });
});
