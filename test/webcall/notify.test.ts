import http from "node:http";
import { AddressInfo } from "node:net";
import { setLogLevel } from "../../src/log";
import { NotifyClient } from "../../src/webcall/notifyClient";
import { OutboundHttp } from "../../src/net/outboundHttp";
import { SessionEvent } from "../../src/protocol/types";
import { createWebCallServer } from "../../src/webcall/server";
import { NodeSigning } from "../signing/nodeSigning";
import { FakeNode, outboundConfig, webcallConfig } from "./fakeNode";

setLogLevel("error");

const SID = "notify-session-0001";
const TOKEN = "N".repeat(43);
const ev = (i: number): SessionEvent => ({ id: `e${i}`, type: "candidates", candidates: [{ candidate: `candidate:${i}` }] });

interface Received { url: string; authorization: string | undefined; events: SessionEvent[] }

let server: http.Server;
let received: Received[];
let script: (n: number) => { status: number; delayMs?: number };

beforeEach(async () => {
  received = [];
  script = () => ({ status: 200 });
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      received.push({ url: req.url ?? "", authorization: req.headers.authorization, events: JSON.parse(body).events });
      const { status, delayMs = 0 } = script(received.length);
      setTimeout(() => { res.writeHead(status, { "content-type": "application/json" }); res.end("{}"); }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let signing: NodeSigning;
beforeAll(async () => { signing = await NodeSigning.open("caller.test"); });
afterAll(() => signing.close());

function client(deadlineMs = 5000): { notify: NotifyClient; http: OutboundHttp; url: string } {
  const outbound = new OutboundHttp(outboundConfig({ allowHttp: true, allowPrivateNetworks: true, timeoutMs: 1000 }));
  return {
    notify: new NotifyClient(outbound, signing.keys, { deadlineMs, initialBackoffMs: 20, maxBackoffMs: 100 }),
    http: outbound,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webcall`,
  };
}

describe("NotifyClient", () => {
  it("delivers in order, one request at a time per session, with the bearer token", async () => {
    const { notify, http: outbound, url } = client();
    script = (n) => ({ status: 200, delayMs: n === 1 ? 100 : 0 });
    const results = [notify.push(url, SID, TOKEN, [ev(1)]), notify.push(url, SID, TOKEN, [ev(2), ev(3)]), notify.push(url, SID, TOKEN, [ev(4)])];
    expect(await Promise.all(results)).toEqual([true, true, true]);
    expect(received.flatMap((r) => r.events.map((e) => e.id))).toEqual(["e1", "e2", "e3", "e4"]);
    expect(received[0]).toMatchObject({ url: `/webcall/sessions/${SID}/events`, authorization: `Bearer ${TOKEN}` });
    // the three pushes queued behind the slow first one go out coalesced
    expect(received.length).toBe(2);
    await notify.idle();
    outbound.close();
  });

  it("splits more than 100 events into several bodies", async () => {
    const { notify, http: outbound, url } = client();
    const events = Array.from({ length: 150 }, (_, i) => ev(i));
    expect(await notify.push(url, SID, TOKEN, events)).toBe(true);
    expect(received.map((r) => r.events.length)).toEqual([100, 50]);
    expect(received.flatMap((r) => r.events)).toEqual(events);
    outbound.close();
  });

  it("retries after a 500 and keeps the order", async () => {
    const { notify, http: outbound, url } = client();
    script = (n) => ({ status: n <= 2 ? 500 : 200 });
    const first = notify.push(url, SID, TOKEN, [ev(1)]);
    const second = notify.push(url, SID, TOKEN, [ev(2)]);
    expect(await Promise.all([first, second])).toEqual([true, true]);
    // the failed body is retried as it was, and what was queued behind it follows
    expect(received.map((r) => r.events.map((e) => e.id))).toEqual([["e1"], ["e1"], ["e1"], ["e2"]]);
    outbound.close();
  });

  it("gives up on 410 (and on what was queued behind it) without retrying", async () => {
    const { notify, http: outbound, url } = client();
    script = () => ({ status: 410, delayMs: 50 });
    const first = notify.push(url, SID, TOKEN, [ev(1)]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = notify.push(url, SID, TOKEN, [ev(2)]);
    expect(await Promise.all([first, second])).toEqual([false, false]);
    expect(received.length).toBe(1);
    outbound.close();
  });

  it("gives up when the deadline passes", async () => {
    const { notify, http: outbound, url } = client(300);
    script = () => ({ status: 503 });
    const started = Date.now();
    expect(await notify.push(url, SID, TOKEN, [ev(1)])).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(received.length).toBeGreaterThan(1);
    outbound.close();
  });

  it("never throws: refused URLs and invalid events resolve false", async () => {
    const { notify, http: outbound } = client();
    const strict = new NotifyClient(new OutboundHttp(outboundConfig()), signing.keys);
    expect(await strict.push("https://127.0.0.1/webcall", SID, TOKEN, [ev(1)])).toBe(false);
    expect(await strict.push("http://node.example/webcall", SID, TOKEN, [ev(1)])).toBe(false);
    expect(await notify.push("not a url", SID, TOKEN, [ev(1)])).toBe(false);
    expect(await notify.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, SID, TOKEN, [{ id: "x", type: "hangup", reason: "bored" } as never])).toBe(false);
    expect(received.length).toBe(0);
    outbound.close();
  });

  it("interoperates with our own listener", async () => {
    const node = new FakeNode();
    node.addSession(SID, TOKEN);
    const peer = await NodeSigning.open("peer.test");
    const listener = createWebCallServer(node, webcallConfig({ publicUrl: "https://peer.test/peer/webcall" }), peer);
    const { port } = await listener.listen();
    const { notify, http: outbound } = client();
    const events: SessionEvent[] = [ev(1), { id: "h", type: "hangup", reason: "user_hangup" }];
    expect(await notify.push(`http://127.0.0.1:${port}/peer/webcall/`, SID, TOKEN, events)).toBe(true);
    expect(node.calls.find((c) => c.method === "deliver")?.args.slice(0, 3)).toEqual([SID, TOKEN, events]);
    outbound.close();
    await listener.close();
    await peer.close();
  });
});
