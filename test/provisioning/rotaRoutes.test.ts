/**
 * The rota routes of the provisioning API, on real Synapse with the bridge
 * running: sessions from real OpenID tokens, the rota room's membership and
 * power levels read from Synapse. mod created the room (power 100), bob and
 * carol joined it (power 0), dave is not in it.
 */
import { BridgeFixture, waitFor } from "../e2e/fixture";
import { RawMatrixUser } from "../e2e/matrixUser";
import { expectError, Reply } from "./fixture";

jest.setTimeout(90_000);
const BOT = "@webcall:example.org";

let fx: BridgeFixture;
let mod: RawMatrixUser;
let bob: RawMatrixUser;
let dave: RawMatrixUser;
let roomId: string;
const token: Record<string, string> = {};

async function call(method: string, path: string, who?: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (who !== undefined) headers.Authorization = `Bearer ${token[who]}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`http://127.0.0.1:${fx.bridge.provisioningPort}/_matrix/provision${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function session(user: RawMatrixUser): Promise<string> {
  const openId = await user.request("POST", `/_matrix/client/v3/user/${encodeURIComponent(user.userId)}/openid/request_token`, {});
  const reply = await call("POST", "/v1/exchange_openid", undefined, { openIdToken: openId.access_token, matrixServer: "example.org" });
  expect(reply.status).toBe(200);
  return reply.body.token as string;
}

