/**
 * The call link page's HTTP side on a loopback listener over a FakeNode: the
 * same bytes for any name, compressed forms, its headers, the card held to one
 * answer time, per-call TURN credentials and the per-client limits.
 */
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { Config } from "../../src/config/schema";
import { setLogLevel } from "../../src/log";
import { CallCard } from "../../src/webcall/callPage/routes";
import { addressOfWho } from "../../src/webcall/callPage/routes";
import { iceServersForCall, turnRestCredential } from "../../src/webcall/callPage/ice";
import { callLink, callLinkBase } from "../../src/webcall/callPage/link";
import { createWebCallServer, WebCallServer } from "../../src/webcall/server";
import { NodeSigning } from "../signing/nodeSigning";
import { ManualClock } from "../support/manualClock";
import { FakeNode, webcallConfig } from "./fakeNode";

setLogLevel("error");

function callPageConfig(overrides: Partial<Config["callPage"]> = {}): Config["callPage"] {
  return {
    enabled: true,
    iceServers: [],
    turnCredentialLifetimeMs: 3_600_000,
    rateLimit: { windowMs: 60_000, max: 10_000, callsWindowMs: 60_000, calls: 10_000 },
    ...overrides,
  };
}

describe("TURN REST credentials", () => {
  it("are made as Synapse's turn_shared_secret makes them: <expiry>:<tag>, base64(HMAC-SHA1(secret, username))", () => {
    // Expected value from: printf '1700003600:webcall-link-test' | openssl dgst -sha1 -hmac s3cret -binary | base64
    expect(turnRestCredential("s3cret", 1_700_000_000_000, 3_600_000, "webcall-link-test"))
      .toEqual({ username: "1700003600:webcall-link-test", credential: "Fkt0Yy0fkDVHbDiHclExk4GMzII=" });
  });

  it("are fresh for every call; STUN and fixed TURN servers pass as configured", () => {
    const servers = [
      { urls: ["stun:stun.example.org:3478"] },
      { urls: ["turn:turn.example.org:3478"], sharedSecret: "s3cret" },
      { urls: ["turns:fixed.example.org:5349"], username: "u", credential: "p" },
    ];
    const [a, b] = [iceServersForCall(servers, 1_700_000_000_000, 60_000), iceServersForCall(servers, 1_700_000_000_000, 60_000)];
    expect(a[0]).toEqual({ urls: ["stun:stun.example.org:3478"] });
    expect(a[1]!.username).toMatch(/^1700000060:webcall-link-[A-Za-z0-9_-]{12}$/);
    expect(a[1]!.username).not.toBe(b[1]!.username);
    expect(a[2]).toEqual({ urls: ["turns:fixed.example.org:5349"], username: "u", credential: "p" });
  });
});

describe("call links", () => {
  it("name a localpart or an address on this node", () => {
    expect(addressOfWho("alice", "example.org")).toBe("alice@example.org");
    expect(addressOfWho("on-call", "example.org")).toBe("on-call@example.org");
    expect(addressOfWho("alice@Example.ORG", "example.org")).toBe("alice@example.org");
    expect(addressOfWho("a b", "example.org")).toBeUndefined();
    expect(addressOfWho("", "example.org")).toBeUndefined();
  });

  it("point at /call on the endpoint's origin unless linkBaseUrl says where", () => {
    expect(callLinkBase(callPageConfig(), "https://webcall.example.org/webcall")).toBe("https://webcall.example.org/call");
    expect(callLinkBase(callPageConfig({ linkBaseUrl: "https://example.org/call/" }), "https://webcall.example.org/webcall")).toBe("https://example.org/call");
    expect(callLinkBase(callPageConfig({ enabled: false }), "https://webcall.example.org/webcall")).toBeUndefined();
    expect(callLink("https://example.org/call", "alice")).toBe("https://example.org/call/alice");
  });
});

