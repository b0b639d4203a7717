/**
 * `npm run bench -- --only callpage` (and the last section of a full run):
 * the call link page in headless Chromium (test/support/callPageBrowser.ts)
 * against the bridge and the test homeserver, each in its own process.
 *
 * 1. From pressing Call on the page (an Enter on the focused button, sent
 *    over the DevTools protocol) to alice's /sync seeing the m.call.invite,
 *    against the same path without the page: the same anonymous setup, with
 *    the browser's own offer SDP, POSTed from here. Interleaved, so drift
 *    weighs on both alike. The page's extra is the microphone, the ICE
 *    fetch, the peer connection and its offer, and the browser's POST.
 * 2. What a first visit transfers, as the browser counts it (Resource
 *    Timing's transferSize: compressed bodies and headers), page, stylesheet,
 *    script, icon and card together.
 */
import { randomBytes } from "node:crypto";
import yaml from "js-yaml";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Browser, Page } from "playwright-core";
import { MatrixUserId } from "../src/ids/matrix";
import { launchChromium } from "../test/support/callPageBrowser";
import { Child } from "./child";
import { userRules } from "./rules";
import { ms, Stats, summary } from "./stats";
import { SyncWatcher } from "./syncWatcher";

const SERVER = "example.org";
const ANONYMOUS = `@webcall_anonymous:${SERVER}`;
const WARMUP = 5;
const progress = (what: string) => process.stderr.write(`bench: ${what}\n`);

export interface CallPageReport {
  page: Stats;
  direct: Stats;
  /** Per file: what the browser transferred (headers included) and the file's own size. */
  files: { name: string; transfer: number; body: number; decoded: number }[];
  total: { transfer: number; body: number; decoded: number };
}

