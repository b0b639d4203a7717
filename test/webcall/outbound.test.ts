import http from "node:http";
import https from "node:https";
import { AddressInfo } from "node:net";
import { isBlockedAddress, OutboundError, OutboundHttp } from "../../src/net/outboundHttp";
import { outboundConfig } from "./fakeNode";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
async function serve(handler: Handler): Promise<{ url: string; requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[] }> {
  const requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

afterEach(async () => {
  jest.restoreAllMocks();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function refusal(work: Promise<unknown>): Promise<OutboundError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboundError);
  return error as OutboundError;
}

describe("isBlockedAddress", () => {
  it.each([
    "127.0.0.1", "127.255.0.1", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1",
    "::", "::1", "fe80::1", "fd00::1", "fc00::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254",
    "64:ff9b::a00:1", "2001:db8::1", "::127.0.0.1", "not an ip",
  ])("blocks %s", (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])(
    "allows %s", (ip) => expect(isBlockedAddress(ip)).toBe(false));
});

describe("OutboundHttp guard", () => {
  it.each([
    "https://127.0.0.1/webcall", "https://10.0.0.1/webcall", "https://169.254.169.254/latest/meta-data",
    "https://[::1]/webcall", "https://[::ffff:10.0.0.1]/x", "https://[fd12::1]/x", "https://100.64.1.1/x",
    "https://0.0.0.0/x", "https://2130706433/x", "https://0x0a.0.0.1/x",
  ])("refuses %s before connecting", async (url) => {
    const resolve = jest.fn();
    const httpRequest = jest.spyOn(http, "request");
    const httpsRequest = jest.spyOn(https, "request");
    const client = new OutboundHttp(outboundConfig(), { resolve });
    const started = Date.now();
    const error = await refusal(client.postJson(url, { events: [] }));
    expect(error.code).toBe("blocked_address");
    expect(Date.now() - started).toBeLessThan(100);
    expect(resolve).not.toHaveBeenCalled();
    expect(httpRequest).not.toHaveBeenCalled();
    expect(httpsRequest).not.toHaveBeenCalled();
    client.close();
  });

  it("refuses a name that resolves to a private address, even among public ones", async () => {
    const httpsRequest = jest.spyOn(https, "request");
    for (const addresses of [[{ address: "10.0.0.1", family: 4 as const }], [{ address: "93.184.216.34", family: 4 as const }, { address: "fd00::5", family: 6 as const }]]) {
      const resolve = jest.fn(async () => addresses);
      const client = new OutboundHttp(outboundConfig(), { resolve });
      const error = await refusal(client.request("https://internal.example/x"));
      expect(error.code).toBe("blocked_address");
      expect(resolve).toHaveBeenCalledWith("internal.example");
      client.close();
    }
    expect(httpsRequest).not.toHaveBeenCalled();
  });

  it("refuses http unless allowHttp, other schemes and credentials always", async () => {
    const httpRequest = jest.spyOn(http, "request");
    const client = new OutboundHttp(outboundConfig({ allowPrivateNetworks: true }));
    expect((await refusal(client.request("http://node.example/x"))).code).toBe("bad_scheme");
    expect((await refusal(client.request("ftp://node.example/x"))).code).toBe("bad_scheme");
    expect((await refusal(client.request("file:///etc/passwd"))).code).toBe("bad_scheme");
    expect((await refusal(client.request("https://user:pw@node.example/x"))).code).toBe("bad_url");
    expect((await refusal(client.request("not a url"))).code).toBe("bad_url");
    expect(httpRequest).not.toHaveBeenCalled();
    client.close();
  });

  it("posts JSON to an allowed server and connects to the address it checked", async () => {
    const server = await serve((req, res) => {
      let body = "";
      req.on("data", (c) => { body += c; });
      req.on("end", () => { res.setHeader("content-type", "application/json"); res.end(JSON.stringify({ echo: JSON.parse(body) })); });
    });
    const port = new URL(server.url).port;
    // "rebind.invalid" cannot resolve through real DNS: the request reaches the
    // test server only because the connection uses the checked (pinned) address.
    const resolve = jest.fn(async () => [{ address: "127.0.0.1", family: 4 as const }]);
    const client = new OutboundHttp(outboundConfig({ allowHttp: true, allowPrivateNetworks: true }), { resolve });
    const answer = await client.postJson(`http://rebind.invalid:${port}/webcall/sessions/s/events`, { events: [1] }, { Authorization: "Bearer x" });
    expect(answer).toEqual({ status: 200, body: { echo: { events: [1] } } });
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(server.requests[0]).toMatchObject({ method: "POST", url: "/webcall/sessions/s/events" });
    expect(server.requests[0]!.headers).toMatchObject({ host: `rebind.invalid:${port}`, authorization: "Bearer x", "content-type": "application/json" });
    client.close();
  });

  it("does not follow redirects", async () => {
    const server = await serve((_req, res) => { res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" }); res.end(); });
    const client = new OutboundHttp(outboundConfig({ allowHttp: true, allowPrivateNetworks: true }));
    const error = await refusal(client.postJson(`${server.url}/x`, {}));
    expect(error).toMatchObject({ code: "http_status", status: 302 });
    expect(server.requests).toHaveLength(1);
    client.close();
  });

  it("reports other statuses with Retry-After", async () => {
    const server = await serve((_req, res) => { res.writeHead(503, { "retry-after": "2" }); res.end("busy"); });
    const client = new OutboundHttp(outboundConfig({ allowHttp: true, allowPrivateNetworks: true }));
    expect(await refusal(client.request(server.url))).toMatchObject({ code: "http_status", status: 503, retryAfterMs: 2000 });
    client.close();
  });

  it("refuses responses over maxResponseBytes, declared or streamed", async () => {
    const declared = await serve((_req, res) => { res.writeHead(200, { "content-length": "5000" }); res.end("x".repeat(5000)); });
    const streamed = await serve((_req, res) => {
      res.writeHead(200);
      let n = 0;
      const timer = setInterval(() => { res.write("x".repeat(512)); if (++n === 10) { clearInterval(timer); res.end(); } }, 5);
    });
    const client = new OutboundHttp(outboundConfig({ allowHttp: true, allowPrivateNetworks: true, maxResponseBytes: 1024 }));
    expect((await refusal(client.request(declared.url))).code).toBe("too_large");
    expect((await refusal(client.request(streamed.url))).code).toBe("too_large");
    client.close();
  });

  it("times out a slow server", async () => {
    const server = await serve(() => { /* never answers */ });
    const client = new OutboundHttp(outboundConfig({ allowHttp: true, allowPrivateNetworks: true, timeoutMs: 300 }));
    const started = Date.now();
    expect((await refusal(client.request(server.url))).code).toBe("timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2000);
    client.close();
  });

  it("times out slow DNS", async () => {
    const client = new OutboundHttp(outboundConfig({ timeoutMs: 200 }), { resolve: () => new Promise(() => undefined) });
    expect((await refusal(client.request("https://slow.example/"))).code).toBe("timeout");
    client.close();
  });

  it("reports a refused connection as a network error", async () => {
    const server = await serve(() => undefined);
    const url = server.url;
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
    const client = new OutboundHttp(outboundConfig({ allowHttp: true, allowPrivateNetworks: true }));
    expect((await refusal(client.request(url))).code).toBe("network");
    client.close();
  });
});