beforeAll(async () => {
  fx = await BridgeFixture.start({ provisioning: { enabled: true, bind: "127.0.0.1", rateLimit: { windowMs: 60_000, max: 100_000 } } });
  mod = new RawMatrixUser(fx.hs, await fx.hs.createUser("mod"));
  bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
  const carol = new RawMatrixUser(fx.hs, await fx.hs.createUser("carol"));
  dave = new RawMatrixUser(fx.hs, await fx.hs.createUser("dave"));
  ({ room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom", { name: "Ops", preset: "private_chat", invite: [bob.userId, carol.userId] }));
  await bob.join(roomId);
  await carol.join(roomId);
  await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
  await waitFor(async () => (await fx.hs.membership(roomId, BOT)) === "join" || undefined, 15_000, "the bot in the room");
  for (const [name, user] of Object.entries({ mod, bob, dave })) token[name] = await session(user);
});

afterAll(() => fx?.stop());

const rota = (path = "") => `/v1/rotas/on-call${path}`;
const inDays = (days: number) => Date.now() + days * 86_400_000;

describe("making a rota", () => {
  test("only a moderator of a room the bot is in; bodies checked against the schema", async () => {
    expectError(await call("POST", "/v1/rotas", "bob", { roomId, name: "on-call" }), 403, "WEBCALL_ROTA_FORBIDDEN", /power level .* state_default/);
    expectError(await call("POST", "/v1/rotas", "dave", { roomId, name: "on-call" }), 404, "WEBCALL_ROTA_ROOM_UNKNOWN", /invite the bot/);
    expectError(await call("POST", "/v1/rotas", "mod", { roomId: "!nowhere:example.org", name: "on-call" }), 404, "WEBCALL_ROTA_ROOM_UNKNOWN");
    expectError(await call("POST", "/v1/rotas", "mod", { roomId, name: "-bad" }), 400, "M_AS_BAD_VALUE", /body\.name/);
    expectError(await call("POST", "/v1/rotas", "mod", { roomId }), 400, "M_AS_BAD_VALUE", /body\.name is missing/);
    expectError(await call("POST", "/v1/rotas", "mod", { roomId, name: "mod" }), 400, "M_AS_BAD_VALUE", /a user of this homeserver has that name/);
    expectError(await call("POST", "/v1/rotas", undefined, { roomId, name: "on-call" }), 401, "M_AS_BAD_TOKEN");
  });

  test("the moderator makes the room the rota on-call@example.org", async () => {
    const created = await call("POST", "/v1/rotas", "mod", { roomId, name: "On-Call" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "on-call", address: "on-call@example.org", roomId, version: 1, canEdit: true, members: null,
      rotationOrder: ["@mod:example.org", "@bob:example.org", "@carol:example.org"],
      rotation: { every: "day", time: "09:00" }, escalation: { mode: "sequence", stepMs: 30_000, thenAll: true },
      overrides: [], rules: { rules: [], defaultAction: null },
    });
    expect(created.body.onCall.member).toMatch(/^@(mod|bob|carol):example\.org$/);
    expect(created.body.shifts).toHaveLength(5);
    expectError(await call("POST", "/v1/rotas", "mod", { roomId, name: "other" }), 400, "M_AS_BAD_VALUE", /already the rota on-call@example\.org/);
  });
});

describe("reading", () => {
  test("the list shows the rotas of the user's rooms, and whether they may change them", async () => {
    expect((await call("GET", "/v1/rotas", "mod")).body).toEqual({ rotas: [{ name: "on-call", address: "on-call@example.org", roomId, canEdit: true }] });
    expect((await call("GET", "/v1/rotas", "bob")).body).toEqual({ rotas: [{ name: "on-call", address: "on-call@example.org", roomId, canEdit: false }] });
    expect((await call("GET", "/v1/rotas", "dave")).body).toEqual({ rotas: [] });
  });

  test("anyone joined may read a rota; to anyone else it does not exist", async () => {
    const read = await call("GET", `${rota()}?shifts=12`, "bob");
    expect(read).toMatchObject({ status: 200, body: { name: "on-call", canEdit: false } });
    expect(read.body.shifts).toHaveLength(12);
    const hidden = await call("GET", rota(), "dave");
    const missing = await call("GET", "/v1/rotas/no-such-rota", "dave");
    expectError(hidden, 404, "WEBCALL_ROTA_NOT_FOUND");
    expect(hidden.body).toEqual(missing.body);
    expectError(await call("GET", `${rota()}?shifts=51`, "bob"), 400, "M_AS_BAD_VALUE", /shifts must be at most 50/);
    expectError(await call("GET", `${rota()}?shifts=x`, "bob"), 400, "M_AS_BAD_VALUE", /shifts must be a whole number/);
  });
});

describe("changing", () => {
  test("a member who is not a moderator is refused with 403, whatever the edit", async () => {
    const edits: [string, string, object?][] = [
      ["PUT", rota("/members"), { members: ["me"] }],
      ["PUT", rota("/rotation"), { every: "day", time: "08:00" }],
      ["POST", rota("/overrides"), { member: "me", until: inDays(1) }],
      ["PUT", rota("/escalation"), { mode: "all" }],
      ["POST", rota("/rules"), { rule: { action: "refuse", anonymous: true } }],
      ["PUT", rota("/rules/default"), { defaultAction: "refuse" }],
      ["POST", rota("/calendar/reset")],
      ["DELETE", rota()],
    ];
    for (const [method, path, body] of edits) {
      expectError(await call(method, path, "bob", body), 403, "WEBCALL_ROTA_FORBIDDEN", /state_default/);
      expectError(await call(method, path, "dave", body), 404, "WEBCALL_ROTA_NOT_FOUND");
    }
    expect((await call("GET", rota(), "mod")).body.version).toBe(1);
  });

  test("members: the commands' own words (me, local addresses, remote addresses), checked", async () => {
    const set = await call("PUT", rota("/members"), "mod", { members: ["@bob:example.org", "me", "carol@example.org", "alf@employer.com"], version: 1 });
    expect(set.body).toMatchObject({ version: 2, members: ["@bob:example.org", "@mod:example.org", "@carol:example.org", "alf@employer.com"] });
    expectError(await call("PUT", rota("/members"), "mod", { members: ["@bob:example.org"], version: 1 }), 409, "WEBCALL_ROTA_CONFLICT", /reload/);
    expectError(await call("PUT", rota("/members"), "mod", { members: ["me", "@mod:example.org"] }), 400, "M_AS_BAD_VALUE", /body\.members\[1\] names a member twice/);
    expectError(await call("PUT", rota("/members"), "mod", { members: ["@zed:elsewhere.org"] }), 400, "M_AS_BAD_VALUE", /body\.members\[0\]: .*WebCall address/);
    expectError(await call("PUT", rota("/members"), "mod", { members: ["two words"] }), 400, "M_AS_BAD_VALUE", /body\.members\[0\]/);
    expectError(await call("PUT", rota("/members"), "mod", { members: [] }), 400, "M_AS_BAD_VALUE", /body\.members/);
    expect((await call("GET", rota(), "bob")).body.version).toBe(2);
  });

  test("rotation: weekly or daily, in a real zone", async () => {
    const weekly = await call("PUT", rota("/rotation"), "mod", { every: "week", weekday: "mon", time: "09:00", zone: "europe/london" });
    expect(weekly.body).toMatchObject({ version: 3, rotation: { every: "week", weekday: "mon", time: "09:00", zone: "Europe/London" } });
    expect(new Date(weekly.body.anchor).getUTCDay()).toBe(1);
    expectError(await call("PUT", rota("/rotation"), "mod", { every: "week", time: "09:00" }), 400, "M_AS_BAD_VALUE", /body\.weekday is missing/);
    expectError(await call("PUT", rota("/rotation"), "mod", { every: "day", weekday: "mon", time: "09:00" }), 400, "M_AS_BAD_VALUE", /weekly rotation only/);
    expectError(await call("PUT", rota("/rotation"), "mod", { every: "day", time: "25:00" }), 400, "M_AS_BAD_VALUE", /body\.time/);
    expectError(await call("PUT", rota("/rotation"), "mod", { every: "day", time: "09:00", zone: "Mars/Olympus" }), 400, "M_AS_BAD_VALUE", /not an IANA time zone/);
  });

  test("overrides: a cover beats the rotation, and is taken back by number", async () => {
    const covered = await call("POST", rota("/overrides"), "mod", { member: "alf@employer.com", until: inDays(1) });
    expect(covered.body.overrides).toEqual([{ id: 1, member: "alf@employer.com", from: expect.any(Number), until: expect.any(Number) }]);
    expect(covered.body.onCall).toMatchObject({ member: "alf@employer.com", overrideId: 1 });
    expectError(await call("POST", rota("/overrides"), "mod", { member: "me", from: inDays(2), until: inDays(1) }), 400, "M_AS_BAD_VALUE", /end after it starts/);
    expectError(await call("POST", rota("/overrides"), "mod", { member: "me", until: inDays(400) }), 400, "M_AS_BAD_VALUE", /at most a year/);
    expectError(await call("DELETE", rota("/overrides/9"), "mod"), 400, "M_AS_BAD_VALUE", /There is no cover 9: the covers are 1/);
    const uncovered = await call("DELETE", rota("/overrides/1"), "mod");
    expect(uncovered.body.overrides).toEqual([]);
    expect(uncovered.body.onCall.overrideId).toBeUndefined();
  });

  test("escalation: in turn with a step, then all, or all at once", async () => {
    expect((await call("PUT", rota("/escalation"), "mod", { mode: "sequence", stepMs: 20_000 })).body.escalation).toEqual({ mode: "sequence", stepMs: 20_000, thenAll: false });
    expect((await call("PUT", rota("/escalation"), "mod", { mode: "all" })).body.escalation).toEqual({ mode: "all" });
    expectError(await call("PUT", rota("/escalation"), "mod", { mode: "sequence", stepMs: 1000 }), 400, "M_AS_BAD_VALUE", /body\.stepMs must be at least 5000/);
    expectError(await call("PUT", rota("/escalation"), "mod", { mode: "sequence" }), 400, "M_AS_BAD_VALUE", /body\.stepMs is missing/);
    expectError(await call("PUT", rota("/escalation"), "mod", { mode: "all", stepMs: 30_000 }), 400, "M_AS_BAD_VALUE", /sequence" only/);
  });

  test("rules: the users' rule language, for callers of the rota", async () => {
    await call("POST", rota("/rules"), "mod", { rule: { action: "refuse", anonymous: true } });
    const added = await call("POST", rota("/rules"), "mod", { rule: { action: "ring", caller: "*@customer.com" }, position: 1 });
    expect(added.body.rules.rules).toEqual([{ action: "ring", caller: "*@customer.com" }, { action: "refuse", anonymous: true }]);
    const moved = await call("POST", rota("/rules/move"), "mod", { from: 2, to: 1 });
    expect(moved.body.rules.rules[0]).toEqual({ action: "refuse", anonymous: true });
    expect((await call("PUT", rota("/rules/default"), "mod", { defaultAction: "ring_verified" })).body.rules.defaultAction).toBe("ring_verified");
    expect((await call("DELETE", rota("/rules/2"), "mod")).body.rules.rules).toEqual([{ action: "refuse", anonymous: true }]);
    expectError(await call("DELETE", rota("/rules/5"), "mod"), 400, "M_AS_BAD_VALUE", /no rule 5/);
    expectError(await call("POST", rota("/rules"), "mod", { rule: { action: "forward" } }), 400, "M_AS_BAD_VALUE", /body\.rule\.forwardTo is needed/);
  });

  test("a member made a moderator may change the rota at once", async () => {
    const levels = await mod.request("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`);
    await mod.request("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`, { ...levels, users: { ...levels.users, [bob.userId]: 50 } });
    expect((await call("PUT", rota("/escalation"), "bob", { mode: "sequence", stepMs: 30_000, thenAll: true })).status).toBe(200);
    expect((await call("GET", "/v1/rotas", "bob")).body.rotas[0].canEdit).toBe(true);
  });
});

describe("the calendar feed's URL", () => {
  test("any member gets it; a moderator resets it and the old one stops working", async () => {
    const first = await call("GET", rota("/calendar"), "bob");
    expect(first.body.url).toMatch(new RegExp(`^${fx.webcallUrl}/calendar/on-call/[A-Za-z0-9_-]{43}\\.ics$`));
    expect((await call("GET", rota("/calendar"), "mod")).body.url).toBe(first.body.url);
    expectError(await call("GET", rota("/calendar"), "dave"), 404, "WEBCALL_ROTA_NOT_FOUND");
    const feed = await fetch(first.body.url);
    expect(feed.status).toBe(200);
    expect(feed.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    const reset = await call("POST", rota("/calendar/reset"), "mod");
    expect(reset.body.url).not.toBe(first.body.url);
    expect((await fetch(first.body.url)).status).toBe(404);
    expect((await fetch(reset.body.url)).status).toBe(200);
  });
});

describe("numbers at their bounds: accepted, or a 4xx with an errcode, never a 5xx", () => {
  const VALUES = ["0", "-1", "-0", "1", "2147483647", "2147483648", "9007199254740991", "9007199254740992", `1${"0".repeat(309)}`, "1e309", "1.5"];
  const send = async (method: string, path: string, raw: string, body?: object): Promise<Reply> => {
    const res = await fetch(`http://127.0.0.1:${fx.bridge.provisioningPort}/_matrix/provision${path}`, {
      method, headers: { Authorization: `Bearer ${token.mod}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body).replace('"@N"', raw) : undefined,
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };
  const check = (label: string, reply: Reply) => {
    expect({ label, status: reply.status < 500, errcode: reply.status < 400 || typeof reply.body?.errcode === "string" }).toEqual({ label, status: true, errcode: true });
  };

  test("every number in a body, a path or a query", async () => {
    for (const raw of VALUES) {
      const path = encodeURIComponent(raw);
      check(`version ${raw}`, await send("PUT", rota("/escalation"), raw, { mode: "all", version: "@N" }));
      check(`stepMs ${raw}`, await send("PUT", rota("/escalation"), raw, { mode: "sequence", stepMs: "@N" }));
      check(`from ${raw}`, await send("POST", rota("/overrides"), raw, { member: "me", from: "@N", until: inDays(1) }));
      check(`until ${raw}`, await send("POST", rota("/overrides"), raw, { member: "me", until: "@N" }));
      check(`position ${raw}`, await send("POST", rota("/rules"), raw, { rule: { action: "ring", caller: "*@x.example" }, position: "@N" }));
      check(`move ${raw}`, await send("POST", rota("/rules/move"), raw, { from: "@N", to: 1 }));
      check(`shifts ${raw}`, await send("GET", `${rota()}?shifts=${path}`, raw));
      check(`cover id ${raw}`, await send("DELETE", `${rota("/overrides")}/${path}`, raw));
      check(`rule n ${raw}`, await send("DELETE", `${rota("/rules")}/${path}?version=999999`, raw));
      check(`delete version ${raw}`, await send("DELETE", `${rota()}?version=${path}`, raw));
    }
    expect((await call("GET", rota(), "mod")).status).toBe(200);
  });
});

describe("deleting", () => {
  test("only the version read, by a moderator; then it is gone", async () => {
    const { version } = (await call("GET", rota(), "mod")).body;
    expectError(await call("DELETE", `${rota()}?version=${version - 1}`, "mod"), 409, "WEBCALL_ROTA_CONFLICT");
    expectError(await call("DELETE", `${rota()}?version=x`, "mod"), 400, "M_AS_BAD_VALUE", /version must be a whole number/);
    expect(await call("DELETE", `${rota()}?version=${version}`, "mod")).toMatchObject({ status: 200, body: { deleted: "on-call" } });
    expectError(await call("GET", rota(), "mod"), 404, "WEBCALL_ROTA_NOT_FOUND");
    expect((await call("GET", "/v1/rotas", "mod")).body).toEqual({ rotas: [] });
  });
});
