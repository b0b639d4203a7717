/**
 * The call link page in a real browser (headless Chromium, fake microphone)
 * against the bridge on real Synapse. Alice is a matrix-js-sdk user with real
 * WebRTC (wrtc) who allows anonymous callers; Bob does not. Media must flow
 * both ways, counted on both ends; every refusal must read the same.
 *
 * WEBCALL_SCREENSHOTS=1 also writes the page in each state, at phone and
 * desktop width, light and dark, to docs/call-page/.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Browser } from "playwright-core";
import { BridgeFixture, waitFor } from "./fixture";
import { BotChat } from "./botChat";
import { RawMatrixUser } from "./matrixUser";
import { MatrixCaller, startMatrixClient } from "../support/matrixCaller";
import { mediaFlowReport } from "../support/mediaStats";
import { teardownWrtcGlobals } from "../support/wrtcGlobals";
import { CallPageVisitor, DESKTOP, launchChromium, PHONE } from "../support/callPageBrowser";

jest.setTimeout(120_000);

const COULD_NOT_CONNECT = /^Could not connect the call\. They may be unavailable; please try again later\.$/;
const SCREENSHOTS = process.env.WEBCALL_SCREENSHOTS === "1" ? path.join(__dirname, "..", "..", "docs", "call-page") : undefined;

describe("the call link page in a browser", () => {
  let fx: BridgeFixture;
  let browser: Browser;
  let phone: MatrixCaller;
  let aliceDm: string | undefined;
  let aliceRaw: RawMatrixUser;
  const visitors: CallPageVisitor[] = [];

  beforeAll(async () => {
    fx = await BridgeFixture.start({
      rules: { defaultAction: "ring_verified" }, // as deployed: anonymous callers only where a rule lets them through
      callPage: {
        rateLimit: { windowMs: 60_000, max: 10_000, callsWindowMs: 60_000, calls: 10_000 },
        // Nothing listens there: the calls connect over host candidates, and each gets its own credentials.
        iceServers: [{ urls: ["turn:127.0.0.1:9?transport=udp"], sharedSecret: "test-turn-secret" }],
      },
    });
    const alice = await fx.hs.createUser("alice", { displayName: "Alice Liddell" });
    await fx.hs.createUser("bob", { displayName: "Bob Builder" });
    aliceRaw = new RawMatrixUser(fx.hs, alice);
    const chat = await BotChat.open(aliceRaw, "@webcall:example.org");
    expect((await chat.command("allow anonymous")).body).toMatch(/anonymous/);
    phone = await startMatrixClient({ baseUrl: fx.hs.url, ...alice });
    browser = await launchChromium();
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterEach(async () => {
    expect(fx.problems).toEqual([]);
    for (const v of visitors.splice(0)) {
      expect(v.problems).toEqual([]);
      await v.close();
    }
  });
  afterAll(async () => {
    await browser?.close();
    await phone?.stop();
    await fx?.stop();
    await teardownWrtcGlobals();
  });

  const pageUrl = (who: string) => `http://127.0.0.1:${fx.bridge.webcallPort}/call/${who}`;

  async function visit(who: string, viewport = PHONE): Promise<CallPageVisitor> {
    const visitor = await CallPageVisitor.open(browser, pageUrl(who), viewport);
    visitors.push(visitor);
    return visitor;
  }

  /** The page in this state, light and dark, at phone width and on a desktop. */
  async function screenshot(visitor: CallPageVisitor, state: string): Promise<void> {
    if (!SCREENSHOTS) return;
    const { page } = visitor;
    const size = page.viewportSize();
    for (const [width, viewport] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
      await page.setViewportSize(viewport);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
        await page.screenshot({ path: path.join(SCREENSHOTS, `${state}-${width}-${scheme}.png`) });
      }
    }
    await page.emulateMedia({ colorScheme: "light", reducedMotion: "no-preference" });
    if (size) await page.setViewportSize(size);
  }

  const invitesSent = () => fx.sent.filter((e) => e.type === "m.call.invite").length;

  it("serves the same page for a known and an unknown name, with strict headers and no cookies", async () => {
    const [known, unknown] = await Promise.all([fetch(pageUrl("alice")), fetch(pageUrl("nobody-by-this-name"))]);
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toBe(await known.text());
    for (const res of [known, unknown]) {
      expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'.*script-src 'self'/);
      expect(res.headers.get("content-security-policy")).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    // A user who takes link calls shows their name; one who does not, and a made-up name, only the address.
    const card = async (who: string) => (await fetch(`${pageUrl(who)}/card`)).json();
    expect(await card("alice")).toEqual({ address: "alice@example.org", displayName: "Alice Liddell", endpoint: "/webcall" });
    expect(await card("bob")).toEqual({ address: "bob@example.org", endpoint: "/webcall" });
    expect(await card("nobody-by-this-name")).toEqual({ address: "nobody-by-this-name@example.org", endpoint: "/webcall" });
  });

  it("passes axe-core's WCAG 2.1 A/AA rules, light and dark", async () => {
    const visitor = await visit("alice");
    await visitor.page.getByRole("heading", { name: "Alice Liddell" }).waitFor();
    expect(await visitor.accessibilityViolations()).toEqual([]);
    await visitor.page.emulateMedia({ colorScheme: "dark" });
    expect(await visitor.accessibilityViolations()).toEqual([]);
    await screenshot(visitor, "ready");
  });

  it("Alice answers: audio flows both ways, Mute stops it reaching her, Hang up ends both sides and the DM gets its notice", async () => {
    const visitor = await visit("alice");
    await visitor.page.getByRole("heading", { name: "Alice Liddell" }).waitFor();
    await visitor.call("Dinah");
    // First contact: the anonymous caller's DM with Alice, then the ring.
    if (!aliceDm) {
      aliceDm = await phone.waitForInvite();
      await phone.joinRoom(aliceDm);
    }
    const call = await phone.waitForIncomingCall({ timeoutMs: 30_000 });
    await visitor.waitForStatus(/^Ringing/);
    await screenshot(visitor, "ringing");
    const incoming = await fx.waitForSent((e) => e.room_id === aliceDm && /Incoming call/.test(String(e.content.body)));
    expect(incoming.content.body).toMatch(/An anonymous caller who gave the name "Dinah" \(not verified\)/);
    await phone.answer(call);
    await visitor.waitForStatus(/^Connected$/);
    expect(await visitor.page.locator("#timer").isVisible()).toBe(true);

    const atAlice = await phone.waitForMediaFlowing(call, { timeoutMs: 20_000 });
    expect(atAlice.bytesReceived).toBeGreaterThan(0);
    const first = await visitor.audio();
    const atPage = await waitFor(async () => {
      const now = await visitor.audio();
      return now.bytesReceived > first.bytesReceived && now.bytesReceived > 0 ? now : undefined;
    }, 20_000, "audio bytes from Alice growing in the browser");
    expect(atPage.bytesSent).toBeGreaterThan(0);
    // Alice's audio plays in the page's <audio> element.
    expect(await visitor.page.evaluate(() => {
      const audio = document.getElementById("remote") as HTMLAudioElement;
      const stream = audio.srcObject as MediaStream | null;
      return !audio.paused && (stream?.getAudioTracks().filter((t) => t.readyState === "live").length ?? 0);
    })).toBe(1);
    await screenshot(visitor, "connected");
    expect(await visitor.accessibilityViolations()).toEqual([]);

    // Mute: the browser stops sending, so what Alice receives stops growing.
    await visitor.page.getByRole("button", { name: "Mute", exact: true }).click();
    await visitor.page.getByRole("button", { name: "Unmute", exact: true }).waitFor();
    const stalled = await waitFor(async () => {
      const a = (await mediaFlowReport(call.peerConn!)).bytesReceived;
      await new Promise((r) => setTimeout(r, 600));
      const b = (await mediaFlowReport(call.peerConn!)).bytesReceived;
      return a === b ? b : undefined;
    }, 15_000, "Alice's received audio to stop growing while the page is muted");
    expect(stalled).toBeGreaterThan(0);
    await visitor.page.getByRole("button", { name: "Unmute", exact: true }).click();
    await phone.waitForMediaFlowing(call, { timeoutMs: 15_000, minBytesReceived: stalled });

    await visitor.page.getByRole("button", { name: "Hang up", exact: true }).click();
    await visitor.waitForStatus(/^Call ended\.$/);
    await phone.waitForCallState(call, "ended");
    await fx.waitForSent((e) => e.room_id === aliceDm && /ended after/.test(String(e.content.body)));
    await screenshot(visitor, "ended");
  });

  it("Alice declines: the page shows the neutral refusal", async () => {
    const visitor = await visit("alice");
    await visitor.call();
    const call = await phone.waitForIncomingCall({ timeoutMs: 30_000 });
    await visitor.waitForStatus(/^Ringing/);
    await phone.reject(call);
    expect(await visitor.waitForStatus(COULD_NOT_CONNECT)).toMatch(COULD_NOT_CONNECT);
    expect(await visitor.accessibilityViolations()).toEqual([]);
    await visitor.page.emulateMedia({ colorScheme: "dark" });
    expect(await visitor.accessibilityViolations()).toEqual([]);
    await screenshot(visitor, "could-not-connect");
  });

  it("a callee who does not allow anonymous callers: the same refusal, and nothing rings", async () => {
    const before = invitesSent();
    const visitor = await visit("bob");
    await visitor.page.getByRole("heading", { name: "bob@example.org" }).waitFor();
    await visitor.call();
    expect(await visitor.waitForStatus(COULD_NOT_CONNECT)).toMatch(COULD_NOT_CONNECT);
    expect(invitesSent()).toBe(before);
  });

  it("an unknown name: the same page, then the same refusal", async () => {
    const before = invitesSent();
    const visitor = await visit("nobody-by-this-name", DESKTOP);
    await visitor.page.getByRole("heading", { name: "nobody-by-this-name@example.org" }).waitFor();
    await visitor.call();
    expect(await visitor.waitForStatus(COULD_NOT_CONNECT)).toMatch(COULD_NOT_CONNECT);
    expect(invitesSent()).toBe(before);
  });

  it("a rota's link, /call/on-call, rings whoever is on call once the rota lets anonymous callers through", async () => {
    const bot = "@webcall:example.org";
    const { room_id: roomId } = await aliceRaw.request("POST", "/_matrix/client/v3/createRoom", { name: "Ops", preset: "private_chat", invite: [bot] });
    const botMessages = async () => (await fx.hs.timeline(roomId)).filter((e) => e.sender === bot && e.type === "m.room.message");
    const say = async (text: string): Promise<string> => {
      const seen = (await waitFor(async () => (await botMessages()).length || undefined, 10_000, "the bot in the rota room"));
      await aliceRaw.send(roomId, "m.room.message", { msgtype: "m.text", body: text });
      return String((await waitFor(async () => (await botMessages())[seen], 10_000, "the bot's reply")).content.body);
    };
    expect(await say("rota create on-call")).toMatch(/^Created the rota on-call@example\.org\./);
    expect(await say("rota members @alice:example.org")).toBe("Members: @alice:example.org.");
    expect(await say("rota rules allow anonymous")).toMatch(/anonymous/);

    const visitor = await visit("on-call");
    await visitor.page.getByRole("heading", { name: "on-call@example.org" }).waitFor();
    await visitor.call();
    const call = await phone.waitForIncomingCall({ timeoutMs: 30_000 });
    await visitor.waitForStatus(/^Ringing/);
    await visitor.page.getByRole("button", { name: "Hang up", exact: true }).click();
    await visitor.waitForStatus(/^Call ended\.$/);
    await phone.waitForCallState(call, "ended");
  });

  it("works with the keyboard alone (Tab to Call, Enter, Hang up has the focus), and each call has TURN credentials of its own", async () => {
    const visitor = await visit("alice");
    await visitor.page.getByRole("heading", { name: "Alice Liddell" }).waitFor();
    await visitor.page.keyboard.press("Tab"); // the name field
    await visitor.page.keyboard.press("Tab"); // Call
    expect(await visitor.page.evaluate(() => document.activeElement?.textContent)).toBe("Call");
    await visitor.page.keyboard.press("Enter");
    const call = await phone.waitForIncomingCall({ timeoutMs: 30_000 });
    await visitor.waitForStatus(/^Ringing/);
    expect(await visitor.page.evaluate(() => document.activeElement?.textContent)).toBe("Hang up");
    await visitor.page.keyboard.press("Enter");
    await visitor.waitForStatus(/^Call ended\.$/);
    await phone.waitForCallState(call, "ended");

    // A second call from the same page: TURN credentials of its own.
    expect(await visitor.page.evaluate(() => document.activeElement?.textContent)).toBe("Call");
    await visitor.page.keyboard.press("Enter");
    const again = await phone.waitForIncomingCall({ timeoutMs: 30_000 });
    await visitor.waitForStatus(/^Ringing/);
    await visitor.page.keyboard.press("Enter");
    await phone.waitForCallState(again, "ended");
    const usernames = await visitor.page.evaluate(() => ((window as any).__pcs as RTCPeerConnection[])
      .map((pc) => pc.getConfiguration().iceServers?.[0]?.username));
    expect(usernames).toHaveLength(2);
    for (const name of usernames) expect(name).toMatch(/^\d{10}:webcall-link-[A-Za-z0-9_-]{12}$/);
    expect(usernames[0]).not.toBe(usernames[1]);
  });
});