export async function measureCallPage(iterations: number): Promise<CallPageReport> {
  const hs = await Child.start("homeserverProcess.ts", SERVER);
  const hsUrl: string = hs.ready.url;
  const dataDir = mkdtempSync(join(tmpdir(), "webcall-bench-page-"));
  const registration = { id: "webcall", as_token: randomBytes(16).toString("hex"), hs_token: randomBytes(16).toString("hex"), sender_localpart: "webcall" };
  const bridge = await Child.start("bridgeProcess.ts", SERVER);
  let browser: Browser | undefined;
  let sync: SyncWatcher | undefined;
  try {
    const ports = await bridge.call("start", {
      registration,
      config: yaml.dump({
        homeserver: { url: hsUrl, domain: SERVER },
        webcall: { bind: "127.0.0.1", port: 0, publicUrl: "http://127.0.0.1/webcall", rateLimit: { max: 1_000_000 } },
        callPage: { rateLimit: { max: 1_000_000, calls: 1_000_000 } },
        calls: { defaultLifetimeMs: 120000 },
        rules: { defaultAction: "ring_verified" },
        database: { dataDir },
        logging: { level: process.env.WEBCALL_BENCH_LOG ?? "error" },
      }),
    });
    await hs.call("registerAppservice", { reg: { ...registration, url: `http://127.0.0.1:${ports.appservicePort}`, rate_limited: false, namespaces: { users: [{ exclusive: true, regex: "@webcall_.*:example\\.org" }] } } });
    const alice = await hs.call("createUser", { localpart: "alice" });
    // alice publishes her link: her own default rings everyone, anonymous callers included.
    await bridge.call("saveRules", { userRules: { ...userRules(alice.userId as MatrixUserId, []), defaultAction: "ring" } });
    sync = new SyncWatcher(hsUrl, alice.accessToken);
    await sync.start();
    const origin = `http://127.0.0.1:${ports.webcallPort}`;
    const endpoint = `${origin}/webcall`;
    const pageUrl = `${origin}/call/alice`;

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await context.grantPermissions(["microphone"]);
    const page = await context.newPage();

    progress("the page's transfer size on a first visit");
    const sizes = await transferSizes(page, pageUrl);

    const seen = new Set<string>();
    const nextInvite = () => sync!.waitFor((e) => e.type === "m.call.invite" && e.sender === ANONYMOUS && !seen.has(e.content.call_id));
    const missed = () => sync!.waitFor((e) => e.type === "m.room.message" && e.sender === ANONYMOUS && /Missed/.test(e.content.body));

    /** Pressing Call on a freshly loaded page until the invite is in alice's /sync. */
    async function viaPage(): Promise<number> {
      await page.goto(pageUrl);
      await cardShown(page);
      await page.focus("#call");
      const arrived = nextInvite();
      const t0 = performance.now();
      await page.keyboard.press("Enter");
      const t1 = await arrived;
      await page.getByRole("status").filter({ hasText: /^Ringing/ }).waitFor();
      const noticed = missed();
      await page.keyboard.press("Enter"); // Hang up has the focus
      await noticed;
      return t1 - t0;
    }

    const offer = { type: "offer", sdp: await browserOffer(page) };
    /** The same anonymous setup without the page. */
    async function direct(): Promise<number> {
      const sessionId = `direct-${randomBytes(10).toString("hex")}`;
      const token = randomBytes(24).toString("base64url");
      seen.add(sessionId);
      const arrived = sync!.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);
      const t0 = performance.now();
      const res = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ calleeId: "alice@example.org", sessionId, token, offer }) });
      const body = await res.json() as { status: string };
      if (body.status !== "success") throw new Error(`the direct anonymous call failed: ${JSON.stringify(body)}`);
      const t1 = await arrived;
      const noticed = missed();
      await fetch(`${endpoint}/sessions/${sessionId}/events`, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ events: [{ id: "bench-hangup", type: "hangup", reason: "user_hangup" }] }),
      });
      await noticed;
      return t1 - t0;
    }

    progress("first contact: alice joins the anonymous caller's DM");
    const firstInvite = inviteFor(hsUrl, alice.accessToken);
    await page.goto(pageUrl);
    await cardShown(page);
    await page.getByRole("button", { name: "Call", exact: true }).click();
    const roomId = await firstInvite;
    const rang = nextInvite();
    await fetch(`${hsUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, { method: "POST", headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" }, body: "{}" });
    await rang;
    await page.getByRole("button", { name: "Hang up", exact: true }).click();

    progress(`pressing Call on the page against the same setup without it (${iterations} iterations, interleaved)`);
    const viaPageMs: number[] = [], directMs: number[] = [];
    for (let i = 0; i < iterations + WARMUP; i++) {
      const steps = [async () => { const t = await viaPage(); if (i >= WARMUP) viaPageMs.push(t); },
        async () => { const t = await direct(); if (i >= WARMUP) directMs.push(t); }];
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
    }
    return { page: summary(viaPageMs), direct: summary(directMs), ...sizes };
  } finally {
    await browser?.close();
    await sync?.stop();
    await bridge.call("stop").catch(() => undefined);
    await hs.call("stop").catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The page has its card (its title names the callee). */
async function cardShown(page: Page): Promise<void> {
  await page.waitForFunction(() => document.title !== "Call");
}

/** A first visit, cache empty: every file as the browser counted it. */
async function transferSizes(page: Page, url: string): Promise<Pick<CallPageReport, "files" | "total">> {
  await page.goto(url);
  await cardShown(page);
  const files = await page.evaluate(() => (performance.getEntriesByType("navigation") as PerformanceResourceTiming[])
    .concat(performance.getEntriesByType("resource") as PerformanceResourceTiming[])
    .map((e) => ({ name: new URL(e.name).pathname, transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize })));
  const total = files.reduce((t, f) => ({ transfer: t.transfer + f.transfer, body: t.body + f.body, decoded: t.decoded + f.decoded }), { transfer: 0, body: 0, decoded: 0 });
  return { files, total };
}

/** The offer this browser makes for one microphone track, as the page makes it. */
function browserOffer(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const pc = new RTCPeerConnection();
    pc.addTrack(stream.getAudioTracks()[0]!, stream);
    const offer = await pc.createOffer();
    pc.close();
    stream.getTracks().forEach((t) => t.stop());
    return offer.sdp!;
  });
}

/** The first room alice is invited to. */
async function inviteFor(hsUrl: string, token: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const body = await (await fetch(`${hsUrl}/_matrix/client/v3/sync?timeout=0`, { headers: { authorization: `Bearer ${token}` } })).json() as any;
    const roomId = Object.keys(body.rooms?.invite ?? {})[0];
    if (roomId) return roomId;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("alice was never invited to the anonymous caller's DM");
}

export function callPageReportLines(r: CallPageReport): string[] {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  return [
    `call link page (headless Chromium, fake microphone): pressing Call → m.call.invite in alice's /sync`,
    `  via the page        median ${ms(r.page.median).padStart(9)}   p99 ${ms(r.page.p99).padStart(9)}   (n ${r.page.n})`,
    `  without the page    median ${ms(r.direct.median).padStart(9)}   p99 ${ms(r.direct.p99).padStart(9)}   (the same anonymous setup and offer, POSTed directly)`,
    `  the page adds       median ${ms(r.page.median - r.direct.median).padStart(9)}   (target < 50 ms)`,
    `  first visit transfers ${kb(r.total.transfer)} (compressed bodies ${kb(r.total.body)}, ${kb(r.total.decoded)} as files; target < 50 KB):`,
    ...r.files.map((f) => `    ${f.name.padEnd(24)} ${String(f.transfer).padStart(6)} B   (body ${f.body} B of ${f.decoded} B)`),
  ];
}
