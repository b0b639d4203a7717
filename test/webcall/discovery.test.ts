import http from "node:http";
import { AddressInfo } from "node:net";
import { NodeDiscovery } from "../../src/net/discovery";
import { OutboundHttp } from "../../src/net/outboundHttp";
import { outboundConfig } from "./fakeNode";

/** /.well-known/webcall served by a local server; discovery reaches it because
 *  every name resolves to 127.0.0.1 here and the host is trusted for http. */
describe("node discovery", () => {
  let server: http.Server;
  let port: number;
  let hits = 0;
  const answers: Record<string, (res: http.ServerResponse) => void> = {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      const host = String(req.headers.host).split(":")[0]!;
      if (req.url !== "/.well-known/webcall" || !answers[host]) return void res.writeHead(404).end();
      answers[host]!(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  let clock = 1_000_000;
  function discovery(overrides = {}) {
    const config = outboundConfig({ trustedHosts: ["a.test", "b.test", "c.test", "d.test"], nodes: { "static.test": "https://node.static.test/webcall" }, ...overrides });
    // Names resolve to the local server; the port is mapped by rewriting https://name/ to http://name:port/.
    const http = new OutboundHttp(config, { resolve: async () => [{ address: "127.0.0.1", family: 4 }] });
    const request = http.request.bind(http);
    http.request = (url, init) => request(url.replace(/^https:\/\/([a-z.]+)\//, `http://$1:${port}/`), init);
    return new NodeDiscovery(http, config, () => clock);
  }

  it("uses the static map first, without a request", async () => {
    const before = hits;
    expect(await discovery().endpointFor("static.test")).toBe("https://node.static.test/webcall");
    expect(hits).toBe(before);
  });

  it("reads /.well-known/webcall, caches it for the TTL, and shares one request between concurrent lookups", async () => {
    answers["a.test"] = (res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ endpoint: "https://node.a.test/webcall" }));
    const d = discovery();
    const before = hits;
    const [x, y] = await Promise.all([d.endpointFor("a.test"), d.endpointFor("a.test")]);
    expect(x).toBe("https://node.a.test/webcall");
    expect(y).toBe(x);
    expect(await d.endpointFor("a.test")).toBe(x);
    expect(hits - before).toBe(1);
    clock += 300_001;
    await d.endpointFor("a.test");
    expect(hits - before).toBe(2);
  });

  it("remembers failures for the shorter TTL", async () => {
    const d = discovery();
    const before = hits;
    expect(await d.endpointFor("b.test")).toBeNull();
    expect(await d.endpointFor("b.test")).toBeNull();
    expect(hits - before).toBe(1);
    answers["b.test"] = (res) => res.writeHead(200).end(JSON.stringify({ endpoint: "https://node.b.test/webcall" }));
    clock += 60_001;
    expect(await d.endpointFor("b.test")).toBe("https://node.b.test/webcall");
  });

  it("refuses bodies without an endpoint, endpoints that are not https, and oversized answers", async () => {
    answers["c.test"] = (res) => res.writeHead(200).end(JSON.stringify({ endpoint: "ftp://node.c.test/" }));
    answers["d.test"] = (res) => res.writeHead(200).end(JSON.stringify({ endpoint: "https://x/" + "a".repeat(100_000) }));
    const d = discovery();
    expect(await d.endpointFor("c.test")).toBeNull();
    expect(await d.endpointFor("d.test")).toBeNull();
  });

  it("keeps at most discoveryCacheSize domains", async () => {
    answers["a.test"] = (res) => res.writeHead(200).end(JSON.stringify({ endpoint: "https://node.a.test/webcall" }));
    const d = discovery({ discoveryCacheSize: 1 });
    const before = hits;
    await d.endpointFor("a.test");
    await d.endpointFor("b.test");
    await d.endpointFor("a.test");
    expect(hits - before).toBe(3);
  });
});