describe("the page on the WebCall listener", () => {
  let server: WebCallServer;
  let signing: NodeSigning;
  let base: string;
  let node: FakeNode;
  const clock = new ManualClock();
  const cards = new Map<string, CallCard>([["alice@node.test", { address: "alice@node.test", displayName: "Alice" }]]);

  async function start(config = callPageConfig()): Promise<void> {
    node = new FakeNode();
    node.setupImpl = async () => ({ status: "could_not_attend" });
    signing = await NodeSigning.open("node.test");
    server = createWebCallServer(node, webcallConfig(), signing, {
      clock,
      callPage: { config, domain: "node.test", cardFloorMs: 300, directory: { card: async (address) => cards.get(address) ?? { address } } },
    });
    base = `http://127.0.0.1:${(await server.listen()).port}`;
  }
  afterEach(async () => {
    await server.close();
    await signing.close();
  });

  it("is the same bytes for every name, brotli or gzip as the browser accepts, with its security headers", async () => {
    await start();
    const plain = await fetch(`${base}/call/alice`, { headers: { "accept-encoding": "identity" } });
    const other = await fetch(`${base}/call/nobody`, { headers: { "accept-encoding": "identity" } });
    const page = Buffer.from(await plain.arrayBuffer());
    expect(Buffer.from(await other.arrayBuffer()).equals(page)).toBe(true);
    expect(page.toString()).toContain("<title>Call</title>");
    for (const [encoding, inflate] of [["br", brotliDecompressSync], ["gzip", gunzipSync]] as const) {
      const res = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        // Node's fetch would decode the body itself: read the raw bytes.
        import("node:http").then(({ get }) => get(`${base}/call/alice`, { headers: { "accept-encoding": encoding } }, (r) => {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }));
        }).on("error", reject), reject);
      });
      expect(res.headers["content-encoding"]).toBe(encoding);
      expect(inflate(res.body).equals(page)).toBe(true);
    }
    expect(plain.headers.get("content-security-policy")).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; media-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(plain.headers.get("referrer-policy")).toBe("no-referrer");
    expect(plain.headers.get("x-content-type-options")).toBe("nosniff");
    expect(plain.headers.get("set-cookie")).toBeNull();
    const script = await fetch(`${base}/call/assets/call.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await fetch(`${base}/call/assets/page.html`)).status).toBe(404);
    expect((await fetch(`${base}/call/a%20b`)).status).toBe(404);
    expect((await fetch(`${base}/call/alice`, { method: "POST" })).status).toBe(405);
    const slash = await fetch(`${base}/call/alice/`, { redirect: "manual" });
    expect(slash.status).toBe(308);
    expect(slash.headers.get("location")).toBe("/call/alice");
  });

  it("holds every card to the same answer time, known or not", async () => {
    await start();
    let answered = 0;
    const known = fetch(`${base}/call/alice/card`).then(async (r) => { answered++; return r.json(); });
    const unknown = fetch(`${base}/call/nobody/card`).then(async (r) => { answered++; return r.json(); });
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(0); // both wait for the clock, whatever the lookup took
    clock.advanceTo(clock.now() + 300);
    expect(await known).toEqual({ address: "alice@node.test", displayName: "Alice", endpoint: "/webcall" });
    expect(await unknown).toEqual({ address: "nobody@node.test", endpoint: "/webcall" });
  });

  it("gives fresh ICE servers for each call", async () => {
    await start(callPageConfig({ iceServers: [{ urls: ["turn:turn.node.test:3478"], sharedSecret: "s3cret" }] }));
    const [a, b] = await Promise.all([1, 2].map(async () => (await fetch(`${base}/call/alice/ice`)).json()));
    expect(a.iceServers[0].urls).toEqual(["turn:turn.node.test:3478"]);
    expect(a.iceServers[0].username).not.toBe(b.iceServers[0].username);
  });

  it("limits the page per client, and anonymous calls per client while callers with an address pass", async () => {
    await start(callPageConfig({ rateLimit: { windowMs: 60_000, max: 2, callsWindowMs: 60_000, calls: 1 } }));
    expect((await fetch(`${base}/call/alice`)).status).toBe(200);
    expect((await fetch(`${base}/call/bob`)).status).toBe(200);
    const limited = await fetch(`${base}/call/carol`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ errcode: "WEBCALL_RATE_LIMITED" });

    const setup = (body: object) => fetch(`${base}/webcall`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await setup({ calleeId: "alice@node.test" })).status).toBe(200);
    expect((await setup({ calleeId: "alice@node.test" })).status).toBe(429);
    expect((await setup({ calleeId: "alice@node.test", callerId: "alf@employer.com" })).status).toBe(200);
  });

  it("is not served when callPage.enabled is off", async () => {
    await start(callPageConfig({ enabled: false }));
    expect((await fetch(`${base}/call/alice`)).status).toBe(404);
  });
});
