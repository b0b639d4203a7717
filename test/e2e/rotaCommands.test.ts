/**
 * A team room becomes an on-call rota, on real Synapse: the bot is invited
 * to a three-member room and stays; its moderator creates and sets up the
 * rota with `rota …` messages; anyone reads it; a member without the power
 * to change the room's settings is refused; the rota survives a restart.
 */
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";

jest.setTimeout(90_000);
const BOT = "@webcall:example.org";

/** A group room with the bot in it, driven with real messages. */
class TeamRoom {
  constructor(readonly fx: BridgeFixture, readonly roomId: string) {}

  private async botMessages(): Promise<any[]> {
    return (await this.fx.hs.timeline(this.roomId)).filter((e) => e.sender === BOT && e.type === "m.room.message");
  }

  async waitForBotMessage(index: number): Promise<{ body: string; html: string }> {
    const e = await waitFor(async () => (await this.botMessages())[index], 10_000, "a message from the bot");
    return { body: e.content.body, html: e.content.formatted_body };
  }

  /** `from` sends `text`; the bot's reply to it. */
  async say(from: RawMatrixUser, text: string): Promise<string> {
    const seen = (await this.botMessages()).length;
    await from.send(this.roomId, "m.room.message", { msgtype: "m.text", body: text });
    return (await this.waitForBotMessage(seen)).body;
  }
}

describe("an on-call rota managed from its room", () => {
  let fx: BridgeFixture;
  let mod: RawMatrixUser;
  let bob: RawMatrixUser;
  let carol: RawMatrixUser;
  let room: TeamRoom;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    mod = new RawMatrixUser(fx.hs, await fx.hs.createUser("mod"));
    bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
    carol = new RawMatrixUser(fx.hs, await fx.hs.createUser("carol"));
  });
  afterAll(async () => { await fx.stop(); });

  it("joins a three-member room it is invited to, stays, and says how to start", async () => {
    const { room_id: roomId } = await mod.request("POST", "/_matrix/client/v3/createRoom",
      { name: "Ops", preset: "private_chat", invite: [bob.userId, carol.userId] });
    await bob.join(roomId);
    await carol.join(roomId);
    await mod.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: BOT });
    room = new TeamRoom(fx, roomId);
    expect((await room.waitForBotMessage(0)).body).toMatch(/on-call rota.*rota help/);
    expect(await fx.hs.membership(roomId, BOT)).toBe("join");
    expect(await room.say(bob, "rota who")).toMatch(/not a rota yet.*rota create/);
    const help = await room.say(bob, "rota help");
    for (const command of ["rota create", "rota members", "rota weekly", "rota daily", "rota cover", "rota uncover", "rota escalate", "rota ring all", "rota who", "rota shifts", "rota rules"]) {
      expect(help).toContain(command);
    }
  });

  it("the moderator creates the rota and sets members, weekly handovers, a cover and the escalation", async () => {
    const created = await room.say(mod, "rota create on-call");
    expect(created).toMatch(/^Created the rota on-call@example\.org\./);
    expect(created).toMatch(/Members: the room's joined members, in the order they joined/);
    expect(created).toMatch(/daily, handover 09:00/);
    expect(created).toMatch(/Escalation: the person on call rings for 30s, then every member at once/);

    // The room's members in join order: the moderator, then bob, then carol (not the bot).
    expect(await room.say(bob, "rota members")).toMatch(/@mod:example\.org, @bob:example\.org, @carol:example\.org/);

    expect(await room.say(mod, "rota members @bob:example.org @carol:example.org alf@employer.com"))
      .toBe("Members: @bob:example.org, @carol:example.org, alf@employer.com.");
    expect(await room.say(mod, "rota weekly mon 09:00 Europe/London")).toMatch(/^Shifts are now weekly, handover Mon 09:00 Europe\/London/);
    const until = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    expect(await room.say(mod, `rota cover @carol:example.org until ${until} 18:00`)).toMatch(/^Added cover 1: @carol:example\.org from .* until .*18:00/);
    expect(await room.say(mod, "rota escalate 20s then all")).toBe("Escalation: the person on call rings for 20s, then every member at once.");
    expect(await room.say(mod, "rota rules refuse anonymous")).toBe("Added rule 1: refuse anonymous.");
    expect(await room.say(mod, "rota escalate 1s")).toMatch(/5s to 10m, not 1s/);
  });

  it("anyone in the room reads who is on call and the next shifts", async () => {
    expect(await room.say(bob, "rota who")).toMatch(/^@carol:example\.org is on call \(cover 1\) until .*18:00 \(Europe\/London\)/);
    const shifts = await room.say(carol, "rota shifts 3");
    expect(shifts).toMatch(/^Shifts of on-call \(Europe\/London\):/);
    expect(shifts.split("\n")).toHaveLength(4);
  });

  it("a member who cannot change the room's settings is refused, and nothing changes", async () => {
    const refused = await room.say(bob, "rota escalate 10s");
    expect(refused).toMatch(/only members who can change this room's settings \(power level 50 here; yours is 0\) can change the rota/);
    expect(await room.say(carol, "rota delete")).toMatch(/only members who can change/);
    expect(await room.say(bob, "rota")).toMatch(/Escalation: the person on call rings for 20s, then every member at once/);
  });

  it("a name a user of this homeserver has is refused, as is a second rota in the room", async () => {
    expect(await room.say(mod, "rota create support")).toMatch(/already the rota on-call@example\.org/);
    const { room_id: other } = await mod.request("POST", "/_matrix/client/v3/createRoom", { preset: "private_chat", invite: [BOT] });
    const second = new TeamRoom(fx, other);
    await second.waitForBotMessage(0);
    expect(await second.say(mod, "rota create bob")).toBe("A rota can't be called bob: a user of this homeserver has that name.");
    expect(await second.say(mod, "rota create on-call")).toMatch(/Another room already is the rota on-call@example\.org/);
    expect(await second.say(mod, "rota create webcall_x")).toMatch(/the bridge's own users/);
  });

  it("keeps the rota across a bridge restart", async () => {
    await fx.restartBridge();
    const summary = await room.say(carol, "rota");
    expect(summary).toMatch(/Members: @bob:example\.org, @carol:example\.org, alf@employer\.com\./);
    expect(summary).toMatch(/Shifts: weekly, handover Mon 09:00 Europe\/London\./);
    expect(summary).toMatch(/Covers: cover 1: @carol:example\.org/);
    expect(summary).toMatch(/Rules: 1;/);
    expect(await room.say(bob, "rota who")).toMatch(/^@carol:example\.org is on call \(cover 1\)/);
    expect(await room.say(mod, "rota uncover 1")).toBe("Removed cover 1.");
    expect(await room.say(bob, "rota who")).toMatch(/^@(bob|carol):example\.org is on call until Mon .* 09:00 \(Europe\/London\); next: /);
  });
});
