/**
 * Every outbound request to another node survives that node closing an idle
 * keep-alive connection: a request that went out on a pooled socket the peer
 * had already closed, and got no byte of an answer, is sent again at once on
 * a fresh connection. Setups and pushes are tested with deadlines shorter
 * than their own first retry, so only the client's resend can save them.
 */
import { setLogLevel } from "../../src/log";
import { KeyRing } from "../../src/signing/KeyRing";
import { NotifyClient } from "../../src/webcall/notifyClient";
import { OutboundError } from "../../src/net/outboundHttp";
import { postSetup } from "../../src/webcall/setupClient";
import { ClosingPeer, idleGap, PeerMode, startClosingPeer } from "../support/closingPeer";
import { NodeSigning, openNodes, SIGNING_DEFAULTS } from "../signing/nodeSigning";

setLogLevel("error");

const ROUNDS = 50;
const IDLE_CLOSE_MS = 20;
let home: NodeSigning, alpha: NodeSigning;
let peer: ClosingPeer | undefined;

beforeAll(async () => { [home, alpha] = await openNodes(["home.org", "alpha.test"]); });
afterAll(async () => { await Promise.all([home?.close(), alpha?.close()]); });
afterEach(async () => { await peer?.close(); peer = undefined; });

/** Starts a peer answering as alpha.test's node (keys, setups, events) at {base}/webcall. */
async function alphaNode(mode: PeerMode): Promise<string> {
  peer = await startClosingPeer(mode, (method, path, body) => {
    if (method === "GET" && path === "/webcall/keys") return alpha.keys.document();
    if (path === "/webcall") return { status: "success", sessionId: (body as { sessionId: string }).sessionId, token: "T".repeat(43) };
    return {};
  });
  const endpoint = `${peer.base}/webcall`;
  home.nodes["alpha.test"] = endpoint;
  return endpoint;
}

async function fetchKeys(): Promise<void> {
  // A fresh KeyRing each time, so every lookup is a GET {endpoint}/keys on home's one pool.
  const ring = new KeyRing(home.http, home.discovery, SIGNING_DEFAULTS, home.keys);
  expect(await ring.keyFor("alpha.test", alpha.keys.keyId, Date.now())).toEqual({ key: expect.anything() });
}

function setup(endpoint: string, i: number): Promise<unknown> {
  return postSetup(home.http, home.keys, {
    endpoint, destination: "alpha.test", deadline: Date.now() + 200,
    request: { callerId: "bob@home.org", calleeId: "alf@alpha.test", sessionId: `idle-close-session-${i}`, token: "S".repeat(43) },
  });
}

function pusher(): NotifyClient {
  return new NotifyClient(home.http, home.keys, { deadlineMs: 200, initialBackoffMs: 250 });
}
const push = (notify: NotifyClient, endpoint: string, i: number): Promise<boolean> =>
  notify.push(endpoint, `idle-close-${i}`, "N".repeat(43), [{ id: `e${i}`, type: "candidates", candidates: [{ candidate: `candidate:${i}` }] }], "alpha.test");

async function failure(work: Promise<unknown>): Promise<OutboundError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboundError);
  return error as OutboundError;
}

describe.each<[string, PeerMode]>([
  ["a peer that closes connections idle for 20 ms", { idleCloseMs: IDLE_CLOSE_MS }],
  ["a peer whose idle close crosses every reused connection's request", "reset-reused"],
])("outbound requests to %s", (_name, mode) => {
  it(`fetch keys through KeyRing ${ROUNDS} times across idle gaps`, async () => {
    await alphaNode(mode);
    for (let i = 0; i < ROUNDS; i++) {
      await fetchKeys();
      await idleGap(i, IDLE_CLOSE_MS);
    }
    expect(peer!.requests).toBeGreaterThanOrEqual(ROUNDS);
  });

  it(`post setups ${ROUNDS} times across idle gaps, each at its first try`, async () => {
    const endpoint = await alphaNode(mode);
    for (let i = 0; i < ROUNDS; i++) {
      expect(await setup(endpoint, i)).toEqual({ status: "success", sessionId: `idle-close-session-${i}`, token: "T".repeat(43) });
      await idleGap(i, IDLE_CLOSE_MS);
    }
  });

  it(`push session events ${ROUNDS} times across idle gaps, each at its first try`, async () => {
    const endpoint = await alphaNode(mode);
    const notify = pusher();
    for (let i = 0; i < ROUNDS; i++) {
      expect(await push(notify, endpoint, i)).toBe(true);
      await idleGap(i, IDLE_CLOSE_MS);
    }
    await notify.close();
  });
});

describe("outbound requests are sent again only when that cannot repeat anything", () => {
  it("resends once, on a fresh connection, a request a reused connection lost unanswered", async () => {
    await alphaNode("reset-reused");
    await fetchKeys();
    await fetchKeys();
    // The second GET was reset on the pooled connection, then answered on a new one.
    expect([peer!.requests, peer!.connections]).toEqual([3, 2]);
  });

  it("does not resend a request a fresh connection lost: that is the existing network error", async () => {
    const endpoint = await alphaNode("reset-fresh");
    const error = await failure(home.http.request(`${endpoint}/keys`));
    expect(error.code).toBe("network");
    expect(error.message).toMatch(/ECONNRESET|socket hang up/);
    expect(peer!.requests).toBe(1);
  });

  it("does not resend a request whose answer had started on a reused connection", async () => {
    const endpoint = await alphaNode("reset-reused-mid-answer");
    await home.http.request(`${endpoint}/keys`);
    const error = await failure(home.http.postJson(endpoint, { calleeId: "alf@alpha.test" }));
    expect(error.code).toBe("network");
    expect(peer!.requests).toBe(2);
  });
});
