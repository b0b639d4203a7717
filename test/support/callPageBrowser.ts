/**
 * Headless Chromium (Debian's, /usr/bin/chromium) driven by playwright-core,
 * with fake media devices: the call link page as a visitor's browser runs it.
 * The page's own peer connection is reached through a wrapper installed
 * before its script runs (window.__pcs), so the test can read its getStats()
 * without the page exposing anything.
 */
import { existsSync, readFileSync } from "node:fs";
import { Browser, BrowserContext, chromium, Page } from "playwright-core";

export const CHROMIUM = process.env.WEBCALL_TEST_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--disable-background-networking",
  "--autoplay-policy=no-user-gesture-required",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The call link page's browser tests drive Chromium at ${CHROMIUM}, which is not there: ` +
      "install Debian's chromium (apt-get install chromium), as .ci/run does, or set WEBCALL_TEST_CHROMIUM to another Chromium.");
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** Audio RTP bytes of the page's peer connections, in and out. */
export interface PageAudio { bytesReceived: number; bytesSent: number; packetsSent: number }

const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** One visitor: a browser context of its own (no shared storage), one tab. */
export class CallPageVisitor {
  /** Console errors and uncaught exceptions of the page (a CSP violation is one). */
  readonly problems: string[] = [];

  private constructor(readonly context: BrowserContext, readonly page: Page) {
    page.on("console", (m) => { if (m.type() === "error") this.problems.push(m.text()); });
    page.on("pageerror", (e) => this.problems.push(e.message));
  }

  static async open(browser: Browser, url: string, viewport = PHONE): Promise<CallPageVisitor> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: "light" });
    await context.grantPermissions(["microphone"]);
    const page = await context.newPage();
    await page.addInitScript(() => {
      const Native = window.RTCPeerConnection;
      const pcs: RTCPeerConnection[] = [];
      (window as any).__pcs = pcs;
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super(config);
          pcs.push(this);
        }
      } as typeof RTCPeerConnection;
    });
    const visitor = new CallPageVisitor(context, page);
    await page.goto(url);
    return visitor;
  }

  /** The text of the page's role="status" element. */
  status(): Promise<string> {
    return this.page.getByRole("status").innerText();
  }

  async waitForStatus(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const status = this.page.getByRole("status");
    await status.filter({ hasText: pattern }).waitFor({ timeout: timeoutMs });
    return status.innerText();
  }

  async call(name?: string): Promise<void> {
    if (name !== undefined) await this.page.getByLabel("Your name").fill(name);
    await this.page.getByRole("button", { name: "Call", exact: true }).click();
  }

  async audio(): Promise<PageAudio> {
    return this.page.evaluate(async () => {
      const out = { bytesReceived: 0, bytesSent: 0, packetsSent: 0 };
      for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
        if (pc.signalingState === "closed") continue;
        (await pc.getStats()).forEach((r: any) => {
          if (r.kind !== "audio") return;
          if (r.type === "inbound-rtp") out.bytesReceived += r.bytesReceived ?? 0;
          if (r.type === "outbound-rtp") { out.bytesSent += r.bytesSent ?? 0; out.packetsSent += r.packetsSent ?? 0; }
        });
      }
      return out;
    });
  }

  /** axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now. */
  async accessibilityViolations(): Promise<Array<{ id: string; help: string; nodes: string[] }>> {
    // Evaluated over the DevTools protocol, which the page's CSP does not
    // govern: the page itself is tested with its CSP in force.
    await this.page.evaluate(AXE_SOURCE);
    return this.page.evaluate(async () => {
      const result = await (window as any).axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
      return result.violations.map((v: any) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n: any) => n.html) }));
    });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
