/**
 * The bridge bot, driven the way a user would: real room messages through
 * the test homeserver, replies read back from the room (HTML and plain body).
 */
import { BridgeFixture, waitFor } from "./fixture";
import { BotChat } from "./botChat";
import { RawMatrixUser } from "./matrixUser";

const BOT = "@webcall:example.org";

describe("managing rules with the bridge bot", () => {
  let fx: BridgeFixture;
  let alice: RawMatrixUser;
  let bot: BotChat;

  beforeAll(async () => {
    fx = await BridgeFixture.start();
    alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
  });
  afterAll(async () => { await fx.stop(); });

  it("joins a DM it is invited to and introduces itself with the commands", async () => {
    bot = await BotChat.open(alice, BOT);
    expect(await fx.hs.membership(bot.roomId, BOT)).toBe("join");
    const welcome = (await fx.hs.timeline(bot.roomId)).find((e) => e.sender === BOT && e.type === "m.room.message")!;
    expect(welcome.content).toMatchObject({ msgtype: "m.notice", format: "org.matrix.custom.html" });
    for (const command of ["rules", "allow", "refuse", "forward", "remove", "move", "default", "test"]) {
      expect(welcome.content.body).toContain(command);
    }
  });

  it("adds, lists, moves and removes rules, with numbered HTML and plain replies", async () => {
    expect((await bot.command("rules")).body).toMatch(/no rules/i);
    expect((await bot.command("allow *@employer.com")).body).toMatch(/^Added rule 1: allow/m);
    expect((await bot.command("refuse anonymous")).body).toMatch(/Added rule 2: refuse anonymous/);
    const forward = await bot.command("forward alf@employer.com to alf@hello.com on weekdays 09:00-17:00 in Europe/London");
    expect(forward.body).toMatch(/Added rule 3: forward alf@employer\.com to alf@hello\.com/);

    const list = await bot.command("rules");
    expect(list.body).toMatch(/1\. allow .*\*@employer\.com/);
    expect(list.body).toMatch(/2\. refuse anonymous/);
    expect(list.body).toMatch(/3\. forward alf@employer\.com to alf@hello\.com.*Europe\/London/);
    expect(list.html).toContain("<ol>");
    expect((list.html.match(/<li>/g) ?? []).length).toBe(3);

    await bot.command("move 3 to 1");
    expect((await bot.command("rules")).body).toMatch(/1\. forward alf@employer\.com/);
    expect((await bot.command("remove 2")).body).toMatch(/Removed rule 2/);
    const after = await bot.command("rules");
    expect(after.body).toMatch(/2\. refuse anonymous/);
    expect(after.body).not.toMatch(/3\./);
  });

  it("sets a default, and answers `test` without ringing anyone", async () => {
    expect((await bot.command("default refuse")).body).toMatch(/refused/i);
    const atWork = await bot.command("test alf@employer.com at 2026-11-23 10:00");
    expect(atWork.body).toMatch(/Rule 1 .* would fire: the call .*forwarded to alf@hello\.com/);
    expect(atWork.body).toMatch(/nobody was rung/);
    const evening = await bot.command("test alf@employer.com at 2026-11-23 20:00");
    expect(evening.body).toMatch(/No rule matches: your default applies: it .*refused/);
    const stranger = await bot.command("test anonymous");
    expect(stranger.body).toMatch(/Rule 2 .* would fire/);
    expect(fx.sent.filter((e) => e.type === "m.call.invite")).toEqual([]);
  });

  it("explains malformed commands, naming the part it did not understand", async () => {
    expect((await bot.command("frobnicate everything")).body).toMatch(/frobnicate.*help/is);
    expect((await bot.command("forward to nowhere")).body).toContain("nowhere");
    expect((await bot.command("remove 9")).body).toMatch(/no rule 9/i);
    expect((await bot.command("allow alf@employer.com in Mars/Olympus")).body).toContain("Mars/Olympus");
    expect((await bot.command("test alf@employer.com at tomorow")).body).toContain("tomorow");
    // Nothing changed.
    expect((await bot.command("rules")).body).toMatch(/2\. refuse anonymous/);
  });

  it("keeps both of two edits sent back to back", async () => {
    const seen = (await fx.hs.timeline(bot.roomId)).filter((e) => e.sender === BOT).length;
    await Promise.all([
      alice.send(bot.roomId, "m.room.message", { msgtype: "m.text", body: "refuse *@spam.example" }),
      alice.send(bot.roomId, "m.room.message", { msgtype: "m.text", body: "refuse *@junk.example" }),
    ]);
    await waitFor(async () => (await fx.hs.timeline(bot.roomId)).filter((e) => e.sender === BOT).length >= seen + 2, 10_000, "two replies");
    const list = (await bot.command("rules")).body;
    expect(list).toContain("*@spam.example");
    expect(list).toContain("*@junk.example");
  });

  it("only listens to the user who opened the DM; in a room that is not a DM it takes only rota commands", async () => {
    const mallory = new RawMatrixUser(fx.hs, await fx.hs.createUser("mallory"));
    const { room_id: group } = await mallory.request("POST", "/_matrix/client/v3/createRoom", { invite: [BOT, alice.userId] });
    // A team room may become an on-call rota: the bot stays (test/e2e/rotaCommands.test.ts).
    await waitFor(async () => await fx.hs.membership(group, BOT) === "join" ? true : undefined, 10_000, "the bot joining a group room");
    const botSaid = async () => (await fx.hs.timeline(group)).filter((e) => e.sender === BOT && e.type === "m.room.message").length;
    await waitFor(async () => await botSaid() === 1 ? true : undefined, 10_000, "the bot's hello in the group room");
    await mallory.send(group, "m.room.message", { msgtype: "m.text", body: "refuse anyone" });
    await mallory.send(group, "m.room.message", { msgtype: "m.text", body: "rota who" });
    await waitFor(async () => await botSaid() === 2 ? true : undefined, 10_000, "the answer to rota who");
    expect((await fx.hs.timeline(group)).filter((e) => e.sender === BOT).at(-1)?.content.body).toMatch(/not a rota yet/);

    const { room_id: own } = await mallory.request("POST", "/_matrix/client/v3/createRoom", { invite: [BOT], is_direct: true });
    await waitFor(async () => await fx.hs.membership(own, BOT) === "join" ? true : undefined, 10_000, "the bot joining mallory's DM");
    // Mallory's commands change mallory's rules, never alice's.
    const mallorysBot = await waitFor(async () => (await fx.hs.timeline(own)).find((e) => e.sender === BOT && e.type === "m.room.message"), 10_000, "welcome");
    expect(mallorysBot).toBeDefined();
    await mallory.send(own, "m.room.message", { msgtype: "m.text", body: "refuse anyone" });
    await waitFor(async () => (await fx.hs.timeline(own)).filter((e) => e.sender === BOT).length >= 3 ? true : undefined, 10_000, "a reply");
    expect((await bot.command("rules")).body).not.toMatch(/refuse anyone/);
  });
});
