/**
 * A rota edited over the provisioning API and read as a calendar, on real
 * Synapse: the moderator sets the rota up over HTTP and the room's `rota …`
 * commands see it at once (one RotaService, one store); a member who is not
 * a moderator is refused with 403 WEBCALL_ROTA_FORBIDDEN; `rota calendar`
 * gives the feed's URL in the room, the public WebCall listener serves it as
 * RFC 5545 (read back by ical.js), and `rota calendar reset` kills the old URL.
 */
import ICAL from "ical.js";
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";

jest.setTimeout(120_000);
const BOT = "@webcall:example.org";

describe("a rota over the provisioning API, and its calendar", () => {
  let fx: BridgeFixture;
  let mod: RawMatrixUser;
  let bob: RawMatrixUser;
  let roomId: string;
  const tokens = new Map<RawMatrixUser, string>();

  const api = async (method: string, path: string, who: RawMatrixUser, body?: object) => {
    const res = await fetch(`http://127.0.0.1:${fx.bridge.provisioningPort}/_matrix/provision${path}`, {
      method, headers: { Authorization: `Bearer ${tokens.get(who)}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() as any };
  };

  const botMessages = async () => (await fx.hs.timeline(roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");
  const say = async (from: RawMatrixUser, text: string): Promise<string> => {
    const seen = (await botMessages()).length;
    await from.send(roomId, "m.room.message", { msgtype: "m.text", body: text });
    return (await waitFor(async () => (await botMessages())[seen], 10_000, `the bot's reply to ${text}`)).content.body as string;
  };
  const urlIn = (text: string): string => /(http:\/\/\S+\.ics)/.exec(text)?.[1] ?? "";

  beforeAll(async () => {
    fx = await BridgeFixture.start({ provisioning: { enabled: true, bind: "127.0.0.1" } });
    mod = new RawMatrixUser(fx.hs, await fx.hs.createUser("mod"));
    bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
    const carol = new RawMatrixUser(fx.hs, await fx.hs.createUser("carol"));
    ({ room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom", { name: "Ops", preset: "private_chat", invite: [bob.userId, carol.userId] }));
    await bob.join(roomId);
    await carol.join(roomId);
    await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
    await waitFor(async () => (await botMessages())[0], 15_000, "the bot's welcome");
    for (const user of [mod, bob]) {
      const openId = await user.request("POST", `/_matrix/client/v3/user/${encodeURIComponent(user.userId)}/openid/request_token`, {});
      const res = await fetch(`http://127.0.0.1:${fx.bridge.provisioningPort}/_matrix/provision/v1/exchange_openid`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ openIdToken: openId.access_token, matrixServer: "example.org" }),
      });
      tokens.set(user, ((await res.json()) as { token: string }).token);
    }
  });
  afterAll(async () => { await fx.stop(); });

  it("the moderator sets the rota up over HTTP, and the room sees it", async () => {
    expect((await api("POST", "/v1/rotas", mod, { roomId, name: "on-call" })).status).toBe(201);
    const members = await api("PUT", "/v1/rotas/on-call/members", mod, { members: ["@bob:example.org", "@carol:example.org", "me"], version: 1 });
    expect(members).toMatchObject({ status: 200, body: { version: 2 } });
    expect((await api("PUT", "/v1/rotas/on-call/rotation", mod, { every: "week", weekday: "mon", time: "09:00", zone: "Europe/London" })).status).toBe(200);
    const cover = await api("POST", "/v1/rotas/on-call/overrides", mod, { member: "@carol:example.org", until: Date.now() + 3 * 3600_000 });
    expect(cover.body.onCall).toMatchObject({ member: "@carol:example.org", overrideId: 1 });

    // Each change is told in the room, in the words of the command's reply.
    const told = (await botMessages()).map((e) => e.content.body as string).filter((b) => b.startsWith("@mod:example.org (over the API): "));
    expect(told.map((b) => b.slice("@mod:example.org (over the API): ".length))).toEqual([
      "Created the rota on-call@example.org. Send rota help to see it and change it.",
      "Members: @bob:example.org, @carol:example.org, @mod:example.org.",
      expect.stringMatching(/^Shifts are now weekly, handover Mon 09:00 Europe\/London; the first member's turn began at Mon /),
      expect.stringMatching(/^Added cover 1: @carol:example\.org from .* \(Europe\/London\)\. rota uncover 1 takes it back\.$/),
    ]);
    expect(await say(bob, "rota members")).toBe("Members, in order: @bob:example.org, @carol:example.org, @mod:example.org.");
    expect(await say(bob, "rota who")).toMatch(/^@carol:example\.org is on call \(cover 1\) until .*\(Europe\/London\); next: @bob:example\.org/);
    // And the other way round: a change in the room is what the API reads next.
    expect(await say(mod, "rota escalate 20s")).toMatch(/^Escalation:/);
    expect((await api("GET", "/v1/rotas/on-call", bob)).body).toMatchObject({ version: 5, canEdit: false, escalation: { mode: "sequence", stepMs: 20_000 } });
  });

  it("a member who is not a moderator is refused with 403 and a clear errcode, and nothing changes", async () => {
    const refused = await api("PUT", "/v1/rotas/on-call/escalation", bob, { mode: "all" });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ errcode: "WEBCALL_ROTA_FORBIDDEN", error: expect.stringMatching(/power level in the rota's room is at least its state_default/) });
    expect((await api("GET", "/v1/rotas/on-call", mod)).body).toMatchObject({ version: 5, escalation: { mode: "sequence" } });
    expect((await botMessages()).filter((e) => String(e.content.body).startsWith("@bob:example.org (over the API)"))).toEqual([]);
  });

  let url = "";

  it("rota calendar gives the URL in the room; the WebCall listener serves the shifts as iCalendar", async () => {
    const help = await say(bob, "rota help");
    expect(help).toMatch(/rota calendar — the URL of the shifts as a calendar/);
    expect(help).toMatch(/rota calendar reset — a new calendar URL; the old one stops working/);
    const reply = await say(bob, "rota calendar");
    url = urlIn(reply);
    expect(url.startsWith(`${fx.webcallUrl}/calendar/on-call/`)).toBe(true);
    expect(reply).toMatch(/anyone with this URL can read the shifts; a moderator can make a new one with rota calendar reset/);
    expect(urlIn(await say(mod, "rota calendar"))).toBe(url);

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"/);
    const text = await res.text();
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    const events = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents("vevent").map((e) => new ICAL.Event(e));
    // Carol's cover, bob's week resuming after it, then a week each in turn: about 8 weeks.
    expect(events[0]!.summary).toBe("On call: @carol:example.org");
    expect(events[1]!.summary).toBe("On call: @bob:example.org");
    expect(events.length).toBeGreaterThanOrEqual(9);
    const shifts = (await api("GET", "/v1/rotas/on-call?shifts=5", bob)).body.shifts as { member: string; from: number; until: number }[];
    expect(events.slice(0, 5).map((e) => [e.summary, e.startDate.toJSDate().getTime(), e.endDate.toJSDate().getTime()]))
      // iCalendar times are whole seconds (a cover made over the API starts at this millisecond).
      .toEqual(shifts.map((s) => [`On call: ${s.member}`, Math.floor(s.from / 1000) * 1000, Math.floor(s.until / 1000) * 1000]));

    // A poll with nothing new: 304 and no body.
    const again = await fetch(url, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await fetch(`${url}?weeks=1`)).status).toBe(200);
    expect((await fetch(`${url}?weeks=0`)).status).toBe(400);
  });

  it("a wrong secret, no such rota and no such path all get the same 404", async () => {
    const secret = /\/([A-Za-z0-9_-]+)\.ics$/.exec(url)![1]!;
    const wrong = `${fx.webcallUrl}/calendar/on-call/${secret.startsWith("A") ? "B" : "A"}${secret.slice(1)}.ics`;
    const answers = await Promise.all([wrong, `${fx.webcallUrl}/calendar/no-such-rota/${secret}.ics`, `${fx.webcallUrl}/calendar/on-call/${secret}.txt`, `${fx.webcallUrl}/nothing-here`]
      .map(async (u) => { const r = await fetch(u); return { status: r.status, body: await r.text(), type: r.headers.get("content-type") }; }));
    for (const answer of answers) expect(answer).toEqual(answers[3]);
    expect(answers[0]!.status).toBe(404);
    expect(JSON.parse(answers[0]!.body)).toEqual({ errcode: "WEBCALL_NOT_FOUND", error: "no such endpoint" });
  });

  it("rota calendar reset: refused to a member, done by the moderator, and the old URL stops working", async () => {
    expect(await say(bob, "rota calendar reset")).toMatch(/^Sorry, only members who can change this room's settings/);
    expect((await fetch(url)).status).toBe(200);
    const reply = await say(mod, "rota calendar reset");
    expect(reply).toMatch(/^New calendar URL for on-call@example\.org; the old one no longer works:/);
    const fresh = urlIn(reply);
    expect(fresh).not.toBe(url);
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(fresh)).status).toBe(200);
    expect(urlIn(await say(bob, "rota calendar"))).toBe(fresh);
  });

  it("the feed has its own rate limit per client", async () => {
    let answer: Response | undefined;
    for (let i = 0; i < 40 && answer?.status !== 429; i++) answer = await fetch(`${fx.webcallUrl}/calendar/on-call/nope.ics`);
    expect(answer?.status).toBe(429);
    expect(await answer!.json()).toMatchObject({ errcode: "WEBCALL_RATE_LIMITED" });
    expect(Number(answer!.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
